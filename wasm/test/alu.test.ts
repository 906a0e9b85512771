// The eight ALU operations, TEST, INC/DEC/NEG/NOT: results and all six arithmetic flags, against a
// reference written from the SDM's definitions (BigInt, independent of the core's lazy flags).
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fcParams } from './support/seed';
import type { Core } from '../../src/model/cpu/core';
import { machine, step, hex } from '../../src/model/cpu/testkit';

const CF = 1n, PF = 4n, AF = 0x10n, ZF = 0x40n, SF = 0x80n, OF = 0x800n;
const ARITH = CF | PF | AF | ZF | SF | OF;
const SIZES = [8, 16, 32, 64] as const;
type Size = (typeof SIZES)[number];
const mask = (n: Size) => (1n << BigInt(n)) - 1n;
const sign = (v: bigint, n: Size) => (v >> BigInt(n - 1)) & 1n;
const parity = (v: bigint) => { let x = Number(v & 0xffn), c = 0; while (x) { c += x & 1; x >>= 1; } return c % 2 ? 0n : PF; };

/** Result and flags of an ALU operation (k = ModRM.reg of 80..83, 8 = TEST), per the SDM. */
function refAlu(k: number, n: Size, a0: bigint, b0: bigint, cfIn: bigint): { r: bigint; f: bigint } {
  const M = mask(n), a = a0 & M, b = b0 & M;
  let r: bigint, cf = 0n, of = 0n, af = 0n;
  const add = (c: bigint) => { r = (a + b + c) & M; cf = a + b + c > M ? 1n : 0n; of = sign(a, n) === sign(b, n) && sign(r, n) !== sign(a, n) ? 1n : 0n; af = (a ^ b ^ r) & 0x10n ? 1n : 0n; };
  const sub = (c: bigint) => { r = (a - b - c) & M; cf = a < b + c ? 1n : 0n; of = sign(a, n) !== sign(b, n) && sign(r, n) !== sign(a, n) ? 1n : 0n; af = (a ^ b ^ r) & 0x10n ? 1n : 0n; };
  switch (k) {
    case 0: add(0n); break;
    case 1: r = a | b; break;
    case 2: add(cfIn); break;
    case 3: sub(cfIn); break;
    case 4: case 8: r = a & b; break;
    case 5: case 7: sub(0n); break;
    default: r = a ^ b;
  }
  r = r!;
  const f = (cf ? CF : 0n) | parity(r) | (af ? AF : 0n) | (r === 0n ? ZF : 0n) | (sign(r, n) ? SF : 0n) | (of ? OF : 0n);
  return { r, f };
}

/** `op rax-sized, rcx-sized` in the Ev,Gv (or Eb,Gb) encoding, ModRM C8. */
function aluRR(k: number, n: Size): number[] {
  const op = k === 8 ? 0x84 : k * 8;
  const pre = n === 16 ? [0x66] : n === 64 ? [0x48] : [];
  return [...pre, n === 8 ? op : op + 1, 0xc8];
}

/** Writes the register of size n into the low bits of a 64-bit value, as the CPU does. */
function merge(old: bigint, v: bigint, n: Size): bigint {
  if (n === 32) return v & mask(32);
  return (old & ~mask(n)) | (v & mask(n));
}

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const interesting = fc.oneof(u64, fc.constantFrom(0n, 1n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n));
const flagsIn = fc.bigInt({ min: 0n, max: ARITH }).map((f) => (f & ARITH) | 2n);

describe('ALU register forms', () => {
  let core: Core;
  beforeAll(async () => { core = await machine(); });

  for (const n of SIZES) {
    it(`ADD..CMP and TEST, ${n}-bit: results and flags match the SDM`, () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 8 }), interesting, interesting, flagsIn, (k, a, b, fl) => {
        const out = step(core, aluRR(k, n), { rax: a, rcx: b, rflags: fl });
        const { r, f } = refAlu(k, n, a, b, fl & CF);
        const writes = k !== 7 && k !== 8;
        expect(out.rax).toBe(writes ? merge(a, r, n) : a);
        expect(out.rcx).toBe(b);
        expect(out.rflags & ARITH).toBe(f);
      }), fcParams(250));
    });
  }

  it('imm8 forms sign-extend the immediate (83 /0, 83 /5)', () => {
    // 48 83 c0 ff   ; add rax, -1
    let out = step(core, hex`48 83 c0 ff`, { rax: 5n });
    expect(out.rax).toBe(4n);
    expect(out.rflags & CF).toBe(CF);
    // 83 e8 80      ; sub eax, -128
    out = step(core, hex`83 e8 80`, { rax: 0xffffffff_00000001n });
    expect(out.rax).toBe(0x81n);
  });

  it('accumulator-immediate forms (04, 3d, a8)', () => {
    // 04 7f          ; add al, 0x7f
    let out = step(core, hex`04 7f`, { rax: 0x101n });
    expect(out.rax).toBe(0x180n);
    expect(out.rflags & (OF | SF)).toBe(OF | SF);
    // 3d 00 00 00 80 ; cmp eax, 0x80000000
    out = step(core, hex`3d 00 00 00 80`, { rax: 0x80000000n });
    expect(out.rflags & ZF).toBe(ZF);
    // a8 01          ; test al, 1
    out = step(core, hex`a8 01`, { rax: 2n });
    expect(out.rflags & ZF).toBe(ZF);
  });

  it('memory forms read-modify-write and CMP/TEST leave memory alone', () => {
    core.writeU64(0x2000, 0x10n);
    // 48 01 0b       ; add [rbx], rcx
    step(core, hex`48 01 0b`, { rbx: 0x2000n, rcx: 5n });
    expect(core.readU64(0x2000)).toBe(0x15n);
    // 48 83 3b 15    ; cmp qword [rbx], 0x15
    let out = step(core, hex`48 83 3b 15`, { rbx: 0x2000n });
    expect(out.rflags & ZF).toBe(ZF);
    expect(core.readU64(0x2000)).toBe(0x15n);
    // 48 2b 03       ; sub rax, [rbx]
    out = step(core, hex`48 2b 03`, { rax: 0x20n, rbx: 0x2000n });
    expect(out.rax).toBe(0xbn);
    // f6 03 04       ; test byte [rbx], 4
    out = step(core, hex`f6 03 04`, { rbx: 0x2000n });
    expect(out.rflags & ZF).toBe(0n);
  });
});

describe('INC, DEC, NEG, NOT', () => {
  let core: Core;
  beforeAll(async () => { core = await machine(); });

  it('INC and DEC set OF/SF/ZF/AF/PF as ADD/SUB of 1 and keep CF', () => {
    fc.assert(fc.property(fc.constantFrom(...SIZES), interesting, flagsIn, fc.boolean(), (n, a, fl, dec) => {
      // fe c0 / ff c0 (inc), fe c8 / ff c8 (dec), with 66/48 for 16/64 bits
      const pre = n === 16 ? [0x66] : n === 64 ? [0x48] : [];
      const out = step(core, [...pre, n === 8 ? 0xfe : 0xff, dec ? 0xc8 : 0xc0], { rax: a, rflags: fl });
      const { r, f } = refAlu(dec ? 5 : 0, n, a, 1n, 0n);
      expect(out.rax).toBe(merge(a, r, n));
      expect(out.rflags & ARITH).toBe((f & ~CF) | (fl & CF));
    }), fcParams(300));
  });

  it('NEG is 0 - x (CF = x != 0) and NOT changes no flags', () => {
    fc.assert(fc.property(fc.constantFrom(...SIZES), interesting, flagsIn, (n, a, fl) => {
      const pre = n === 16 ? [0x66] : n === 64 ? [0x48] : [];
      const op = n === 8 ? 0xf6 : 0xf7;
      let out = step(core, [...pre, op, 0xd8], { rax: a, rflags: fl }); // neg
      const { r, f } = refAlu(5, n, 0n, a, 0n);
      expect(out.rax).toBe(merge(a, r, n));
      expect(out.rflags & ARITH).toBe(f);
      out = step(core, [...pre, op, 0xd0], { rax: a, rflags: fl }); // not
      expect(out.rax).toBe(merge(a, ~a, n));
      expect(out.rflags & ARITH).toBe(fl & ARITH);
    }), fcParams(200));
  });

  it('flags survive POPF/PUSHF round trips in every combination', () => {
    fc.assert(fc.property(flagsIn, (fl) => {
      // 9c 58          ; pushfq; pop rax
      const out = step(core, hex`9c 58`, { rflags: fl, rsp: 0x8000n });
      expect(out.rax & ARITH).toBe(fl & ARITH);
    }), fcParams(100));
  });
});
