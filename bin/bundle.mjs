// Loads one of the command's TypeScript entry points as a CommonJS bundle that esbuild makes and keeps
// in node_modules/.cache/exitscope, made again when any source it holds has changed (so a fresh clone
// needs no build step, and an edit is picked up on the next run).
//
// Why a bundle and not tsx's loader, which runs one ES module per file: Node 20's optimising compiler
// does not treat an ES module's top-level constants as constants, and the model's exit path reads
// many (the abi offsets, the frame and event codes). In a bundle whose modules are function-scoped
// (CommonJS) it does, and the HLT exit round trip runs 20-25 % faster (`npx exitscope bench`).
import { build } from 'esbuild';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cacheDir = path.join(root, 'node_modules', '.cache', 'exitscope');
const self = path.relative(root, fileURLToPath(import.meta.url));

/** The exports of `entry` (a path from the project's root, e.g. 'src/cli/main.ts'), bundled. */
export async function loadBundled(entry) {
  const out = path.join(cacheDir, `${entry.replace(/[^\w]+/g, '_')}.cjs`);
  const inputsFile = `${out}.inputs.json`;
  if (!(await upToDate(inputsFile))) await bundle(entry, out, inputsFile);
  return createRequire(import.meta.url)(out);
}

/** Whether every input of the last bundle (and this file) has the modification time it had then. */
async function upToDate(inputsFile) {
  try {
    const inputs = JSON.parse(await readFile(inputsFile, 'utf8'));
    for (const [file, mtime] of Object.entries(inputs)) if ((await stat(path.join(root, file))).mtimeMs !== mtime) return false;
    return true;
  } catch {
    return false;
  }
}

async function bundle(entry, out, inputsFile) {
  const r = await build({
    absWorkingDir: root, entryPoints: [entry], bundle: true, write: false, metafile: true,
    format: 'cjs', platform: 'node', target: 'node20', packages: 'external', sourcemap: 'inline',
    logLevel: 'error', plugins: [importMetaUrl],
  });
  const inputs = { [self]: (await stat(path.join(root, self))).mtimeMs };
  for (const file of Object.keys(r.metafile.inputs)) inputs[file] = (await stat(path.join(root, file))).mtimeMs;
  await mkdir(cacheDir, { recursive: true });
  // Written aside and renamed, so concurrent runs (tests, bench workers) never read half a bundle.
  const tmp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, r.outputFiles[0].contents);
  await rename(tmp, out);
  await writeFile(`${tmp}.json`, JSON.stringify(inputs));
  await rename(`${tmp}.json`, inputsFile);
}

/** Each module's `import.meta.url` stays its own source file's URL (the core's .wasm, the bench worker are found from it). */
const importMetaUrl = {
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async ({ path: file }) => {
      const text = await readFile(file, 'utf8');
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(file).href)), loader: 'ts' };
    });
  },
};
