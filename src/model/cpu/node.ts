// Loads the built core (src/gen/core.wasm, from `npm run build:wasm`) in Node: tests, the CLI, benchmarks.
import { readFile } from 'node:fs/promises';
import { instantiateCore, type Core } from './core';

let compiled: Promise<WebAssembly.Module> | undefined;

/** A fresh core instance (its own memory); the module is compiled once per process. */
export async function loadCore(): Promise<Core> {
  compiled ??= readFile(new URL('../../gen/core.wasm', import.meta.url)).then(
    (bytes) => WebAssembly.compile(bytes),
    (err: NodeJS.ErrnoException) => {
      compiled = undefined;
      throw new Error(`cannot read src/gen/core.wasm (run \`npm run build:wasm\`): ${err.message}`);
    },
  );
  return instantiateCore(await compiled);
}
