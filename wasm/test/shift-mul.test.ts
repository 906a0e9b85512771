// Shifts and rotates, MUL/IMUL/DIV/IDIV, bit scan and bit test: results and flags against references
// written from the SDM, with the flags it leaves undefined set as this AMD EPYC sets them (measured
// natively: shifts set AF; MUL/IMUL keep SF/ZF/AF/PF; DIV sets AF and clears SF/ZF/PF; BSF/BSR clear
// CF/OF/SF/AF).
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fcParams } from './support/seed';
import * as abi from '../src/abi';
import type { Core } from '../../src/model/cpu/core';
import { machine, step, load, exitInfo, hex } from '../../src/model/cpu/testkit';

const CF = 1n, PF = 4n, AF = 0x10n, ZF = 0x40n, SF = 0x80n, OF = 0x800n;
const ARITH = CF | PF | AF | ZF | SF | OF;
type Size = 8 | 16 | 32 | 64;
const SIZES: Size[] = [8, 16, 32, 64];
const mask = (n: number) => (1n << BigInt(n)) - 1n;
const bit = (v: bigint, i: number) => (v >> BigInt(i)) & 1n;
const parity = (v: bigint) => { let x = Number(v & 0xffn), c = 0; while (x) { c += x & 1; x >>= 1; } return c % 2 ? 0n : PF; };
const szp = (r: bigint, n: number) => (r === 0n ? ZF : 0n) | (bit(r, n - 1) ? SF : 0n) | parity(r);
const merge = (old: bigint, v: bigint, n: Size) => (n === 32 ? v & mask(32) : (old & ~mask(n)) | (v & mask(n)));
const prefix = (n: Size) => (n === 16 ? [0x66] : n === 64 ? [0x48] : []);
const u64 = fc.bigInt({ min: 0n, max: mask(64) });
const flagsIn = fc.bigInt({ min: 0n, max: ARITH }).map((f) => (f & ARITH) | 2n);

/** Group-2 operation k (ROL ROR RCL RCR SHL SHR SAL SAR) of width n by count (already masked). */
function refShift(k: number, n: number, a0: bigint, count: number, fin: bigint): { r: bigint; f: bigint } {
  const a = a0 & mask(n), keep = fin & ARITH;
  if (count === 0) return { r: a, f: keep };
  const N = BigInt(n);
  const withCfOf = (r: bigint, cf: bigint, of: bigint) => ({ r, f: (keep & ~(CF | OF)) | (cf ? CF : 0n) | (of ? OF : 0n) });
  switch (k) {
    case 0: { const c = BigInt(count % n); const r = ((a << c) | (a >> ((N - c) % N))) & mask(n); return withCfOf(r, r & 1n, bit(r, n - 1) ^ (r & 1n)); }
    case 1: { const c = BigInt(count % n); const r = ((a >> c) | (a << ((N - c) % N))) & mask(n); return withCfOf(r, bit(r, n - 1), bit(r, n - 1) ^ bit(r, n - 2)); }
    case 2: case 3: { // through CF: an n+1-bit rotation
      const c = BigInt(count % (n + 1)), W = N + 1n, v = a | ((fin & CF) << N);
      const rot = k === 2 ? ((v << c) | (v >> ((W - c) % W))) & mask(n + 1) : ((v >> c) | (v << ((W - c) % W))) & mask(n + 1);
      const r = rot & mask(n), cf = rot >> N;
      return withCfOf(r, cf, k === 2 ? bit(r, n - 1) ^ cf : bit(r, n - 1) ^ bit(r, n - 2));
    }
    case 5: { const r = count < n ? a >> BigInt(count) : 0n; const cf = count <= n ? bit(a, count - 1) : 0n; return { r, f: szp(r, n) | AF | (cf ? CF : 0n) | (bit(r, n - 1) ^ bit(r, n - 2) ? OF : 0n) }; }
    case 7: { const s = BigInt.asIntN(n, a); const r = BigInt.asUintN(n, s >> BigInt(Math.min(count, 63))); const cf = bit(BigInt.asUintN(64, s >> BigInt(Math.min(count - 1, n - 1))), 0); return { r, f: szp(r, n) | AF | (cf ? CF : 0n) }; }
    default: { const r = count < n ? (a << BigInt(count)) & mask(n) : 0n; const cf = count <= n ? bit(a, n - count) : 0n; return { r, f: szp(r, n) | AF | (cf ? CF : 0n) | (bit(r, n - 1) ^ cf ? OF : 0n) }; }
  }
}

describe('shifts and rotates', () => {
  let core: Core;
  beforeAll(async () => { core = await machine(); });

  it('every group-2 operation by CL, at every width, matches the reference', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 7 }), fc.constantFrom(...SIZES), u64, fc.integer({ min: 0, max: 255 }), flagsIn, (k, n, a, cl, fl) => {
      // d2/d3 /k with ModRM C0+k<<3: op al|ax|eax|rax, cl
      const out = step(core, [...prefix(n), n === 8 ? 0xd2 : 0xd3, 0xc0 | (k << 3)], { rax: a, rcx: BigInt(cl), rflags: fl });
      const { r, f } = refShift(k, n, a, cl & (n === 64 ? 63 : 31), fl);
      expect(out.rax).toBe(merge(a, r, n));
      expect(out.rflags & ARITH).toBe(f);
    }), fcParams(400));
  });

  it('immediate and by-one forms, and a memory operand', () => {
    // 48 c1 d8 05   ; rcr rax, 5
    let out = step(core, hex`48 c1 d8 05`, { rax: 0x21n, rflags: 3n });
    expect(out.rax).toBe(refShift(3, 64, 0x21n, 5, 1n).r);
    // d1 e0         ; shl eax, 1
    out = step(core, hex`d1 e0`, { rax: 0x80000001n });
    expect(out.rax).toBe(2n);
    expect(out.rflags & (CF | OF)).toBe(CF | OF);
    core.writeU64(0x2000, 0x8000_0000_0000_0000n);
    // 48 d1 3b      ; sar qword [rbx], 1
    step(core, hex`48 d1 3b`, { rbx: 0x2000n });
    expect(core.readU64(0x2000)).toBe(0xc000_0000_0000_0000n);
  });
});

describe('multiply and divide', () => {
  let core: Core;
  beforeAll(async () => { core = await machine(); });

  it('MUL and IMUL (one operand): the double-width product, CF = OF = it did not fit, other flags kept', () => {
    fc.assert(fc.property(fc.constantFrom(...SIZES), fc.boolean(), u64, u64, flagsIn, (n, signed, a, b, fl) => {
      // f6/f7 /4 (mul) or /5 (imul) with rcx: ModRM e1 / e9
      const out = step(core, [...prefix(n), n === 8 ? 0xf6 : 0xf7, signed ? 0xe9 : 0xe1], { rax: a, rcx: b, rdx: 0x5555n, rflags: fl });
      const x = signed ? BigInt.asIntN(n, a) : a & mask(n), y = signed ? BigInt.asIntN(n, b) : b & mask(n);
      const p = BigInt.asUintN(2 * n, x * y);
      const lo = p & mask(n), hi = p >> BigInt(n);
      const fits = signed ? BigInt.asIntN(n, lo) === x * y : hi === 0n;
      if (n === 8) expect(out.rax).toBe((a & ~0xffffn) | p);
      else { expect(out.rax).toBe(merge(a, lo, n)); expect(out.rdx).toBe(merge(0x5555n, hi, n)); }
      expect(out.rflags & ARITH).toBe((fl & (PF | AF | ZF | SF)) | (fits ? 0n : CF | OF));
    }), fcParams(300));
  });

  it('IMUL with two and three operands truncates and flags overflow', () => {
    fc.assert(fc.property(fc.constantFrom<Size>(16, 32, 64), u64, u64, (n, a, b) => {
      // 0f af c1 ; imul eax, ecx (with 66/48)
      const out = step(core, [...prefix(n), 0x0f, 0xaf, 0xc1], { rax: a, rcx: b });
      const prod = BigInt.asIntN(n, a) * BigInt.asIntN(n, b);
      expect(out.rax).toBe(merge(a, BigInt.asUintN(n, prod), n));
      expect((out.rflags & OF) !== 0n).toBe(BigInt.asIntN(n, prod) !== prod);
    }), fcParams(200));
    // 48 6b c1 fd ; imul rax, rcx, -3
    expect(step(core, hex`48 6b c1 fd`, { rcx: 7n }).rax).toBe(BigInt.asUintN(64, -21n));
  });

  it('DIV and IDIV: quotient and remainder; AF set, SF/ZF/PF clear, CF/OF kept', () => {
    fc.assert(fc.property(fc.constantFrom(...SIZES), fc.boolean(), u64, u64, u64, flagsIn, (n, signed, lo, hi, d0, fl) => {
      const d = (d0 & mask(n)) || 3n;
      const dividend = n === 8 ? lo & 0xffffn : ((hi & mask(n)) << BigInt(n)) | (lo & mask(n));
      const x = signed ? BigInt.asIntN(2 * n, dividend) : dividend, y = signed ? BigInt.asIntN(n, d) : d;
      const q = x / y, r = x % y; // BigInt division truncates toward zero, as IDIV does
      const fits = signed ? BigInt.asIntN(n, q) === q : q <= mask(n);
      fc.pre(fits);
      // f6/f7 /6 (div) or /7 (idiv) with rcx: ModRM f1 / f9
      const out = step(core, [...prefix(n), n === 8 ? 0xf6 : 0xf7, signed ? 0xf9 : 0xf1], { rax: lo, rdx: hi, rcx: d, rflags: fl });
      if (n === 8) expect(out.rax & 0xffffn).toBe((BigInt.asUintN(8, q)) | (BigInt.asUintN(8, r) << 8n));
      else { expect(out.rax).toBe(merge(lo, BigInt.asUintN(n, q), n)); expect(out.rdx).toBe(merge(hi, BigInt.asUintN(n, r), n)); }
      expect(out.rflags & ARITH).toBe((fl & (CF | OF)) | AF);
    }), fcParams(300));
  });

  it('#DE for a zero divisor and for a quotient that does not fit, with nothing changed', () => {
    const cases: [number[], Record<string, bigint>][] = [
      [hex`f7 f1`, { rax: 1n, rdx: 0n, rcx: 0n }], //                 div ecx (by 0)
      [hex`f6 f1`, { rax: 0x1000n, rcx: 0x10n }], //                   div cl (0x100 does not fit)
      [hex`48 f7 f9`, { rax: 0n, rdx: 1n << 63n, rcx: (1n << 64n) - 1n }], // idiv rcx: -2^127 / -1
      [hex`48 f7 f1`, { rax: 0n, rdx: 5n, rcx: 5n }], //               div rcx: RDX >= divisor
    ];
    for (const [code, regs] of cases) {
      load(core, [...code, 0xf4]);
      core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.DE_VECTOR);
      for (const [k, v] of Object.entries(regs)) core.setReg(0, k as 'rax', v);
      expect(core.run(0, 1000)).toBe(abi.RUN_EXIT);
      const x = exitInfo(core);
      expect(x.reason, code.join(' ')).toBe(abi.EXIT_REASON_EXCEPTION_NMI);
      expect(x.intrInfo).toBe((abi.INTR_INFO_VALID | (abi.INTR_TYPE_HARD_EXCEPTION << 8) | abi.DE_VECTOR) >>> 0);
      expect(core.reg(0, 'rip')).toBe(0x1000n);
      expect(core.reg(0, 'rax')).toBe(regs.rax);
      core.setU32(0, abi.S_EXCEPTION_BITMAP, 0);
    }
  });
});

describe('bit scan and bit test', () => {
  let core: Core;
  beforeAll(async () => { core = await machine(); });

  it('BSF/BSR: index of the lowest/highest set bit; ZF and the destination kept for a zero source', () => {
    fc.assert(fc.property(fc.constantFrom<Size>(16, 32, 64), fc.boolean(), u64, u64, (n, rev, a, s0) => {
      const s = s0 & mask(n);
      // 0f bc c1 / 0f bd c1 ; bsf/bsr eax, ecx (with 66/48)
      const out = step(core, [...prefix(n), 0x0f, rev ? 0xbd : 0xbc, 0xc1], { rax: a, rcx: s0 });
      if (s === 0n) {
        expect(out.rax).toBe(a);
        expect(out.rflags & ARITH).toBe(ZF | PF);
      } else {
        const bits = s.toString(2);
        const i = BigInt(rev ? bits.length - 1 : bits.length - 1 - bits.lastIndexOf('1'));
        expect(out.rax).toBe(merge(a, i, n));
        expect(out.rflags & ARITH).toBe(parity(i));
      }
    }), fcParams(200));
  });

  it('BT/BTS/BTR/BTC: CF = the bit; a register offset reaches outside a memory operand', () => {
    // 0f a3 c8 ; bt eax, ecx (offset 35 → bit 3)
    let out = step(core, hex`0f a3 c8`, { rax: 8n, rcx: 35n, rflags: 0x8d6n });
    expect(out.rflags & ARITH).toBe(0x8d5n); // only CF changes
    core.writeU64(0x2000, 0n);
    core.writeU64(0x2008, 0n);
    // 48 0f ab 0b ; bts qword [rbx], rcx (offset 65 → the next qword, bit 1)
    step(core, hex`48 0f ab 0b`, { rbx: 0x2000n, rcx: 65n });
    expect(core.readU64(0x2008)).toBe(2n);
    // 48 0f ab 0b with a negative offset: -1 → the qword before, bit 63
    core.writeU64(0x1ff8, 0n);
    step(core, hex`48 0f ab 0b`, { rbx: 0x2000n, rcx: (1n << 64n) - 1n });
    expect(core.readU64(0x1ff8)).toBe(1n << 63n);
    // 0f ba 33 21 ; btr dword [rbx], 33 (immediate offsets wrap within the operand: bit 1)
    core.writeU64(0x2000, 0xffn);
    out = step(core, hex`0f ba 33 21`, { rbx: 0x2000n });
    expect(core.readU64(0x2000)).toBe(0xfdn);
    expect(out.rflags & CF).toBe(CF);
  });
});
