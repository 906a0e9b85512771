// The one place that loads iced-x86. In the browser it is a 244 KB-gzip wasm that must not block
// first paint, so it is imported lazily; the bundler splits it into its own chunk from here
// (scripts/vite-plugin-iced.ts turns the package into an ES module that fetches its wasm). In Node
// the package loads synchronously, but the API stays asynchronous so both hosts share it.
// Every other module of the assembler imports only iced-x86's types.
import type * as IcedModule from 'iced-x86';

export type Iced = typeof IcedModule;

let loading: Promise<Iced> | undefined;

/** Loads iced-x86 once; later calls share the same promise. */
export function loadIced(): Promise<Iced> {
  loading ??= import('iced-x86').then((m) => m as Iced);
  return loading;
}
