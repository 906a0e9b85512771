// Fast access to the core's per-vCPU state blocks for the exit path: one Uint32Array over the wasm
// memory (made after Core.init, the only place the memory grows), numbers instead of BigInts. Core's DataView accessors stay for everything cold; these are for
// what runs on every exit (RIP, RFLAGS, the TSC, exit information, VM-entry fields).
import * as abi from '../../../wasm/src/abi';
import type { Core } from '../cpu/core';

const TWO32 = 4294967296;

export class Hw {
  /** The wasm memory as words: with `at`, a caller reading several fields of one block pays one call (V8's inlining budget counts each). */
  readonly u32: Uint32Array;
  private readonly u8: Uint8Array;
  private readonly invalidateCode: (gpa: number, len: number) => void;

  constructor(core: Core) {
    this.u32 = new Uint32Array(core.x.memory.buffer);
    this.u8 = new Uint8Array(core.x.memory.buffer);
    this.invalidateCode = core.x.invalidateCode;
  }

  /** A byte of guest RAM (the caller checked the GPA), for KVM's accesses to guest memory on the entry path. */
  ramByte(gpa: number): number {
    return this.u8[abi.RAM_BASE + gpa];
  }
  /** Writes it as the host: decoded code and armed monitors on that line see the write. */
  setRamByte(gpa: number, v: number): void {
    this.u8[abi.RAM_BASE + gpa] = v;
    this.invalidateCode(gpa, 1);
  }

  /** The word index in `u32` of field `off` of vCPU `vcpu`'s state block. */
  at(vcpu: number, off: number): number {
    return (abi.STATE_BASE + vcpu * abi.STATE_STRIDE + off) >>> 2;
  }

  r32(vcpu: number, off: number): number {
    return this.u32[this.at(vcpu, off)];
  }
  w32(vcpu: number, off: number, v: number): void {
    this.u32[this.at(vcpu, off)] = v;
  }

  /** A u64 field as a BigInt (one allocation when the high word is 0). */
  r64(vcpu: number, off: number): bigint {
    const k = this.at(vcpu, off);
    const hi = this.u32[k + 1];
    return hi === 0 ? BigInt(this.u32[k]) : (BigInt(hi) << 32n) | BigInt(this.u32[k]);
  }


  /** A u64 field whose value stays below 2^53 (the TSC, counters, exit qualifications). */
  rnum(vcpu: number, off: number): number {
    const k = this.at(vcpu, off);
    return this.u32[k] + this.u32[k + 1] * TWO32;
  }
  wnum(vcpu: number, off: number, v: number): void {
    const k = this.at(vcpu, off);
    this.u32[k] = v; // the store keeps v mod 2^32 (ToUint32)
    this.u32[k + 1] = v / TWO32;
  }

  /** Adds a small non-negative amount to a u64 field (RIP += length), carrying into the high word. */
  add64(vcpu: number, off: number, d: number): void {
    const k = this.at(vcpu, off);
    const lo = this.u32[k] + d;
    this.u32[k] = lo; // mod 2^32
    if (lo >= TWO32) this.u32[k + 1] = (this.u32[k + 1] + 1) >>> 0;
  }
}
