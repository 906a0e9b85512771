// Snapshots at operation boundaries, for Step back: the core's whole linear memory below the end of
// guest RAM (state blocks, MSR bitmaps, the core's own tables and decode cache, RAM) as its non-zero
// pages, and a deep copy of the kernel model's objects. Taken only when no vCPU thread is inside
// KVM_RUN, so no suspended kernel call has to be copied.
import * as abi from '../../../wasm/src/abi';
import type { Core } from '../cpu/core';
import type { Kvm } from '../kvm/kvm_host';
import type { Host } from '../kvm/host';

const PAGE = 4096;
const KVM_MARKER = Object.freeze({ kvm: 'the VM' });

export interface Snapshot {
  /** Non-zero 4 KiB pages of linear memory [0, RAM_BASE + RAM), by page number. */
  readonly pages: Map<number, Uint8Array>;
  readonly kvm: Record<string, unknown>;
  /** The VM it was taken from, and each copied object's original: restored into that VM, the originals get their state back. */
  readonly from: Kvm;
  readonly originals: Map<unknown, unknown>;
  readonly threads: Record<string, unknown>[];
  readonly sim: Record<string, unknown>;
}

/** Objects shared by reference, never copied: the hardware, the host, the immutable configuration. */
function sharedOf(kvm: Kvm): Set<unknown> {
  return new Set<unknown>([kvm.core, kvm.hw, kvm.host, kvm.events, kvm.variant, kvm.params]);
}

/**
 * A deep copy that keeps prototypes, Maps, typed arrays and shared structure (cycles included).
 * `memo` maps originals to their copies; entries put there beforehand redirect references.
 */
function deepCopy<T>(v: T, memo: Map<unknown, unknown>, shared: Set<unknown>): T {
  if (v === null || typeof v !== 'object' || shared.has(v)) return v;
  if (memo.has(v)) return memo.get(v) as T;
  if (ArrayBuffer.isView(v)) {
    // A view is rebuilt over a copy of its buffer, so views that shared a buffer still do.
    let buf = memo.get(v.buffer) as ArrayBuffer | undefined;
    if (!buf) memo.set(v.buffer, (buf = (v.buffer as ArrayBuffer).slice(0)));
    const Ctor = v.constructor as new (b: ArrayBuffer, off: number, len: number) => ArrayBufferView;
    const len = v instanceof DataView ? v.byteLength : (v as unknown as Uint8Array).length;
    const c = new Ctor(buf, v.byteOffset, len);
    memo.set(v, c);
    return c as unknown as T;
  }
  if (v instanceof Map) {
    const c = new Map();
    memo.set(v, c);
    for (const [k, x] of v) c.set(deepCopy(k, memo, shared), deepCopy(x, memo, shared));
    return c as unknown as T;
  }
  if (Array.isArray(v)) {
    const c: unknown[] = [];
    memo.set(v, c);
    for (const x of v) c.push(deepCopy(x, memo, shared));
    return c as unknown as T;
  }
  // A spread copies the object's layout in one go (V8's object clone), so the copy keeps fast
  // properties; adding them one by one turns an object with many fields (a vCPU) into a hash table,
  // and every exit after a restore pays for it. Existing fields are then replaced in place.
  const c = { ...(v as Record<string, unknown>) };
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype) Object.setPrototypeOf(c, proto);
  memo.set(v, c);
  for (const k of Object.keys(c)) c[k] = deepCopy(c[k], memo, shared);
  return c as T;
}

/** Fields of a thread worth keeping when it is not inside KVM_RUN. */
const THREAD_FIELDS = ['irqAt', 'irqVector', 'signal', 'activity', 'runStart', 'enteredAt', 'sliceEnd'] as const;

export function captureSnapshot(core: Core, kvm: Kvm, sim: Record<string, unknown>): Snapshot {
  const end = abi.RAM_BASE + core.ramBytes;
  const mem = new Uint8Array(core.x.memory.buffer, 0, end);
  const pages = new Map<number, Uint8Array>();
  const words = new Uint32Array(core.x.memory.buffer, 0, end >> 2);
  for (let p = 0; p < end / PAGE; p++) {
    const w0 = (p * PAGE) >> 2;
    for (let i = 0; i < PAGE >> 2; i++) {
      if (words[w0 + i]) {
        pages.set(p, mem.slice(p * PAGE, (p + 1) * PAGE));
        break;
      }
    }
  }
  // References to the VM itself (vcpu->kvm) become a marker, pointed back at the live VM on restore.
  const memo = new Map<unknown, unknown>([[kvm, KVM_MARKER]]);
  const { core: _c, hw: _h, host: _o, events: _e, variant: _v, params: _p, rec: _r, ...state } = kvm;
  const kvmCopy = deepCopy(state as Record<string, unknown>, memo, sharedOf(kvm));
  const host = kvm.host as Host;
  const threads = host.threads.map((t) => Object.fromEntries(THREAD_FIELDS.map((k) => [k, t[k]])));
  const simCopy = {
    ...sim,
    fds: new Map(sim.fds as Map<string, number>),
    returns: (sim.returns as number[]).slice(),
    lastRet: (sim.lastRet as number[]).slice(),
    lastFrames: (sim.lastFrames as unknown[]).slice(),
    stepsCopy: (sim.stepsCopy as unknown[]).slice(),
  };
  const originals = new Map<unknown, unknown>();
  for (const [orig, copy] of memo) originals.set(copy, orig); // the marker's original is the VM
  return { pages, kvm: kvmCopy, from: kvm, originals, threads, sim: simCopy };
}

/**
 * Writes a copied value back into its original object (and so on down), keeping every object's
 * identity and V8 layout: code that ran before the restore stays as fast after it.
 */
function restoreInto(c: unknown, originals: Map<unknown, unknown>, done: Set<unknown>): unknown {
  if (c === null || typeof c !== 'object') return c;
  const o = originals.get(c);
  if (o === undefined) return c; // shared, never copied
  if (done.has(o)) return o;
  done.add(o);
  const back = (x: unknown) => restoreInto(x, originals, done);
  if (ArrayBuffer.isView(c)) {
    const ov = o as ArrayBufferView;
    new Uint8Array(ov.buffer, ov.byteOffset, ov.byteLength).set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
  } else if (c instanceof Map) {
    const m = o as Map<unknown, unknown>;
    m.clear();
    for (const [k, x] of c) m.set(back(k), back(x));
  } else if (Array.isArray(c)) {
    const a = o as unknown[];
    a.length = c.length;
    for (let i = 0; i < c.length; i++) a[i] = back(c[i]);
  } else if (!Object.isFrozen(o)) {
    const r = o as Record<string, unknown>, cr = c as Record<string, unknown>;
    // Only what changed: V8 compiles fields never written since construction as constants, and a
    // write (even of the same value) would throw that code away.
    for (const k of Object.keys(cr)) {
      const x = back(cr[k]);
      if (r[k] !== x) r[k] = x;
    }
  }
  return o;
}

/** Puts the snapshot back into the same core and VM objects; returns the simulator's own fields. */
export function restoreSnapshot(core: Core, kvm: Kvm, s: Snapshot): Record<string, unknown> {
  const end = abi.RAM_BASE + core.ramBytes;
  const mem = new Uint8Array(core.x.memory.buffer, 0, end);
  mem.fill(0);
  for (const [p, bytes] of s.pages) mem.set(bytes, p * PAGE);
  if (s.from === kvm) {
    const done = new Set<unknown>([kvm]); // its fields are restored here, not from the marker
    const live = kvm as unknown as Record<string, unknown>;
    for (const k of Object.keys(s.kvm)) {
      const x = restoreInto(s.kvm[k], s.originals, done);
      if (live[k] !== x) live[k] = x;
    }
  } else {
    // Another VM: a fresh copy (the snapshot stays reusable) whose marker references lead to the live VM.
    Object.assign(kvm, deepCopy(s.kvm, new Map<unknown, unknown>([[KVM_MARKER, kvm]]), sharedOf(kvm)));
  }
  (kvm.host as Host).restoreThreads(s.threads);
  return {
    ...s.sim,
    fds: new Map(s.sim.fds as Map<string, number>),
    returns: (s.sim.returns as number[]).slice(),
    lastRet: (s.sim.lastRet as number[]).slice(),
    lastFrames: (s.sim.lastFrames as unknown[]).slice(),
  };
}
