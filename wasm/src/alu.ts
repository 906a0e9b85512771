// Arithmetic on values of operand width T (u8/u16/u32/u64), setting RFLAGS the way the SDM defines
// and, where it leaves flags undefined, the way this machine's AMD EPYC does (checked natively:
// logic ops clear AF; MUL/IMUL leave SF/ZF/AF/PF; DIV/IDIV set AF, clear SF/ZF/PF and leave CF/OF;
// shifts set AF; BSF/BSR clear CF/OF/SF/AF; BT* change only CF).
import {
  flagsAdd, flagsSub, flagsLogic, flagsShift, setCfOf, setArithFlags, getCF, getOF, bits, sx,
} from './flags';
import { K_ADD, K_OR, K_ADC, K_SBB, K_AND, K_SUB, K_XOR, K_TEST, K_BTS, K_BTR, K_BTC } from './ops';
import { X86_EFLAGS_ZF, X86_EFLAGS_PF, X86_EFLAGS_AF } from './abi';

@inline function msb<T>(v: T): u32 {
  return <u32>(<u64>v >> (bits<T>() - 1)) & 1;
}

/** The eight ALU operations and TEST (K_*): returns the result; CMP and TEST callers drop it. */
@inline export function alu<T>(k: i32, a: T, b: T): T {
  let r: T;
  switch (k) {
    case K_ADD: r = <T>(a + b); flagsAdd<T>(a, b, r); break;
    case K_OR: r = a | b; flagsLogic<T>(r); break;
    case K_ADC: r = <T>(a + b + <T>getCF()); flagsAdd<T>(a, b, r); break;
    case K_SBB: r = <T>(a - b - <T>getCF()); flagsSub<T>(a, b, r); break;
    case K_XOR: r = a ^ b; flagsLogic<T>(r); break;
    case K_SUB: r = <T>(a - b); flagsSub<T>(a, b, r); break;
    case K_AND: case K_TEST: r = a & b; flagsLogic<T>(r); break;
    default: r = <T>(a - b); flagsSub<T>(a, b, r); // K_CMP
  }
  return r;
}

/** NEG: 0 - a. */
@inline export function neg<T>(a: T): T {
  const r = <T>(<T>0 - a);
  flagsSub<T>(0, a, r);
  return r;
}

/** Group-2 shifts and rotates (k = ModRM.reg), count already masked to 5 or 6 bits. Count 0 changes nothing. */
export function shift<T>(k: i32, a: T, count: u32): T {
  if (count == 0) return a;
  const n = bits<T>();
  const v = <u64>a;
  switch (k) {
    case 0: { // ROL
      const c = count % n;
      const r = <T>((v << c) | (v >> ((n - c) % n)));
      const cf = <u32>r & 1;
      setCfOf(cf, msb<T>(r) ^ cf);
      return r;
    }
    case 1: { // ROR
      const c = count % n;
      const r = <T>((v >> c) | (v << ((n - c) % n)));
      setCfOf(msb<T>(r), msb<T>(r) ^ (<u32>(<u64>r >> (n - 2)) & 1));
      return r;
    }
    case 2: { // RCL: rotate through CF, n + 1 bits wide
      let cf = getCF(), r = v;
      for (let i: u32 = 0, c = count % (n + 1); i < c; i++) {
        const out = <u32>(r >> (n - 1)) & 1;
        r = <u64><T>((r << 1) | cf);
        cf = out;
      }
      setCfOf(cf, msb<T>(<T>r) ^ cf);
      return <T>r;
    }
    case 3: { // RCR
      let cf = getCF(), r = v;
      for (let i: u32 = 0, c = count % (n + 1); i < c; i++) {
        const out = <u32>r & 1;
        r = (r >> 1) | (<u64>cf << (n - 1));
        cf = out;
      }
      setCfOf(cf, msb<T>(<T>r) ^ (<u32>(r >> (n - 2)) & 1));
      return <T>r;
    }
    case 5: { // SHR
      const r = <T>(count < n ? v >> count : 0);
      const cf = count <= n ? <u32>(v >> (count - 1)) & 1 : 0;
      flagsShift<T>(r, cf, msb<T>(r) ^ (<u32>(<u64>r >> (n - 2)) & 1));
      return r;
    }
    case 7: { // SAR
      const s = sx<T>(a);
      const r = <T>(s >> <i64>min(count, 63));
      flagsShift<T>(r, <u32>(s >> <i64>min(count - 1, n - 1)) & 1, 0);
      return r;
    }
    default: { // SHL, SAL (/4, /6)
      const r = <T>(count < n ? v << count : 0);
      const cf = count <= n ? <u32>(v >> (n - count)) & 1 : 0;
      flagsShift<T>(r, cf, msb<T>(r) ^ cf);
      return r;
    }
  }
}

// ---- Multiplication and division ----

// 128-bit results of the 64-bit forms: the high half goes here.
export let hi64: u64 = 0;

/** Unsigned 64 × 64 → 128: returns the low half, the high half in hi64. */
export function mulu128(a: u64, b: u64): u64 {
  const a0 = a & 0xffffffff, a1 = a >> 32, b0 = b & 0xffffffff, b1 = b >> 32;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >> 32) + (p01 & 0xffffffff) + (p10 & 0xffffffff);
  hi64 = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
  return (mid << 32) | (p00 & 0xffffffff);
}

/** Signed 64 × 64 → 128. */
export function muls128(a: i64, b: i64): u64 {
  const lo = mulu128(<u64>a, <u64>b);
  hi64 = hi64 - (a < 0 ? <u64>b : 0) - (b < 0 ? <u64>a : 0);
  return lo;
}

/** MUL/IMUL flags here: CF = OF = "the result did not fit"; SF, ZF, AF, PF unchanged. */
@inline export function flagsMul(overflow: bool): void {
  setCfOf(<u32>overflow, <u32>overflow);
}

/** DIV/IDIV flags here: AF set, SF/ZF/PF clear, CF/OF unchanged. */
export function flagsDiv(): void {
  const cf = getCF(), ovf = getOF();
  setArithFlags(X86_EFLAGS_AF);
  setCfOf(cf, ovf);
}

// Unsigned 128 / 64 division for DIV r/m64. Returns false on #DE (zero divisor or quotient overflow);
// otherwise the quotient is in divQuot and the remainder in divRem.
export let divQuot: u64 = 0;
export let divRem: u64 = 0;

export function divu128(hi: u64, lo: u64, d: u64): bool {
  if (d == 0 || hi >= d) return false;
  if (hi == 0) { divQuot = lo / d; divRem = lo % d; return true; }
  let q: u64 = 0, r = hi;
  for (let i = 63; i >= 0; i--) {
    const top = r >> 63;
    r = (r << 1) | ((lo >> <u64>i) & 1);
    q <<= 1;
    if (top != 0 || r >= d) { r -= d; q |= 1; }
  }
  divQuot = q; divRem = r;
  return true;
}

/** Signed 128 / 64 for IDIV r/m64 (quotient truncated toward zero, remainder has the dividend's sign). */
export function divs128(hi: u64, lo: u64, d: i64): bool {
  if (d == 0) return false;
  const neg = <i64>hi < 0;
  let h = hi, l = lo;
  if (neg) { l = ~l + 1; h = ~h + <u64>(l == 0); }
  const ad = d < 0 ? <u64>-d : <u64>d;
  if (!divu128(h, l, ad)) return false;
  const qneg = neg != (d < 0);
  if (qneg ? divQuot > 0x8000_0000_0000_0000 : divQuot > 0x7fff_ffff_ffff_ffff) return false;
  if (qneg) divQuot = <u64>-<i64>divQuot;
  if (neg) divRem = <u64>-<i64>divRem;
  return true;
}

// ---- Bit scan and bit test ----

/** BSF/BSR flags: ZF = (source == 0); PF from the index; CF, OF, SF, AF clear. */
export function flagsBitScan(zero: bool, index: u32): void {
  setArithFlags(zero ? X86_EFLAGS_ZF | X86_EFLAGS_PF : (popcnt<u32>(index & 0xff) & 1) ? 0 : X86_EFLAGS_PF);
}

/** BT/BTS/BTR/BTC on a value: CF = the bit; returns the updated value (BT returns it unchanged). */
@inline export function bitTest<T>(k: i32, a: T, bit: u32): T {
  const m = <T>1 << <T>bit;
  setCfOf(<u32>((a & m) != 0), getOF());
  if (k == K_BTS) return a | m;
  if (k == K_BTR) return a & ~m;
  if (k == K_BTC) return a ^ m;
  return a;
}
