// The executor: runs a range of pre-decoded entries through one switch on the op id (a br_table).
// Handlers report whether the instruction retired; one that stops first (a fault, a VM exit, an MMIO
// stop) leaves state.mx set and none of its effects behind.
import * as O from './ops';
import { ENTRY, E_RIP, E_OP, E_FL, E_K, E_IMM, E_DISP, FL_A32 } from './layout';
import {
  X86_EFLAGS_DF, X86_EFLAGS_IF, X86_EFLAGS_RF, GP_VECTOR, UD_VECTOR, DE_VECTOR,
  INTR_TYPE_SOFT_EXCEPTION, INTR_TYPE_SOFT_INTR, INTR_TYPE_PRIV_SW_EXCEPTION, BP_VECTOR, DB_VECTOR,
} from './abi';
import {
  lfRes, flOther, cond, flagsInc, flagsDec, setCfOf, getCF, getOF, getRflags, arithFlags,
  setArithFlags, sx, bits,
} from './flags';
import {
  alu, neg, shift, hi64, mulu128, muls128, flagsMul, flagsDiv, divu128, divs128, divQuot, divRem,
  flagsBitScan, bitTest,
} from './alu';
import { rd, wr, rdStack, fetchFault } from './mem';
import { mx, raise, raiseSoft, canonical, setExtra } from './state';
import {
  rget, rset, fR, fB, imm, isMem, next, offset, ea, rmRead, rmWrite, push, RSP, RBP, RCX,
} from './operands';
import {
  sysHlt, sysPause, sysCpuid, sysRdtsc, sysRdmsr, sysWrmsr, sysInvd, sysWbinvd, sysVmcall,
  sysMonitor, sysMwait, sysLidt, sysSidt, sysIo, sysIoString, sysIret, sysPopf, sysSti, sysMovSs,
  sysTarget,
} from './system';
import { stringOp } from './strings';

// Outcomes.
export const X_FALL = 0; //   ran to the end of the range: continue at the last entry's next instruction
export const X_BRANCH = 1; // the last entry transferred control to xNext
export const X_BREAK = 2; //  the last entry retired and changed something the run loop must look at (xNext)
export const X_STOP = 3; //   stopped before xCur retired (state.mx says why; MX_NONE: code was overwritten)
export let xStatus = X_FALL;
export let xCur: usize = 0;
export let xNext: u64 = 0;
// ---- Handlers that are not one-liners ----

@inline function aluRR<T>(e: usize, k: i32): void {
  const d = fB(e);
  const r = alu<T>(k, rget<T>(d), rget<T>(fR(e)));
  if (k != O.K_CMP && k != O.K_TEST) rset<T>(d, r);
}

@inline function aluRI<T>(e: usize, k: i32): void {
  const d = fB(e);
  const r = alu<T>(k, rget<T>(d), imm<T>(e));
  if (k != O.K_CMP && k != O.K_TEST) rset<T>(d, r);
}

/** ALU with a memory operand: dst = memory (MR, MI) or the E_R register (RM). */
function aluMem<T>(e: usize, form: i32): bool {
  const k = <i32>load<u8>(e, E_K);
  const a = ea(e);
  const m = rd<T>(a);
  if (mx) return false;
  const writes = k != O.K_CMP && k != O.K_TEST;
  if (form == O.ALU_RM) {
    const r = alu<T>(k, rget<T>(fR(e)), m);
    if (writes) rset<T>(fR(e), r);
    return true;
  }
  const r = alu<T>(k, m, form == O.ALU_MR ? rget<T>(fR(e)) : imm<T>(e));
  return !writes || wr<T>(a, r);
}

function unary<T>(e: usize): bool {
  const k = <i32>load<u8>(e, E_K);
  const a = isMem(e) ? ea(e) : 0;
  const v = rmRead<T>(e);
  if (mx) return false;
  let r: T;
  if (k == O.K_NOT) r = ~v;
  else if (k == O.K_NEG) r = neg<T>(v);
  else if (k == O.K_INC) { r = <T>(v + 1); flagsInc<T>(v, r); }
  else { r = <T>(v - 1); flagsDec<T>(v, r); }
  return rmWrite<T>(e, a, r);
}

function shiftOp<T>(e: usize, count: u32): bool {
  count &= sizeof<T>() == 8 ? 63 : 31;
  const a = isMem(e) ? ea(e) : 0;
  const v = rmRead<T>(e);
  if (mx) return false;
  const r = shift<T>(<i32>load<u8>(e, E_K), v, count);
  if (count == 0 && isMem(e)) return true;
  return rmWrite<T>(e, a, r);
}

/** MUL/IMUL/DIV/IDIV r/m: the accumulator pair AL:AH, DX:AX, EDX:EAX or RDX:RAX. */
function mulDiv<T>(e: usize): bool {
  const k = <i32>load<u8>(e, E_K);
  const s = rmRead<T>(e);
  if (mx) return false;
  const n = bits<T>();
  const lo = rget<T>(0);
  const hi: T = sizeof<T>() == 1 ? <T>rget<u8>(1) : rget<T>(2 * 8);
  let q: u64, r: u64;
  if (k == O.K_MUL || k == O.K_IMUL) {
    if (sizeof<T>() == 8) {
      q = k == O.K_MUL ? mulu128(<u64>lo, <u64>s) : muls128(<i64>lo, <i64>s);
      r = hi64;
      flagsMul(k == O.K_MUL ? r != 0 : r != <u64>(<i64>q >> 63));
    } else {
      const p = k == O.K_MUL ? <u64>lo * <u64>s : <u64>(sx<T>(lo) * sx<T>(s));
      q = <u64><T>p;
      r = <u64><T>(p >> n);
      flagsMul(k == O.K_MUL ? r != 0 : sx<T>(<T>q) != <i64>p);
    }
  } else {
    let ok: bool;
    if (sizeof<T>() == 8) {
      ok = k == O.K_DIV ? divu128(<u64>hi, <u64>lo, <u64>s) : divs128(<u64>hi, <u64>lo, <i64>s);
    } else if (k == O.K_DIV) {
      const dividend = (<u64>hi << n) | <u64>lo;
      ok = s != 0 && dividend / <u64>s <= <u64><T>-1;
      if (ok) { divQuot = dividend / <u64>s; divRem = dividend % <u64>s; }
    } else {
      const dividend = <i64>((<u64>hi << n) | <u64>lo) << (64 - (n << 1)) >> (64 - (n << 1));
      const d = sx<T>(s);
      ok = d != 0;
      if (ok) {
        const qq = dividend / d;
        ok = qq == sx<T>(<T>qq);
        if (ok) { divQuot = <u64>qq; divRem = <u64>(dividend % d); }
      }
    }
    if (!ok) { raise(DE_VECTOR); return false; }
    q = divQuot;
    r = divRem;
    flagsDiv();
  }
  if (sizeof<T>() == 1) rset<u16>(0, <u16>(q & 0xff | (r & 0xff) << 8));
  else { rset<T>(0, <T>q); rset<T>(2 * 8, <T>r); }
  return true;
}

/** IMUL r, r/m (three = false) and IMUL r, r/m, imm. */
function imulR<T>(e: usize, three: bool): bool {
  const s = rmRead<T>(e);
  if (mx) return false;
  const b: T = three ? imm<T>(e) : rget<T>(fR(e));
  let r: T, over: bool;
  if (sizeof<T>() == 8) {
    const lo = muls128(<i64>s, <i64>b);
    r = <T>lo;
    over = hi64 != <u64>(<i64>lo >> 63);
  } else {
    const p = sx<T>(s) * sx<T>(b);
    r = <T>p;
    over = sx<T>(r) != p;
  }
  flagsMul(over);
  rset<T>(fR(e), r);
  return true;
}

/** MOVZX/MOVSX/MOVSXD: S is the source width, T the destination's. */
@inline function movx<S, T>(e: usize, signed: bool): bool {
  let v: S;
  if (isMem(e)) { v = rd<S>(ea(e)); if (mx) return false; } else v = rget<S>(fB(e));
  rset<T>(fR(e), signed ? <T>sx<S>(v) : <T>v);
  return true;
}

function xchg<T>(e: usize): bool {
  const r = fR(e);
  if (!isMem(e)) {
    const t = rget<T>(fB(e));
    rset<T>(fB(e), rget<T>(r));
    rset<T>(r, t);
    return true;
  }
  const a = ea(e);
  const v = rd<T>(a);
  if (mx || !wr<T>(a, rget<T>(r))) return false;
  rset<T>(r, v);
  return true;
}

function xadd<T>(e: usize): bool {
  const a = isMem(e) ? ea(e) : 0;
  const d = rmRead<T>(e);
  if (mx) return false;
  const s = rget<T>(fR(e));
  const sum = alu<T>(O.K_ADD, d, s);
  if (isMem(e)) { if (!wr<T>(a, sum)) return false; rset<T>(fR(e), d); }
  else { rset<T>(fR(e), d); rset<T>(fB(e), sum); }
  return true;
}

/** CMPXCHG: compares the accumulator with the destination; on a mismatch loads the accumulator and,
 *  as this AMD CPU does, leaves a register destination unwritten. */
function cmpxchg<T>(e: usize): bool {
  const a = isMem(e) ? ea(e) : 0;
  const d = rmRead<T>(e);
  if (mx) return false;
  const acc = rget<T>(0);
  alu<T>(O.K_CMP, acc, d);
  if (acc == d) return rmWrite<T>(e, a, rget<T>(fR(e)));
  rset<T>(0, d);
  return true;
}

function pushRm<T>(e: usize): bool {
  const v = rmRead<T>(e);
  return !mx && push<T>(v);
}

/** POP r/m: a memory destination is addressed with RSP already incremented, as the SDM says. */
function popRm<T>(e: usize): bool {
  const sp = rget<u64>(RSP);
  const v = rdStack<T>(sp);
  if (mx) return false;
  rset<u64>(RSP, sp + sizeof<T>());
  if (!rmWrite<T>(e, isMem(e) ? ea(e) : 0, v)) { rset<u64>(RSP, sp); return false; }
  return true;
}

function leave<T>(): bool {
  const bp = rget<u64>(RBP);
  const v = rdStack<T>(bp);
  if (mx) return false;
  rset<u64>(RSP, bp + sizeof<T>());
  rset<T>(RBP, v);
  return true;
}

/** BT/BTS/BTR/BTC with the bit offset in a register (reg = true) or an immediate. */
function bt<T>(e: usize, reg: bool): bool {
  const k = <i32>load<u8>(e, E_K);
  const n = bits<T>();
  if (!isMem(e)) {
    const bit = <u32>(reg ? <u64>rget<T>(fR(e)) : load<u64>(e, E_IMM)) & (n - 1);
    const r = bitTest<T>(k, rget<T>(fB(e)), bit);
    if (k != O.K_BT) rset<T>(fB(e), r);
    return true;
  }
  let a = ea(e), bit: u32;
  if (reg) {
    // A register offset addresses a bit string: it may reach outside the operand (signed).
    const off = sx<T>(rget<T>(fR(e)));
    a += <u64>((off >> <i64>ctz<u32>(n)) * <i64>sizeof<T>());
    bit = <u32>off & (n - 1);
  } else bit = <u32>load<u64>(e, E_IMM) & (n - 1);
  const v = rd<T>(a);
  if (mx) return false;
  const r = bitTest<T>(k, v, bit);
  return k == O.K_BT || wr<T>(a, r);
}

function bitScan<T>(e: usize, reverse: bool): bool {
  const s = rmRead<T>(e);
  if (mx) return false;
  if (s == 0) { flagsBitScan(true, 0); return true; } // the destination keeps its whole value here
  const i = reverse ? bits<T>() - 1 - <u32>clz<T>(s) : <u32>ctz<T>(s);
  rset<T>(fR(e), <T>i);
  flagsBitScan(false, i);
  return true;
}

function cmov<T>(e: usize): bool {
  const s = rmRead<T>(e);
  if (mx) return false;
  if (cond(load<u8>(e, E_K))) rset<T>(fR(e), s);
  else if (sizeof<T>() == 4) rset<T>(fR(e), rget<T>(fR(e))); // a 32-bit CMOV always zero-extends
  return true;
}

@inline function cbw<T>(): void {
  if (sizeof<T>() == 2) rset<u16>(0, <u16>sx<u8>(rget<u8>(0)));
  else if (sizeof<T>() == 4) rset<u32>(0, <u32>sx<u16>(rget<u16>(0)));
  else rset<u64>(0, <u64>sx<u32>(rget<u32>(0)));
}

@inline function cwd<T>(): void {
  rset<T>(2 * 8, sx<T>(rget<T>(0)) < 0 ? <T>-1 : 0);
}

function setcc(e: usize): bool {
  const v = <u8>cond(load<u8>(e, E_K));
  if (isMem(e)) return wr<u8>(ea(e), v);
  rset<u8>(fB(e), v);
  return true;
}

/** LOOP/LOOPE/LOOPNE (E2/E1/E0) and JRCXZ: the counter is ECX with a 67 prefix. */
function loop(e: usize, op: i32): bool {
  const a32 = (load<u8>(e, E_FL) & FL_A32) != 0;
  let c = a32 ? <u64>rget<u32>(8) : rget<u64>(8);
  if (op == O.OP_JRCXZ) return c == 0;
  c = a32 ? <u64><u32>(c - 1) : c - 1;
  rset<u64>(8, c); // ECX written as a 32-bit register: the upper half is zeroed
  if (c == 0) return false;
  if (op == O.OP_LOOPE) return lfRes == 0;
  if (op == O.OP_LOOPNE) return lfRes != 0;
  return true;
}

// ---- The dispatcher ----

/** Runs entries [first, end). Sets xStatus, xCur, xNext. */
export function execEntries(first: usize, end: usize): void {
  let e = first, cur = first, st = X_FALL, nx: u64 = 0;
  setExtra(0, 0);
  while (e < end) {
    cur = e;
    e += ENTRY;
    let ok = true; // false: the instruction stopped before retiring
    switch (<i32>load<u16>(cur, E_OP)) {
      // ALU, register forms, specialised by kind and size.
      case O.ALU_RR + 0: aluRR<u8>(cur, O.K_ADD); break;
      case O.ALU_RR + 1: aluRR<u16>(cur, O.K_ADD); break;
      case O.ALU_RR + 2: aluRR<u32>(cur, O.K_ADD); break;
      case O.ALU_RR + 3: aluRR<u64>(cur, O.K_ADD); break;
      case O.ALU_RR + 4: aluRR<u8>(cur, O.K_OR); break;
      case O.ALU_RR + 5: aluRR<u16>(cur, O.K_OR); break;
      case O.ALU_RR + 6: aluRR<u32>(cur, O.K_OR); break;
      case O.ALU_RR + 7: aluRR<u64>(cur, O.K_OR); break;
      case O.ALU_RR + 8: aluRR<u8>(cur, O.K_ADC); break;
      case O.ALU_RR + 9: aluRR<u16>(cur, O.K_ADC); break;
      case O.ALU_RR + 10: aluRR<u32>(cur, O.K_ADC); break;
      case O.ALU_RR + 11: aluRR<u64>(cur, O.K_ADC); break;
      case O.ALU_RR + 12: aluRR<u8>(cur, O.K_SBB); break;
      case O.ALU_RR + 13: aluRR<u16>(cur, O.K_SBB); break;
      case O.ALU_RR + 14: aluRR<u32>(cur, O.K_SBB); break;
      case O.ALU_RR + 15: aluRR<u64>(cur, O.K_SBB); break;
      case O.ALU_RR + 16: aluRR<u8>(cur, O.K_AND); break;
      case O.ALU_RR + 17: aluRR<u16>(cur, O.K_AND); break;
      case O.ALU_RR + 18: aluRR<u32>(cur, O.K_AND); break;
      case O.ALU_RR + 19: aluRR<u64>(cur, O.K_AND); break;
      case O.ALU_RR + 20: aluRR<u8>(cur, O.K_SUB); break;
      case O.ALU_RR + 21: aluRR<u16>(cur, O.K_SUB); break;
      case O.ALU_RR + 22: aluRR<u32>(cur, O.K_SUB); break;
      case O.ALU_RR + 23: aluRR<u64>(cur, O.K_SUB); break;
      case O.ALU_RR + 24: aluRR<u8>(cur, O.K_XOR); break;
      case O.ALU_RR + 25: aluRR<u16>(cur, O.K_XOR); break;
      case O.ALU_RR + 26: aluRR<u32>(cur, O.K_XOR); break;
      case O.ALU_RR + 27: aluRR<u64>(cur, O.K_XOR); break;
      case O.ALU_RR + 28: aluRR<u8>(cur, O.K_CMP); break;
      case O.ALU_RR + 29: aluRR<u16>(cur, O.K_CMP); break;
      case O.ALU_RR + 30: aluRR<u32>(cur, O.K_CMP); break;
      case O.ALU_RR + 31: aluRR<u64>(cur, O.K_CMP); break;
      case O.ALU_RR + 32: aluRR<u8>(cur, O.K_TEST); break;
      case O.ALU_RR + 33: aluRR<u16>(cur, O.K_TEST); break;
      case O.ALU_RR + 34: aluRR<u32>(cur, O.K_TEST); break;
      case O.ALU_RR + 35: aluRR<u64>(cur, O.K_TEST); break;
      case O.ALU_RI + 0: aluRI<u8>(cur, O.K_ADD); break;
      case O.ALU_RI + 1: aluRI<u16>(cur, O.K_ADD); break;
      case O.ALU_RI + 2: aluRI<u32>(cur, O.K_ADD); break;
      case O.ALU_RI + 3: aluRI<u64>(cur, O.K_ADD); break;
      case O.ALU_RI + 4: aluRI<u8>(cur, O.K_OR); break;
      case O.ALU_RI + 5: aluRI<u16>(cur, O.K_OR); break;
      case O.ALU_RI + 6: aluRI<u32>(cur, O.K_OR); break;
      case O.ALU_RI + 7: aluRI<u64>(cur, O.K_OR); break;
      case O.ALU_RI + 8: aluRI<u8>(cur, O.K_ADC); break;
      case O.ALU_RI + 9: aluRI<u16>(cur, O.K_ADC); break;
      case O.ALU_RI + 10: aluRI<u32>(cur, O.K_ADC); break;
      case O.ALU_RI + 11: aluRI<u64>(cur, O.K_ADC); break;
      case O.ALU_RI + 12: aluRI<u8>(cur, O.K_SBB); break;
      case O.ALU_RI + 13: aluRI<u16>(cur, O.K_SBB); break;
      case O.ALU_RI + 14: aluRI<u32>(cur, O.K_SBB); break;
      case O.ALU_RI + 15: aluRI<u64>(cur, O.K_SBB); break;
      case O.ALU_RI + 16: aluRI<u8>(cur, O.K_AND); break;
      case O.ALU_RI + 17: aluRI<u16>(cur, O.K_AND); break;
      case O.ALU_RI + 18: aluRI<u32>(cur, O.K_AND); break;
      case O.ALU_RI + 19: aluRI<u64>(cur, O.K_AND); break;
      case O.ALU_RI + 20: aluRI<u8>(cur, O.K_SUB); break;
      case O.ALU_RI + 21: aluRI<u16>(cur, O.K_SUB); break;
      case O.ALU_RI + 22: aluRI<u32>(cur, O.K_SUB); break;
      case O.ALU_RI + 23: aluRI<u64>(cur, O.K_SUB); break;
      case O.ALU_RI + 24: aluRI<u8>(cur, O.K_XOR); break;
      case O.ALU_RI + 25: aluRI<u16>(cur, O.K_XOR); break;
      case O.ALU_RI + 26: aluRI<u32>(cur, O.K_XOR); break;
      case O.ALU_RI + 27: aluRI<u64>(cur, O.K_XOR); break;
      case O.ALU_RI + 28: aluRI<u8>(cur, O.K_CMP); break;
      case O.ALU_RI + 29: aluRI<u16>(cur, O.K_CMP); break;
      case O.ALU_RI + 30: aluRI<u32>(cur, O.K_CMP); break;
      case O.ALU_RI + 31: aluRI<u64>(cur, O.K_CMP); break;
      case O.ALU_RI + 32: aluRI<u8>(cur, O.K_TEST); break;
      case O.ALU_RI + 33: aluRI<u16>(cur, O.K_TEST); break;
      case O.ALU_RI + 34: aluRI<u32>(cur, O.K_TEST); break;
      case O.ALU_RI + 35: aluRI<u64>(cur, O.K_TEST); break;
      case O.ALU_RM + 0: ok = aluMem<u8>(cur, O.ALU_RM); break;
      case O.ALU_RM + 1: ok = aluMem<u16>(cur, O.ALU_RM); break;
      case O.ALU_RM + 2: ok = aluMem<u32>(cur, O.ALU_RM); break;
      case O.ALU_RM + 3: ok = aluMem<u64>(cur, O.ALU_RM); break;
      case O.ALU_MR + 0: ok = aluMem<u8>(cur, O.ALU_MR); break;
      case O.ALU_MR + 1: ok = aluMem<u16>(cur, O.ALU_MR); break;
      case O.ALU_MR + 2: ok = aluMem<u32>(cur, O.ALU_MR); break;
      case O.ALU_MR + 3: ok = aluMem<u64>(cur, O.ALU_MR); break;
      case O.ALU_MI + 0: ok = aluMem<u8>(cur, O.ALU_MI); break;
      case O.ALU_MI + 1: ok = aluMem<u16>(cur, O.ALU_MI); break;
      case O.ALU_MI + 2: ok = aluMem<u32>(cur, O.ALU_MI); break;
      case O.ALU_MI + 3: ok = aluMem<u64>(cur, O.ALU_MI); break;

      // MOV.
      case O.MOV_RR + 0: rset<u8>(fB(cur), rget<u8>(fR(cur))); break;
      case O.MOV_RR + 1: rset<u16>(fB(cur), rget<u16>(fR(cur))); break;
      case O.MOV_RR + 2: rset<u32>(fB(cur), rget<u32>(fR(cur))); break;
      case O.MOV_RR + 3: rset<u64>(fB(cur), rget<u64>(fR(cur))); break;
      case O.MOV_RM + 0: { const v = rd<u8>(ea(cur)); if (mx) ok = false; else rset<u8>(fR(cur), v); break; }
      case O.MOV_RM + 1: { const v = rd<u16>(ea(cur)); if (mx) ok = false; else rset<u16>(fR(cur), v); break; }
      case O.MOV_RM + 2: { const v = rd<u32>(ea(cur)); if (mx) ok = false; else rset<u32>(fR(cur), v); break; }
      case O.MOV_RM + 3: { const v = rd<u64>(ea(cur)); if (mx) ok = false; else rset<u64>(fR(cur), v); break; }
      case O.MOV_MR + 0: ok = wr<u8>(ea(cur), rget<u8>(fR(cur))); break;
      case O.MOV_MR + 1: ok = wr<u16>(ea(cur), rget<u16>(fR(cur))); break;
      case O.MOV_MR + 2: ok = wr<u32>(ea(cur), rget<u32>(fR(cur))); break;
      case O.MOV_MR + 3: ok = wr<u64>(ea(cur), rget<u64>(fR(cur))); break;
      case O.MOV_RI + 0: rset<u8>(fB(cur), imm<u8>(cur)); break;
      case O.MOV_RI + 1: rset<u16>(fB(cur), imm<u16>(cur)); break;
      case O.MOV_RI + 2: rset<u32>(fB(cur), imm<u32>(cur)); break;
      case O.MOV_RI + 3: rset<u64>(fB(cur), imm<u64>(cur)); break;
      case O.MOV_MI + 0: ok = wr<u8>(ea(cur), imm<u8>(cur)); break;
      case O.MOV_MI + 1: ok = wr<u16>(ea(cur), imm<u16>(cur)); break;
      case O.MOV_MI + 2: ok = wr<u32>(ea(cur), imm<u32>(cur)); break;
      case O.MOV_MI + 3: ok = wr<u64>(ea(cur), imm<u64>(cur)); break;
      case O.MOVZX8 + 1: ok = movx<u8, u16>(cur, false); break;
      case O.MOVZX8 + 2: ok = movx<u8, u32>(cur, false); break;
      case O.MOVZX8 + 3: ok = movx<u8, u64>(cur, false); break;
      case O.MOVZX16 + 1: ok = movx<u16, u16>(cur, false); break;
      case O.MOVZX16 + 2: ok = movx<u16, u32>(cur, false); break;
      case O.MOVZX16 + 3: ok = movx<u16, u64>(cur, false); break;
      case O.MOVSX8 + 1: ok = movx<u8, u16>(cur, true); break;
      case O.MOVSX8 + 2: ok = movx<u8, u32>(cur, true); break;
      case O.MOVSX8 + 3: ok = movx<u8, u64>(cur, true); break;
      case O.MOVSX16 + 1: ok = movx<u16, u16>(cur, true); break;
      case O.MOVSX16 + 2: ok = movx<u16, u32>(cur, true); break;
      case O.MOVSX16 + 3: ok = movx<u16, u64>(cur, true); break;
      case O.MOVSX32 + 1: ok = movx<u16, u16>(cur, false); break;
      case O.MOVSX32 + 2: ok = movx<u32, u32>(cur, false); break;
      case O.MOVSX32 + 3: ok = movx<u32, u64>(cur, true); break;
      case O.LEA + 1: rset<u16>(fR(cur), <u16>offset(cur)); break;
      case O.LEA + 2: rset<u32>(fR(cur), <u32>offset(cur)); break;
      case O.LEA + 3: rset<u64>(fR(cur), offset(cur)); break;
      case O.XCHG + 0: ok = xchg<u8>(cur); break;
      case O.XCHG + 1: ok = xchg<u16>(cur); break;
      case O.XCHG + 2: ok = xchg<u32>(cur); break;
      case O.XCHG + 3: ok = xchg<u64>(cur); break;
      case O.XADD + 0: ok = xadd<u8>(cur); break;
      case O.XADD + 1: ok = xadd<u16>(cur); break;
      case O.XADD + 2: ok = xadd<u32>(cur); break;
      case O.XADD + 3: ok = xadd<u64>(cur); break;
      case O.CMPXCHG + 0: ok = cmpxchg<u8>(cur); break;
      case O.CMPXCHG + 1: ok = cmpxchg<u16>(cur); break;
      case O.CMPXCHG + 2: ok = cmpxchg<u32>(cur); break;
      case O.CMPXCHG + 3: ok = cmpxchg<u64>(cur); break;
      case O.CMOV + 1: ok = cmov<u16>(cur); break;
      case O.CMOV + 2: ok = cmov<u32>(cur); break;
      case O.CMOV + 3: ok = cmov<u64>(cur); break;
      case O.OP_SETCC: ok = setcc(cur); break;
      case O.BSWAP + 1: rset<u16>(fB(cur), 0); break; // BSWAP r16 clears it here (undefined in the SDM)
      case O.BSWAP + 2: rset<u32>(fB(cur), bswap<u32>(rget<u32>(fB(cur)))); break;
      case O.BSWAP + 3: rset<u64>(fB(cur), bswap<u64>(rget<u64>(fB(cur)))); break;
      case O.CBW + 1: cbw<u16>(); break;
      case O.CBW + 2: cbw<u32>(); break;
      case O.CBW + 3: cbw<u64>(); break;
      case O.CWD + 1: cwd<u16>(); break;
      case O.CWD + 2: cwd<u32>(); break;
      case O.CWD + 3: cwd<u64>(); break;

      // INC/DEC, unary, shifts, multiply and divide, bit operations.
      case O.INC_R + 0: { const d = fB(cur), v = rget<u8>(d), r = <u8>(v + 1); flagsInc<u8>(v, r); rset<u8>(d, r); break; }
      case O.INC_R + 1: { const d = fB(cur), v = rget<u16>(d), r = <u16>(v + 1); flagsInc<u16>(v, r); rset<u16>(d, r); break; }
      case O.INC_R + 2: { const d = fB(cur), v = rget<u32>(d), r = v + 1; flagsInc<u32>(v, r); rset<u32>(d, r); break; }
      case O.INC_R + 3: { const d = fB(cur), v = rget<u64>(d), r = v + 1; flagsInc<u64>(v, r); rset<u64>(d, r); break; }
      case O.DEC_R + 0: { const d = fB(cur), v = rget<u8>(d), r = <u8>(v - 1); flagsDec<u8>(v, r); rset<u8>(d, r); break; }
      case O.DEC_R + 1: { const d = fB(cur), v = rget<u16>(d), r = <u16>(v - 1); flagsDec<u16>(v, r); rset<u16>(d, r); break; }
      case O.DEC_R + 2: { const d = fB(cur), v = rget<u32>(d), r = v - 1; flagsDec<u32>(v, r); rset<u32>(d, r); break; }
      case O.DEC_R + 3: { const d = fB(cur), v = rget<u64>(d), r = v - 1; flagsDec<u64>(v, r); rset<u64>(d, r); break; }
      case O.UNARY + 0: ok = unary<u8>(cur); break;
      case O.UNARY + 1: ok = unary<u16>(cur); break;
      case O.UNARY + 2: ok = unary<u32>(cur); break;
      case O.UNARY + 3: ok = unary<u64>(cur); break;
      case O.SHIFT + 0: ok = shiftOp<u8>(cur, imm<u32>(cur)); break;
      case O.SHIFT + 1: ok = shiftOp<u16>(cur, imm<u32>(cur)); break;
      case O.SHIFT + 2: ok = shiftOp<u32>(cur, imm<u32>(cur)); break;
      case O.SHIFT + 3: ok = shiftOp<u64>(cur, imm<u32>(cur)); break;
      case O.SHIFT_CL + 0: ok = shiftOp<u8>(cur, rget<u8>(8)); break;
      case O.SHIFT_CL + 1: ok = shiftOp<u16>(cur, rget<u8>(8)); break;
      case O.SHIFT_CL + 2: ok = shiftOp<u32>(cur, rget<u8>(8)); break;
      case O.SHIFT_CL + 3: ok = shiftOp<u64>(cur, rget<u8>(8)); break;
      case O.MULDIV + 0: ok = mulDiv<u8>(cur); break;
      case O.MULDIV + 1: ok = mulDiv<u16>(cur); break;
      case O.MULDIV + 2: ok = mulDiv<u32>(cur); break;
      case O.MULDIV + 3: ok = mulDiv<u64>(cur); break;
      case O.IMUL2 + 1: ok = imulR<u16>(cur, false); break;
      case O.IMUL2 + 2: ok = imulR<u32>(cur, false); break;
      case O.IMUL2 + 3: ok = imulR<u64>(cur, false); break;
      case O.IMUL3 + 1: ok = imulR<u16>(cur, true); break;
      case O.IMUL3 + 2: ok = imulR<u32>(cur, true); break;
      case O.IMUL3 + 3: ok = imulR<u64>(cur, true); break;
      case O.BT_R + 1: ok = bt<u16>(cur, true); break;
      case O.BT_R + 2: ok = bt<u32>(cur, true); break;
      case O.BT_R + 3: ok = bt<u64>(cur, true); break;
      case O.BT_I + 1: ok = bt<u16>(cur, false); break;
      case O.BT_I + 2: ok = bt<u32>(cur, false); break;
      case O.BT_I + 3: ok = bt<u64>(cur, false); break;
      case O.BSF + 1: ok = bitScan<u16>(cur, false); break;
      case O.BSF + 2: ok = bitScan<u32>(cur, false); break;
      case O.BSF + 3: ok = bitScan<u64>(cur, false); break;
      case O.BSR + 1: ok = bitScan<u16>(cur, true); break;
      case O.BSR + 2: ok = bitScan<u32>(cur, true); break;
      case O.BSR + 3: ok = bitScan<u64>(cur, true); break;

      // Stack.
      case O.PUSH_R + 1: ok = push<u16>(rget<u16>(fB(cur))); break;
      case O.PUSH_R + 3: ok = push<u64>(rget<u64>(fB(cur))); break;
      case O.POP_R + 1: { const v = rdStack<u16>(rget<u64>(RSP)); if (mx) { ok = false; break; } rset<u64>(RSP, rget<u64>(RSP) + 2); rset<u16>(fB(cur), v); break; }
      case O.POP_R + 3: { const v = rdStack<u64>(rget<u64>(RSP)); if (mx) { ok = false; break; } rset<u64>(RSP, rget<u64>(RSP) + 8); rset<u64>(fB(cur), v); break; }
      case O.PUSH_I + 1: ok = push<u16>(imm<u16>(cur)); break;
      case O.PUSH_I + 3: ok = push<u64>(imm<u64>(cur)); break;
      case O.PUSH_RM + 1: ok = pushRm<u16>(cur); break;
      case O.PUSH_RM + 3: ok = pushRm<u64>(cur); break;
      case O.POP_RM + 1: ok = popRm<u16>(cur); break;
      case O.POP_RM + 3: ok = popRm<u64>(cur); break;
      case O.PUSHF + 1: ok = push<u16>(<u16>getRflags()); break;
      case O.PUSHF + 3: ok = push<u64>(getRflags() & ~<u64>X86_EFLAGS_RF); break;
      case O.POPF + 1: ok = sysPopf<u16>(); st = X_BREAK; nx = next(cur); break;
      case O.POPF + 3: ok = sysPopf<u64>(); st = X_BREAK; nx = next(cur); break;
      case O.LEAVE + 1: ok = leave<u16>(); break;
      case O.LEAVE + 3: ok = leave<u64>(); break;

      // Control transfer (always the last entry of a block).
      case O.OP_JCC + 0: if (cond(0)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 1: if (cond(1)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 2: if (cond(2)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 3: if (cond(3)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 4: if (cond(4)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 5: if (cond(5)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 6: if (cond(6)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 7: if (cond(7)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 8: if (cond(8)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 9: if (cond(9)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 10: if (cond(10)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 11: if (cond(11)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 12: if (cond(12)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 13: if (cond(13)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 14: if (cond(14)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JCC + 15: if (cond(15)) { nx = imm<u64>(cur); st = X_BRANCH; } break;
      case O.OP_JMP: nx = imm<u64>(cur); st = X_BRANCH; break;
      case O.OP_CALL: ok = push<u64>(next(cur)); nx = imm<u64>(cur); st = X_BRANCH; break;
      case O.OP_RET: {
        const sp = rget<u64>(RSP), t = rdStack<u64>(sp);
        if (mx) { ok = false; break; }
        if (!canonical(t)) { raise(GP_VECTOR, 0); ok = false; break; }
        rset<u64>(RSP, sp + 8 + load<u64>(cur, E_IMM));
        nx = t; st = X_BRANCH;
        break;
      }
      case O.OP_JMP_RM: case O.OP_CALL_RM: {
        const t = rmRead<u64>(cur);
        if (mx) { ok = false; break; }
        if (!canonical(t)) { raise(GP_VECTOR, 0); ok = false; break; }
        if (load<u16>(cur, E_OP) == O.OP_CALL_RM && !push<u64>(next(cur))) { ok = false; break; }
        nx = t; st = X_BRANCH;
        break;
      }
      case O.OP_LOOPNE: case O.OP_LOOPE: case O.OP_LOOP: case O.OP_JRCXZ:
        if (loop(cur, <i32>load<u16>(cur, E_OP))) { nx = imm<u64>(cur); st = X_BRANCH; }
        break;
      case O.OP_INT3: raiseSoft(BP_VECTOR, INTR_TYPE_SOFT_EXCEPTION); ok = false; break;
      case O.OP_INT: raiseSoft(imm<u32>(cur) & 0xff, INTR_TYPE_SOFT_INTR); ok = false; break;
      case O.OP_INT1: raiseSoft(DB_VECTOR, INTR_TYPE_PRIV_SW_EXCEPTION); ok = false; break;
      case O.IRET + 1: ok = sysIret<u16>(); st = X_BREAK; nx = sysTarget; break;
      case O.IRET + 2: ok = sysIret<u32>(); st = X_BREAK; nx = sysTarget; break;
      case O.IRET + 3: ok = sysIret<u64>(); st = X_BREAK; nx = sysTarget; break;

      // Flags.
      case O.OP_CLC: setCfOf(0, getOF()); break;
      case O.OP_STC: setCfOf(1, getOF()); break;
      case O.OP_CMC: setCfOf(getCF() ^ 1, getOF()); break;
      case O.OP_CLD: flOther &= ~<u64>X86_EFLAGS_DF; break;
      case O.OP_STD: flOther |= X86_EFLAGS_DF; break;
      case O.OP_CLI: flOther &= ~<u64>X86_EFLAGS_IF; break;
      case O.OP_STI: sysSti(); st = X_BREAK; nx = next(cur); break;
      case O.OP_SAHF: setArithFlags((arithFlags() & ~<u64>0xd5) | (<u64>rget<u8>(1) & 0xd5)); break;
      case O.OP_LAHF: rset<u8>(1, <u8>arithFlags() | 2); break;

      // Strings (REP forms are alone in their block).
      case O.MOVS + 0: case O.MOVS + 1: case O.MOVS + 2: case O.MOVS + 3:
      case O.CMPS + 0: case O.CMPS + 1: case O.CMPS + 2: case O.CMPS + 3:
      case O.STOS + 0: case O.STOS + 1: case O.STOS + 2: case O.STOS + 3:
      case O.LODS + 0: case O.LODS + 1: case O.LODS + 2: case O.LODS + 3:
      case O.SCAS + 0: case O.SCAS + 1: case O.SCAS + 2: case O.SCAS + 3: {
        const r = stringOp(cur);
        if (r < 0) ok = false;
        else if (r == 0) { nx = <u64>load<u32>(cur, E_RIP); st = X_BRANCH; } // more iterations to go
        break;
      }

      // System instructions and VM exits (system.ts).
      case O.OP_NOP: break;
      case O.OP_PAUSE: ok = sysPause(cur); break;
      case O.OP_HLT: ok = sysHlt(); st = X_BREAK; nx = next(cur); break;
      case O.OP_CPUID: ok = sysCpuid(); break;
      case O.OP_RDTSC: ok = sysRdtsc(cur, false); break;
      case O.OP_RDTSCP: ok = sysRdtsc(cur, true); break;
      case O.OP_RDMSR: ok = sysRdmsr(cur); break;
      case O.OP_WRMSR: ok = sysWrmsr(cur); st = X_BREAK; nx = next(cur); break;
      case O.OP_INVD: ok = sysInvd(); break;
      case O.OP_WBINVD: ok = sysWbinvd(); break;
      case O.OP_VMCALL: ok = sysVmcall(); break;
      case O.OP_MONITOR: ok = sysMonitor(cur); break;
      case O.OP_MWAIT: ok = sysMwait(); st = X_BREAK; nx = next(cur); break;
      case O.OP_LIDT: ok = sysLidt(ea(cur)); break;
      case O.OP_SIDT: ok = sysSidt(ea(cur)); break;
      case O.OP_IO: ok = sysIo(cur); break;
      case O.OP_IO_STRING: ok = sysIoString(cur); break;
      case O.OP_MOV_SS: {
        const v = rmRead<u16>(cur);
        if (mx) { ok = false; break; }
        sysMovSs(v); st = X_BREAK; nx = next(cur);
        break;
      }

      // Faults found by the decoder, and blocks whose code was overwritten.
      case O.OP_FETCH: fetchFault(load<u64>(cur, E_DISP)); ok = false; break;
      case O.OP_GP_LENGTH: raise(GP_VECTOR, 0); ok = false; break;
      case O.OP_STOP: ok = false; break;
      default: raise(UD_VECTOR); ok = false; // OP_UD and any id without a case
    }
    if (!ok) {
      st = X_STOP;
      break;
    }
  }
  xStatus = st;
  xCur = cur;
  xNext = nx;
}
