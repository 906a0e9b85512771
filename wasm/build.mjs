// Builds src/gen/core.wasm from wasm/src/core.ts with asc. Skips the build when the output is newer
// than every source (npm test and npm start call it each time).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'wasm', 'src');
const out = join(root, 'src', 'gen', 'core.wasm');
const force = process.argv.includes('--force');

const newest = Math.max(...readdirSync(srcDir).map((f) => statSync(join(srcDir, f)).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
if (!force && existsSync(out) && statSync(out).mtimeMs > newest) process.exit(0);

mkdirSync(dirname(out), { recursive: true });
const args = [
  join(srcDir, 'core.ts'), '-o', out, '-t', out.replace(/\.wasm$/, '.wat'),
  // Static data goes after the MSR bitmaps (wasm/src/layout.ts DATA_BASE), clear of the ABI areas.
  '-O3', '--noAssert', '--runtime', 'stub', '--initialMemory', '256', '--memoryBase', String(0x18000),
  // Compiled hot loops (wasm/src/jit.ts) go into a function table the host provides and can grow.
  '--importTable',
  '--config', join(root, 'wasm', 'asconfig.json'),
];
execFileSync(process.execPath, [join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js'), ...args], { stdio: 'inherit' });

// The core keeps everything at fixed addresses: a runtime allocation (an array literal, a string)
// would hand out memory from the end of the static data, where the core's tables live.
const wat = readFileSync(out.replace(/\.wasm$/, '.wat'), 'utf8');
const alloc = wat.match(/call \$~lib\/rt\/[\w/]+/);
if (alloc) {
  rmSync(out);
  console.error(`core.wasm must not allocate, but it calls ${alloc[0].slice(5)}`);
  process.exit(1);
}
