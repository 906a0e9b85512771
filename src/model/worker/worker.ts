/// <reference lib="webworker" />
// The simulation worker: owns one Session (a Simulator and the moves that led to its state) and
// answers the page's requests (protocol.ts). Long runs go in slices of a few milliseconds with the
// message loop in between, so Pause is answered at once; events go out in batches. Any exception
// is reported as `crashed` and the worker stops answering: the page restarts it.
import coreUrl from '../../gen/core.wasm?url';
import { instantiateCore } from '../cpu/core';
import { PROTOCOL_VERSION, type Reply, type Request } from './protocol';
import { Host } from './host';

declare const self: DedicatedWorkerGlobalScope;

let dead = false;

function post(r: Reply, transfer: Transferable[] = []): void {
  if (!dead) self.postMessage(r, transfer);
}

function crash(e: unknown): void {
  if (dead) return;
  const err = e instanceof Error ? e : new Error(String(e));
  post({ type: 'crashed', message: `${err.name}: ${err.message}`, detail: err.stack });
  dead = true;
}

// The core is compiled once per worker; each Session instantiates its own copy (fresh memory).
let compiled: Promise<WebAssembly.Module> | null = null;
const newCore = async () => instantiateCore(await (compiled ??= WebAssembly.compileStreaming(fetch(coreUrl))));

const host = new Host({ post, crash, newCore, yieldNow: makeYield() });

// Attached before anything asynchronous, so no early message is lost (research/toolchain.md).
self.onmessage = (e: MessageEvent<Request>) => {
  if (!dead) host.receive(e.data);
};
self.addEventListener('unhandledrejection', (e) => {
  e.preventDefault();
  crash(e.reason);
});
self.addEventListener('error', (e) => {
  e.preventDefault();
  crash(e.error ?? e.message);
});
post({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: self.crossOriginIsolated });

/** Resolves after the worker's message loop has had a turn (faster than setTimeout's 4 ms clamp). */
function makeYield(): () => Promise<void> {
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  channel.port2.onmessage = () => waiting.shift()?.();
  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      channel.port1.postMessage(null);
    });
}
