// bin/bundle.mjs: the command's bundle is made again when a source it holds changes, and each module's
// import.meta.url stays its own file's.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = `${root}node_modules/.cache/exitscope-bundle-test`;
const loadIn = (entry: string) => execFileSync(process.execPath, ['--input-type=module', '-e',
  `const m = await (await import(${JSON.stringify(pathToFileURL(`${root}bin/bundle.mjs`).href)})).loadBundled(${JSON.stringify(entry)}); console.log(JSON.stringify(m.value()));`],
{ encoding: 'utf8' });

describe('loadBundled', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('bundles an entry with its imports, and again after one of them changes', () => {
    mkdirSync(dir, { recursive: true });
    const entry = 'node_modules/.cache/exitscope-bundle-test/entry.ts';
    writeFileSync(`${dir}/entry.ts`, "import { n } from './dep';\nexport const value = () => ({ n, url: import.meta.url });\n");
    writeFileSync(`${dir}/dep.ts`, 'export const n: number = 1;\n');
    expect(JSON.parse(loadIn(entry))).toEqual({ n: 1, url: pathToFileURL(`${dir}/entry.ts`).href });
    writeFileSync(`${dir}/dep.ts`, 'export const n: number = 2;\n');
    const later = new Date(Date.now() + 5000);
    utimesSync(`${dir}/dep.ts`, later, later); // a different modification time even on a coarse clock
    expect(JSON.parse(loadIn(entry)).n).toBe(2);
  });
});
