// iced-x86 ships wasm-bindgen `--target nodejs` output: CommonJS that reads its .wasm with fs.
// For the browser this plugin rewrites that one file into an ES module that fetches the wasm,
// instantiates it with top-level await and re-exports every `module.exports.X`. Import it lazily
// (`await import(...)`) from an ES-format worker. Node (Vitest, the CLI) uses the package as is.
import type { Plugin } from 'vite';

const ICED_JS = /node_modules\/iced-x86\/iced_x86\.js$/;

export function icedX86Browser(): Plugin {
  return {
    name: 'exitscope:iced-x86-browser',
    enforce: 'pre',
    transform(code, id) {
      if (!ICED_JS.test(id.split('?')[0])) return null;
      const tail = code.indexOf("const path = require('path')");
      if (tail < 0) this.error('iced-x86: unexpected module layout (no wasm loader tail)');
      const body = code.slice(0, tail).replace('require(`util`)', 'globalThis');
      const names = new Set<string>();
      for (const m of body.matchAll(/^module\.exports\.(\w+)\s*=/gm)) {
        if (!m[1].startsWith('__wb')) names.add(m[1]);
      }
      const exports = [...names].map((n) => `export const ${n} = __m.exports.${n};`).join('\n');
      return {
        code: `import __wasmUrl from 'iced-x86/iced_x86_bg.wasm?url';
const __m = { exports: {} };
await (async (module) => {
${body}
const { instance } = await WebAssembly.instantiateStreaming(fetch(__wasmUrl), imports);
wasm = instance.exports;
module.exports.__wasm = wasm;
})(__m);
${exports}
export default __m.exports;
`,
        map: null,
      };
    },
  };
}
