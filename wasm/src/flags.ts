// RFLAGS, with the six arithmetic flags evaluated lazily (the Bochs scheme).
//
// An arithmetic instruction stores only its result and a word of carries; flags are derived when read:
//   result  sign-extended from the operand size: ZF = (result == 0), SF = its bit 63
//   aux     bit 31 carry out of the top bit (CF)        bit 30 carry out of the bit below it (OF = b31 ^ b30)
//           bit 3  carry out of bit 3 (AF)               bit 0  SF delta: SF = bit 63 of result ^ bit 0
//           bits 15:8 parity delta: PF = even parity of (low byte of result ^ these bits)
// The deltas are zero after ordinary arithmetic; they let POPF, SAHF and IRET set any combination.
// INC and DEC keep bit 31 and so preserve CF without ever computing it.
import {
  X86_EFLAGS_CF as CF, X86_EFLAGS_PF as PF, X86_EFLAGS_AF as AF, X86_EFLAGS_ZF as ZF,
  X86_EFLAGS_SF as SF, X86_EFLAGS_OF as OF, X86_EFLAGS_FIXED,
} from './abi';
import { LF_RES, LF_AUX, FL_OTHER } from './layout';

// The state lives in linear memory at fixed addresses: V8 keeps the memory base in a register, so
// these are single loads and stores (wasm globals would need their own base pointer).
@inline function res(): i64 {
  return load<i64>(LF_RES);
}
@inline function aux(): u32 {
  return load<u32>(LF_AUX);
}
@inline function setRes(v: i64): void {
  store<i64>(LF_RES, v);
}
@inline function setAux(v: u32): void {
  store<u32>(LF_AUX, v);
}
/** Every RFLAGS bit other than the six arithmetic ones (IF, DF, TF, ...). */
@inline export function flOther(): u64 {
  return load<u64>(FL_OTHER);
}
@inline export function setFlOther(v: u64): void {
  store<u64>(FL_OTHER, v);
}

export const ARITH: u64 = CF | PF | AF | ZF | SF | OF;
const A_CF: u32 = 1 << 31;
const A_PO: u32 = 1 << 30;
const A_AF: u32 = 1 << 3;
const A_CFOF: u32 = A_CF | A_PO;

// ---- Operand-size helpers ----

@inline export function bits<T>(): u32 {
  return <u32>sizeof<T>() * 8;
}

/** The value sign-extended from the width of T. */
@inline export function sx<T>(v: T): i64 {
  if (sizeof<T>() == 1) return <i64><i8>v;
  if (sizeof<T>() == 2) return <i64><i16>v;
  if (sizeof<T>() == 4) return <i64><i32>v;
  return <i64>v;
}

/** Carry vector → aux bits: AF, and the top two carries at bits 31/30. */
@inline function auxOf<T>(c: T): u32 {
  if (sizeof<T>() == 4) return <u32>c & (A_CFOF | A_AF);
  if (sizeof<T>() == 8) return (<u32>(<u64>c >> 32) & A_CFOF) | (<u32>c & A_AF);
  return ((<u32>c << (32 - bits<T>())) & A_CFOF) | (<u32>c & A_AF);
}

// ---- Setting flags from an operation (a op b = r, all of width T) ----

@inline export function flagsAdd<T>(a: T, b: T, r: T): void {
  setRes(sx<T>(r));
  setAux(auxOf<T>(<T>((a & b) | ((a | b) & ~r))));
}

@inline export function flagsSub<T>(a: T, b: T, r: T): void {
  setRes(sx<T>(r));
  setAux(auxOf<T>(<T>((~a & b) | (~(a ^ b) & r))));
}

@inline export function flagsLogic<T>(r: T): void {
  setRes(sx<T>(r));
  setAux(0);
}

/** INC/DEC: as ADD/SUB of 1, but CF is kept (OF: the result, or the operand, is the sign bit alone). */
@inline export function flagsInc<T>(a: T, r: T): void {
  const cf = aux() >> 31;
  setRes(sx<T>(r));
  setAux((cf << 31) | ((cf ^ <u32>(r == <T>1 << <T>(bits<T>() - 1))) << 30) | (<u32>((r & 0xf) == 0) << 3));
}

@inline export function flagsDec<T>(a: T, r: T): void {
  const cf = aux() >> 31;
  setRes(sx<T>(r));
  setAux((cf << 31) | ((cf ^ <u32>(a == <T>1 << <T>(bits<T>() - 1))) << 30) | (<u32>((a & 0xf) == 0) << 3));
}

/** Only CF and OF change (rotates, MUL, IMUL on this CPU, BT* with the current OF). */
@inline export function setCfOf(cf: u32, ovf: u32): void {
  setAux((aux() & ~A_CFOF) | (cf << 31) | ((cf ^ ovf) << 30));
}

/** Shifts: SF/ZF/PF from the result, CF and OF given, AF set (as this AMD CPU does). */
@inline export function flagsShift<T>(r: T, cf: u32, ovf: u32): void {
  setRes(sx<T>(r));
  setAux((cf << 31) | ((cf ^ ovf) << 30) | A_AF);
}

// ---- Reading ----

@inline export function getCF(): u32 {
  return aux() >> 31;
}
@inline export function getOF(): u32 {
  return ((aux() >> 31) ^ (aux() >> 30)) & 1;
}
@inline export function getAF(): u32 {
  return (aux() >> 3) & 1;
}
@inline export function getZF(): u32 {
  return <u32>(res() == 0);
}
@inline export function getSF(): u32 {
  return (<u32>(<u64>res() >> 63) ^ aux()) & 1;
}
@inline export function getPF(): u32 {
  return (<u32>popcnt<u32>((<u32>res() ^ (aux() >> 8)) & 0xff) & 1) ^ 1;
}

/** The x86 condition code cc (the low nibble of Jcc/SETcc/CMOVcc). */
@inline export function cond(cc: u32): bool {
  let t: u32;
  switch (cc >> 1) {
    case 0: t = getOF(); break;
    case 1: t = getCF(); break;
    case 2: t = getZF(); break;
    case 3: t = getCF() | getZF(); break;
    case 4: t = getSF(); break;
    case 5: t = getPF(); break;
    case 6: t = getSF() ^ getOF(); break;
    default: t = getZF() | (getSF() ^ getOF());
  }
  return (t ^ (cc & 1)) != 0;
}

/** The six arithmetic flags at their RFLAGS positions. */
export function arithFlags(): u64 {
  return <u64>(getCF() | (getPF() << 2) | (getAF() << 4) | (getZF() << 6) | (getSF() << 7) | (getOF() << 11));
}

/** Sets the arithmetic flags from RFLAGS-positioned bits (the other bits of f are ignored). */
export function setArithFlags(f: u64): void {
  const zf = <u32>(f >> 6) & 1, sf = <u32>(f >> 7) & 1, pf = <u32>(f >> 2) & 1;
  const cf = <u32>f & 1, af = <u32>(f >> 4) & 1, ovf = <u32>(f >> 11) & 1;
  // A result with the wanted ZF and, where it can, SF; the deltas fix what it cannot say.
  setRes(zf ? 0 : sf ? <i64>0x8000_0000_0000_0000 : 1);
  const low = <u32>res() & 0xff;
  const sfd = sf ^ <u32>(<u64>res() >> 63);
  const pdb = pf ? low : low ^ 1; // even parity of (low ^ pdb) = pf
  setAux((cf << 31) | ((cf ^ ovf) << 30) | (af << 3) | (pdb << 8) | sfd);
}

export function getRflags(): u64 {
  return (flOther() & ~ARITH) | arithFlags() | X86_EFLAGS_FIXED;
}

export function setRflags(v: u64): void {
  setFlOther((v & ~ARITH) | X86_EFLAGS_FIXED);
  setArithFlags(v);
}
