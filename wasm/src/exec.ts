// The executor: runs a range of pre-decoded entries through one switch on the op id (a br_table).
// Handlers report whether the instruction retired; one that stops first (a fault, a VM exit, an MMIO
// stop) leaves state.mx set and none of its effects behind.
import * as O from './ops';
import {
  ENTRY, E_RIP, E_OP, E_FL, E_K, E_IMM, E_DISP, E_CUM, E_COST, FL_A32, FL_SI, M_FIRST, M_N, M_COST, M_FN, JIT_USED,
  JIT_INSNS, JIT_NEXT, JIT_BAIL, JIT_BAIL_RIP,
} from './layout';
import { runCompiled, hotLoop } from './jit';
import {
  X86_EFLAGS_DF, X86_EFLAGS_IF, X86_EFLAGS_RF, GP_VECTOR, UD_VECTOR, DE_VECTOR,
  INTR_TYPE_SOFT_EXCEPTION, INTR_TYPE_SOFT_INTR, INTR_TYPE_PRIV_SW_EXCEPTION, BP_VECTOR, DB_VECTOR,
} from './abi';
import {
  flOther, setFlOther, getZF, cond, flagsInc, flagsDec, setCfOf, getCF, getOF, getRflags, arithFlags,
  setArithFlags, sx, bits,
} from './flags';
import {
  alu, neg, shift, hi64, mulu128, muls128, flagsMul, flagsDiv, divu128, divs128, divQuot, divRem,
  flagsBitScan, bitTest,
} from './alu';
import { rd, wr, rdStack, fetchFault } from './mem';
import {
  mx, raise, raiseSoft, canonical, rip, tsc, insns, tscLimit, ramSize, singleStep, xExtraInsns, xExtraCycles,
} from './state';
import { lookup, setLive } from './cache';
import {
  rget, rset, fR, fB, imm, isMem, next, offset, ea, rmRead, rmWrite, push, RAX, RCX, RDX, RSP, RBP,
} from './operands';
import {
  sysHlt, sysPause, sysCpuid, sysRdtsc, sysRdmsr, sysWrmsr, sysInvd, sysWbinvd, sysVmcall,
  sysMonitor, sysMwait, sysLidt, sysSidt, sysIo, sysIoString, sysIret, sysPopf, sysSti, sysMovToSreg, readSreg, sysMovDr, sysMovCr, sysXgetbv, sysXsetbv,
  sysTarget,
} from './system';
import { stringOp } from './strings';

// How execute() returned.
export const X_DONE = 0; //  ran blocks until the budget (or the single instruction) was used: state.rip is next
export const X_BREAK = 1; // xCur retired and the run loop must look at what it did; continue at xNext
export const X_STOP = 2; //  stopped before xCur retired (state.mx says why; MX_NONE: its code was overwritten)
export const X_FETCH = 3; // RIP is outside RAM: nothing to decode
export let xStatus = X_DONE;
export let xCur: usize = 0; // the last entry run (X_DONE) or the one that ended the run
export let xNext: u64 = 0;
/** First entry of the block xCur belongs to (instructions before xCur in it have retired). */
export let blockFirst: usize = 0;

function brk(cur: usize, target: u64): void {
  xStatus = X_BREAK;
  xCur = cur;
  xNext = target;
}
function stop(cur: usize): void {
  xStatus = X_STOP;
  xCur = cur;
}
function done(last: usize, next: u64, t: u64, n: u64): void {
  xStatus = X_DONE;
  xCur = last;
  rip = next;
  tsc = t;
  insns = n;
}

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
  const lo = rget<T>(RAX);
  const hi: T = sizeof<T>() == 1 ? <T>rget<u8>(RAX + 1) : rget<T>(RDX);
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
  if (sizeof<T>() == 1) rset<u16>(RAX, <u16>(q & 0xff | (r & 0xff) << 8)); // AL, AH
  else { rset<T>(RAX, <T>q); rset<T>(RDX, <T>r); }
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
  const acc = rget<T>(RAX);
  alu<T>(O.K_CMP, acc, d);
  if (acc == d) return rmWrite<T>(e, a, rget<T>(fR(e)));
  rset<T>(RAX, d);
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
  const i = reverse ? 63 - <u32>clz<u64>(<u64>s) : <u32>ctz<u64>(<u64>s);
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
  if (sizeof<T>() == 2) rset<u16>(RAX, <u16>sx<u8>(rget<u8>(RAX)));
  else if (sizeof<T>() == 4) rset<u32>(RAX, <u32>sx<u16>(rget<u16>(RAX)));
  else rset<u64>(RAX, <u64>sx<u32>(rget<u32>(RAX)));
}

@inline function cwd<T>(): void {
  rset<T>(RDX, sx<T>(rget<T>(RAX)) < 0 ? <T>-1 : 0);
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
  let c = a32 ? <u64>rget<u32>(RCX) : rget<u64>(RCX);
  if (op == O.OP_JRCXZ) return c == 0;
  c = a32 ? <u64><u32>(c - 1) : c - 1;
  rset<u64>(RCX, c); // ECX written as a 32-bit register: the upper half is zeroed
  if (c == 0) return false;
  if (op == O.OP_LOOPE) return getZF() != 0;
  if (op == O.OP_LOOPNE) return !getZF();
  return true;
}

// ---- The dispatcher ----

/**
 * Runs blocks from state.rip until the TSC reaches tscLimit, or one instruction when single (TF, an
 * interrupt shadow). Control transfers chain to the next block here; anything else that needs the run
 * loop returns with X_BREAK or X_STOP, with state.tsc / state.insns as at the start of xCur's block.
 * fixed: run this block instead of looking one up (emulate()'s scratch entry), or 0.
 */
export function execute(single: bool, fixed: usize): void {
  let pc = rip, t = tsc, n = insns;
  const limit = tscLimit;
  singleStep = single;
  xExtraInsns = 0;
  xExtraCycles = 0;
  let resume: i32 = -1; //   the entry (index) to start at instead of the block's first: a compiled loop stopped there
  let backEdge = false; //   the block was reached by a backward branch: a loop's head, maybe hot
  while (true) {
    if (!fixed && pc >= ramSize) { rip = pc; tsc = t; insns = n; xStatus = X_FETCH; return; }
    const slot = fixed ? fixed : lookup(pc);
    const first = <usize>load<u32>(slot, M_FIRST), full = first + <usize>load<u16>(slot, M_N) * ENTRY;
    const fullCycles = <u64>load<u16>(slot, M_COST);
    setLive(first, full);
    blockFirst = first;
    const fullCount = <u64>load<u16>(slot, M_N);
    let e = first, end = full, count = fullCount, cycles = fullCycles;
    if (resume >= 0) {
      // The rest of a block a compiled loop began, accounted as the whole block from t.
      e = first + <usize>resume * ENTRY;
      resume = -1;
    } else if (!fixed && !single) {
      let fn = load<i32>(slot, M_FN);
      if (fn == 0 && backEdge && hotLoop(slot)) fn = 1;
      if (fn > 0) {
        // A compiled loop (jit.ts) runs as long as whole iterations fit the budget.
        const st = runCompiled(slot, pc, t, limit);
        if (st >= 0) {
          t += load<u64>(JIT_USED);
          n += load<u64>(JIT_INSNS);
          if (st == 0) pc = load<u64>(JIT_NEXT);
          else {
            pc = <u64>load<u32>(JIT_BAIL_RIP);
            resume = <i32>load<u32>(JIT_BAIL);
          }
          if (t >= limit && resume < 0) return done(full - ENTRY, pc, t, n);
          backEdge = false;
          continue;
        }
      }
    }
    backEdge = false;
    if (e == first && (single || t + cycles > limit)) {
      // Only the entries that start before the budget runs out (at least one).
      let last = e;
      if (!single) while (last + ENTRY < end && t + <u64>load<u16>(last + ENTRY, E_CUM) < limit) last += ENTRY;
      end = last + ENTRY;
      count = (last - e) / ENTRY + 1;
      cycles = <u64>load<u16>(last, E_CUM) + <u64>load<u8>(last, E_COST);
    }
    let target: u64 = 0;
    while (true) { // iterations of this block, while it branches back to its own start (a loop)
      tsc = t;
      insns = n;
      do {
        switch (<i32>load<u16>(e, E_OP)) {
          // ALU, register forms, specialised by kind and size.
          case O.ALU_RR + 0: aluRR<u8>(e, O.K_ADD); break;
          case O.ALU_RR + 1: aluRR<u16>(e, O.K_ADD); break;
          case O.ALU_RR + 2: aluRR<u32>(e, O.K_ADD); break;
          case O.ALU_RR + 3: aluRR<u64>(e, O.K_ADD); break;
          case O.ALU_RR + 4: aluRR<u8>(e, O.K_OR); break;
          case O.ALU_RR + 5: aluRR<u16>(e, O.K_OR); break;
          case O.ALU_RR + 6: aluRR<u32>(e, O.K_OR); break;
          case O.ALU_RR + 7: aluRR<u64>(e, O.K_OR); break;
          case O.ALU_RR + 8: aluRR<u8>(e, O.K_ADC); break;
          case O.ALU_RR + 9: aluRR<u16>(e, O.K_ADC); break;
          case O.ALU_RR + 10: aluRR<u32>(e, O.K_ADC); break;
          case O.ALU_RR + 11: aluRR<u64>(e, O.K_ADC); break;
          case O.ALU_RR + 12: aluRR<u8>(e, O.K_SBB); break;
          case O.ALU_RR + 13: aluRR<u16>(e, O.K_SBB); break;
          case O.ALU_RR + 14: aluRR<u32>(e, O.K_SBB); break;
          case O.ALU_RR + 15: aluRR<u64>(e, O.K_SBB); break;
          case O.ALU_RR + 16: aluRR<u8>(e, O.K_AND); break;
          case O.ALU_RR + 17: aluRR<u16>(e, O.K_AND); break;
          case O.ALU_RR + 18: aluRR<u32>(e, O.K_AND); break;
          case O.ALU_RR + 19: aluRR<u64>(e, O.K_AND); break;
          case O.ALU_RR + 20: aluRR<u8>(e, O.K_SUB); break;
          case O.ALU_RR + 21: aluRR<u16>(e, O.K_SUB); break;
          case O.ALU_RR + 22: aluRR<u32>(e, O.K_SUB); break;
          case O.ALU_RR + 23: aluRR<u64>(e, O.K_SUB); break;
          case O.ALU_RR + 24: aluRR<u8>(e, O.K_XOR); break;
          case O.ALU_RR + 25: aluRR<u16>(e, O.K_XOR); break;
          case O.ALU_RR + 26: aluRR<u32>(e, O.K_XOR); break;
          case O.ALU_RR + 27: aluRR<u64>(e, O.K_XOR); break;
          case O.ALU_RR + 28: aluRR<u8>(e, O.K_CMP); break;
          case O.ALU_RR + 29: aluRR<u16>(e, O.K_CMP); break;
          case O.ALU_RR + 30: aluRR<u32>(e, O.K_CMP); break;
          case O.ALU_RR + 31: aluRR<u64>(e, O.K_CMP); break;
          case O.ALU_RR + 32: aluRR<u8>(e, O.K_TEST); break;
          case O.ALU_RR + 33: aluRR<u16>(e, O.K_TEST); break;
          case O.ALU_RR + 34: aluRR<u32>(e, O.K_TEST); break;
          case O.ALU_RR + 35: aluRR<u64>(e, O.K_TEST); break;
          case O.ALU_RI + 0: aluRI<u8>(e, O.K_ADD); break;
          case O.ALU_RI + 1: aluRI<u16>(e, O.K_ADD); break;
          case O.ALU_RI + 2: aluRI<u32>(e, O.K_ADD); break;
          case O.ALU_RI + 3: aluRI<u64>(e, O.K_ADD); break;
          case O.ALU_RI + 4: aluRI<u8>(e, O.K_OR); break;
          case O.ALU_RI + 5: aluRI<u16>(e, O.K_OR); break;
          case O.ALU_RI + 6: aluRI<u32>(e, O.K_OR); break;
          case O.ALU_RI + 7: aluRI<u64>(e, O.K_OR); break;
          case O.ALU_RI + 8: aluRI<u8>(e, O.K_ADC); break;
          case O.ALU_RI + 9: aluRI<u16>(e, O.K_ADC); break;
          case O.ALU_RI + 10: aluRI<u32>(e, O.K_ADC); break;
          case O.ALU_RI + 11: aluRI<u64>(e, O.K_ADC); break;
          case O.ALU_RI + 12: aluRI<u8>(e, O.K_SBB); break;
          case O.ALU_RI + 13: aluRI<u16>(e, O.K_SBB); break;
          case O.ALU_RI + 14: aluRI<u32>(e, O.K_SBB); break;
          case O.ALU_RI + 15: aluRI<u64>(e, O.K_SBB); break;
          case O.ALU_RI + 16: aluRI<u8>(e, O.K_AND); break;
          case O.ALU_RI + 17: aluRI<u16>(e, O.K_AND); break;
          case O.ALU_RI + 18: aluRI<u32>(e, O.K_AND); break;
          case O.ALU_RI + 19: aluRI<u64>(e, O.K_AND); break;
          case O.ALU_RI + 20: aluRI<u8>(e, O.K_SUB); break;
          case O.ALU_RI + 21: aluRI<u16>(e, O.K_SUB); break;
          case O.ALU_RI + 22: aluRI<u32>(e, O.K_SUB); break;
          case O.ALU_RI + 23: aluRI<u64>(e, O.K_SUB); break;
          case O.ALU_RI + 24: aluRI<u8>(e, O.K_XOR); break;
          case O.ALU_RI + 25: aluRI<u16>(e, O.K_XOR); break;
          case O.ALU_RI + 26: aluRI<u32>(e, O.K_XOR); break;
          case O.ALU_RI + 27: aluRI<u64>(e, O.K_XOR); break;
          case O.ALU_RI + 28: aluRI<u8>(e, O.K_CMP); break;
          case O.ALU_RI + 29: aluRI<u16>(e, O.K_CMP); break;
          case O.ALU_RI + 30: aluRI<u32>(e, O.K_CMP); break;
          case O.ALU_RI + 31: aluRI<u64>(e, O.K_CMP); break;
          case O.ALU_RI + 32: aluRI<u8>(e, O.K_TEST); break;
          case O.ALU_RI + 33: aluRI<u16>(e, O.K_TEST); break;
          case O.ALU_RI + 34: aluRI<u32>(e, O.K_TEST); break;
          case O.ALU_RI + 35: aluRI<u64>(e, O.K_TEST); break;
          case O.ALU_RM + 0: if (!aluMem<u8>(e, O.ALU_RM)) return stop(e); break;
          case O.ALU_RM + 1: if (!aluMem<u16>(e, O.ALU_RM)) return stop(e); break;
          case O.ALU_RM + 2: if (!aluMem<u32>(e, O.ALU_RM)) return stop(e); break;
          case O.ALU_RM + 3: if (!aluMem<u64>(e, O.ALU_RM)) return stop(e); break;
          case O.ALU_MR + 0: if (!aluMem<u8>(e, O.ALU_MR)) return stop(e); break;
          case O.ALU_MR + 1: if (!aluMem<u16>(e, O.ALU_MR)) return stop(e); break;
          case O.ALU_MR + 2: if (!aluMem<u32>(e, O.ALU_MR)) return stop(e); break;
          case O.ALU_MR + 3: if (!aluMem<u64>(e, O.ALU_MR)) return stop(e); break;
          case O.ALU_MI + 0: if (!aluMem<u8>(e, O.ALU_MI)) return stop(e); break;
          case O.ALU_MI + 1: if (!aluMem<u16>(e, O.ALU_MI)) return stop(e); break;
          case O.ALU_MI + 2: if (!aluMem<u32>(e, O.ALU_MI)) return stop(e); break;
          case O.ALU_MI + 3: if (!aluMem<u64>(e, O.ALU_MI)) return stop(e); break;

          // MOV.
          case O.MOV_RR + 0: rset<u8>(fB(e), rget<u8>(fR(e))); break;
          case O.MOV_RR + 1: rset<u16>(fB(e), rget<u16>(fR(e))); break;
          case O.MOV_RR + 2: rset<u32>(fB(e), rget<u32>(fR(e))); break;
          case O.MOV_RR + 3: rset<u64>(fB(e), rget<u64>(fR(e))); break;
          case O.MOV_RM + 0: { const v = rd<u8>(ea(e)); if (mx) return stop(e); rset<u8>(fR(e), v); break; }
          case O.MOV_RM + 1: { const v = rd<u16>(ea(e)); if (mx) return stop(e); rset<u16>(fR(e), v); break; }
          case O.MOV_RM + 2: { const v = rd<u32>(ea(e)); if (mx) return stop(e); rset<u32>(fR(e), v); break; }
          case O.MOV_RM + 3: { const v = rd<u64>(ea(e)); if (mx) return stop(e); rset<u64>(fR(e), v); break; }
          case O.MOV_MR + 0: if (!wr<u8>(ea(e), rget<u8>(fR(e)))) return stop(e); break;
          case O.MOV_MR + 1: if (!wr<u16>(ea(e), rget<u16>(fR(e)))) return stop(e); break;
          case O.MOV_MR + 2: if (!wr<u32>(ea(e), rget<u32>(fR(e)))) return stop(e); break;
          case O.MOV_MR + 3: if (!wr<u64>(ea(e), rget<u64>(fR(e)))) return stop(e); break;
          case O.MOV_RI + 0: rset<u8>(fB(e), imm<u8>(e)); break;
          case O.MOV_RI + 1: rset<u16>(fB(e), imm<u16>(e)); break;
          case O.MOV_RI + 2: rset<u32>(fB(e), imm<u32>(e)); break;
          case O.MOV_RI + 3: rset<u64>(fB(e), imm<u64>(e)); break;
          case O.MOV_MI + 0: if (!wr<u8>(ea(e), imm<u8>(e))) return stop(e); break;
          case O.MOV_MI + 1: if (!wr<u16>(ea(e), imm<u16>(e))) return stop(e); break;
          case O.MOV_MI + 2: if (!wr<u32>(ea(e), imm<u32>(e))) return stop(e); break;
          case O.MOV_MI + 3: if (!wr<u64>(ea(e), imm<u64>(e))) return stop(e); break;
          case O.MOVZX8 + 1: if (!movx<u8, u16>(e, false)) return stop(e); break;
          case O.MOVZX8 + 2: if (!movx<u8, u32>(e, false)) return stop(e); break;
          case O.MOVZX8 + 3: if (!movx<u8, u64>(e, false)) return stop(e); break;
          case O.MOVZX16 + 1: if (!movx<u16, u16>(e, false)) return stop(e); break;
          case O.MOVZX16 + 2: if (!movx<u16, u32>(e, false)) return stop(e); break;
          case O.MOVZX16 + 3: if (!movx<u16, u64>(e, false)) return stop(e); break;
          case O.MOVSX8 + 1: if (!movx<u8, u16>(e, true)) return stop(e); break;
          case O.MOVSX8 + 2: if (!movx<u8, u32>(e, true)) return stop(e); break;
          case O.MOVSX8 + 3: if (!movx<u8, u64>(e, true)) return stop(e); break;
          case O.MOVSX16 + 1: if (!movx<u16, u16>(e, true)) return stop(e); break;
          case O.MOVSX16 + 2: if (!movx<u16, u32>(e, true)) return stop(e); break;
          case O.MOVSX16 + 3: if (!movx<u16, u64>(e, true)) return stop(e); break;
          case O.MOVSX32 + 1: if (!movx<u16, u16>(e, false)) return stop(e); break;
          case O.MOVSX32 + 2: if (!movx<u32, u32>(e, false)) return stop(e); break;
          case O.MOVSX32 + 3: if (!movx<u32, u64>(e, true)) return stop(e); break;
          case O.LEA + 1: rset<u16>(fR(e), <u16>offset(e)); break;
          case O.LEA + 2: rset<u32>(fR(e), <u32>offset(e)); break;
          case O.LEA + 3: rset<u64>(fR(e), offset(e)); break;
          case O.XCHG + 0: if (!xchg<u8>(e)) return stop(e); break;
          case O.XCHG + 1: if (!xchg<u16>(e)) return stop(e); break;
          case O.XCHG + 2: if (!xchg<u32>(e)) return stop(e); break;
          case O.XCHG + 3: if (!xchg<u64>(e)) return stop(e); break;
          case O.XADD + 0: if (!xadd<u8>(e)) return stop(e); break;
          case O.XADD + 1: if (!xadd<u16>(e)) return stop(e); break;
          case O.XADD + 2: if (!xadd<u32>(e)) return stop(e); break;
          case O.XADD + 3: if (!xadd<u64>(e)) return stop(e); break;
          case O.CMPXCHG + 0: if (!cmpxchg<u8>(e)) return stop(e); break;
          case O.CMPXCHG + 1: if (!cmpxchg<u16>(e)) return stop(e); break;
          case O.CMPXCHG + 2: if (!cmpxchg<u32>(e)) return stop(e); break;
          case O.CMPXCHG + 3: if (!cmpxchg<u64>(e)) return stop(e); break;
          case O.CMOV + 1: if (!cmov<u16>(e)) return stop(e); break;
          case O.CMOV + 2: if (!cmov<u32>(e)) return stop(e); break;
          case O.CMOV + 3: if (!cmov<u64>(e)) return stop(e); break;
          case O.OP_SETCC: if (!setcc(e)) return stop(e); break;
          case O.BSWAP + 1: rset<u16>(fB(e), 0); break; // BSWAP r16 clears it here (undefined in the SDM)
          case O.BSWAP + 2: rset<u32>(fB(e), bswap<u32>(rget<u32>(fB(e)))); break;
          case O.BSWAP + 3: rset<u64>(fB(e), bswap<u64>(rget<u64>(fB(e)))); break;
          case O.CBW + 1: cbw<u16>(); break;
          case O.CBW + 2: cbw<u32>(); break;
          case O.CBW + 3: cbw<u64>(); break;
          case O.CWD + 1: cwd<u16>(); break;
          case O.CWD + 2: cwd<u32>(); break;
          case O.CWD + 3: cwd<u64>(); break;

          // INC/DEC, unary, shifts, multiply and divide, bit operations.
          case O.INC_R + 0: { const d = fB(e), v = rget<u8>(d), r = <u8>(v + 1); flagsInc<u8>(v, r); rset<u8>(d, r); break; }
          case O.INC_R + 1: { const d = fB(e), v = rget<u16>(d), r = <u16>(v + 1); flagsInc<u16>(v, r); rset<u16>(d, r); break; }
          case O.INC_R + 2: { const d = fB(e), v = rget<u32>(d), r = v + 1; flagsInc<u32>(v, r); rset<u32>(d, r); break; }
          case O.INC_R + 3: { const d = fB(e), v = rget<u64>(d), r = v + 1; flagsInc<u64>(v, r); rset<u64>(d, r); break; }
          case O.DEC_R + 0: { const d = fB(e), v = rget<u8>(d), r = <u8>(v - 1); flagsDec<u8>(v, r); rset<u8>(d, r); break; }
          case O.DEC_R + 1: { const d = fB(e), v = rget<u16>(d), r = <u16>(v - 1); flagsDec<u16>(v, r); rset<u16>(d, r); break; }
          case O.DEC_R + 2: { const d = fB(e), v = rget<u32>(d), r = v - 1; flagsDec<u32>(v, r); rset<u32>(d, r); break; }
          case O.DEC_R + 3: { const d = fB(e), v = rget<u64>(d), r = v - 1; flagsDec<u64>(v, r); rset<u64>(d, r); break; }
          case O.UNARY + 0: if (!unary<u8>(e)) return stop(e); break;
          case O.UNARY + 1: if (!unary<u16>(e)) return stop(e); break;
          case O.UNARY + 2: if (!unary<u32>(e)) return stop(e); break;
          case O.UNARY + 3: if (!unary<u64>(e)) return stop(e); break;
          case O.SHIFT + 0: if (!shiftOp<u8>(e, imm<u32>(e))) return stop(e); break;
          case O.SHIFT + 1: if (!shiftOp<u16>(e, imm<u32>(e))) return stop(e); break;
          case O.SHIFT + 2: if (!shiftOp<u32>(e, imm<u32>(e))) return stop(e); break;
          case O.SHIFT + 3: if (!shiftOp<u64>(e, imm<u32>(e))) return stop(e); break;
          case O.SHIFT_CL + 0: if (!shiftOp<u8>(e, rget<u8>(RCX))) return stop(e); break;
          case O.SHIFT_CL + 1: if (!shiftOp<u16>(e, rget<u8>(RCX))) return stop(e); break;
          case O.SHIFT_CL + 2: if (!shiftOp<u32>(e, rget<u8>(RCX))) return stop(e); break;
          case O.SHIFT_CL + 3: if (!shiftOp<u64>(e, rget<u8>(RCX))) return stop(e); break;
          case O.MULDIV + 0: if (!mulDiv<u8>(e)) return stop(e); break;
          case O.MULDIV + 1: if (!mulDiv<u16>(e)) return stop(e); break;
          case O.MULDIV + 2: if (!mulDiv<u32>(e)) return stop(e); break;
          case O.MULDIV + 3: if (!mulDiv<u64>(e)) return stop(e); break;
          case O.IMUL2 + 1: if (!imulR<u16>(e, false)) return stop(e); break;
          case O.IMUL2 + 2: if (!imulR<u32>(e, false)) return stop(e); break;
          case O.IMUL2 + 3: if (!imulR<u64>(e, false)) return stop(e); break;
          case O.IMUL3 + 1: if (!imulR<u16>(e, true)) return stop(e); break;
          case O.IMUL3 + 2: if (!imulR<u32>(e, true)) return stop(e); break;
          case O.IMUL3 + 3: if (!imulR<u64>(e, true)) return stop(e); break;
          case O.BT_R + 1: if (!bt<u16>(e, true)) return stop(e); break;
          case O.BT_R + 2: if (!bt<u32>(e, true)) return stop(e); break;
          case O.BT_R + 3: if (!bt<u64>(e, true)) return stop(e); break;
          case O.BT_I + 1: if (!bt<u16>(e, false)) return stop(e); break;
          case O.BT_I + 2: if (!bt<u32>(e, false)) return stop(e); break;
          case O.BT_I + 3: if (!bt<u64>(e, false)) return stop(e); break;
          case O.BSF + 1: if (!bitScan<u16>(e, false)) return stop(e); break;
          case O.BSF + 2: if (!bitScan<u32>(e, false)) return stop(e); break;
          case O.BSF + 3: if (!bitScan<u64>(e, false)) return stop(e); break;
          case O.BSR + 1: if (!bitScan<u16>(e, true)) return stop(e); break;
          case O.BSR + 2: if (!bitScan<u32>(e, true)) return stop(e); break;
          case O.BSR + 3: if (!bitScan<u64>(e, true)) return stop(e); break;

          // Stack.
          case O.PUSH_R + 1: if (!push<u16>(rget<u16>(fB(e)))) return stop(e); break;
          case O.PUSH_R + 3: if (!push<u64>(rget<u64>(fB(e)))) return stop(e); break;
          case O.POP_R + 1: { const v = rdStack<u16>(rget<u64>(RSP)); if (mx) return stop(e); rset<u64>(RSP, rget<u64>(RSP) + 2); rset<u16>(fB(e), v); break; }
          case O.POP_R + 3: { const v = rdStack<u64>(rget<u64>(RSP)); if (mx) return stop(e); rset<u64>(RSP, rget<u64>(RSP) + 8); rset<u64>(fB(e), v); break; }
          case O.PUSH_I + 1: if (!push<u16>(imm<u16>(e))) return stop(e); break;
          case O.PUSH_I + 3: if (!push<u64>(imm<u64>(e))) return stop(e); break;
          case O.PUSH_RM + 1: if (!pushRm<u16>(e)) return stop(e); break;
          case O.PUSH_RM + 3: if (!pushRm<u64>(e)) return stop(e); break;
          case O.POP_RM + 1: if (!popRm<u16>(e)) return stop(e); break;
          case O.POP_RM + 3: if (!popRm<u64>(e)) return stop(e); break;
          case O.PUSHF + 1: if (!push<u16>(<u16>getRflags())) return stop(e); break;
          case O.PUSHF + 3: if (!push<u64>(getRflags() & ~<u64>X86_EFLAGS_RF)) return stop(e); break;
          case O.POPF + 1: if (!sysPopf<u16>()) return stop(e); return brk(e, next(e));
          case O.POPF + 3: if (!sysPopf<u64>()) return stop(e); return brk(e, next(e));
          case O.LEAVE + 1: if (!leave<u16>()) return stop(e); break;
          case O.LEAVE + 3: if (!leave<u64>()) return stop(e); break;

          // Control transfer (always the last entry of a block).
          case O.OP_JCC + 0: if (cond(0)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 1: if (cond(1)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 2: if (cond(2)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 3: if (cond(3)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 4: if (cond(4)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 5: if (cond(5)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 6: if (cond(6)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 7: if (cond(7)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 8: if (cond(8)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 9: if (cond(9)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 10: if (cond(10)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 11: if (cond(11)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 12: if (cond(12)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 13: if (cond(13)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 14: if (cond(14)) { target = imm<u64>(e); end = 0; } break;
          case O.OP_JCC + 15: if (cond(15)) { target = imm<u64>(e); end = 0; } break;
          // Fused "op; Jcc" pairs (cache.ts fuse): the Jcc is the next, and last, entry.
          case O.DEC_JNZ + 2: { const d = fB(e), v = rget<u32>(d), r = v - 1; flagsDec<u32>(v, r); rset<u32>(d, r); if (e + ENTRY < end) { e += ENTRY; if (r != 0) { target = imm<u64>(e); end = 0; } } break; }
          case O.DEC_JNZ + 3: { const d = fB(e), v = rget<u64>(d), r = v - 1; flagsDec<u64>(v, r); rset<u64>(d, r); if (e + ENTRY < end) { e += ENTRY; if (r != 0) { target = imm<u64>(e); end = 0; } } break; }
          case O.CMP_JCC_RR + 2: aluRR<u32>(e, O.K_CMP); if (e + ENTRY < end) { e += ENTRY; if (cond(<u32>load<u16>(e, E_OP) - O.OP_JCC)) { target = imm<u64>(e); end = 0; } } break;
          case O.CMP_JCC_RR + 3: aluRR<u64>(e, O.K_CMP); if (e + ENTRY < end) { e += ENTRY; if (cond(<u32>load<u16>(e, E_OP) - O.OP_JCC)) { target = imm<u64>(e); end = 0; } } break;
          case O.CMP_JCC_RI + 2: aluRI<u32>(e, O.K_CMP); if (e + ENTRY < end) { e += ENTRY; if (cond(<u32>load<u16>(e, E_OP) - O.OP_JCC)) { target = imm<u64>(e); end = 0; } } break;
          case O.CMP_JCC_RI + 3: aluRI<u64>(e, O.K_CMP); if (e + ENTRY < end) { e += ENTRY; if (cond(<u32>load<u16>(e, E_OP) - O.OP_JCC)) { target = imm<u64>(e); end = 0; } } break;
          case O.TEST_JCC_RR + 2: aluRR<u32>(e, O.K_TEST); if (e + ENTRY < end) { e += ENTRY; if (cond(<u32>load<u16>(e, E_OP) - O.OP_JCC)) { target = imm<u64>(e); end = 0; } } break;
          case O.TEST_JCC_RR + 3: aluRR<u64>(e, O.K_TEST); if (e + ENTRY < end) { e += ENTRY; if (cond(<u32>load<u16>(e, E_OP) - O.OP_JCC)) { target = imm<u64>(e); end = 0; } } break;
          case O.OP_JMP: target = imm<u64>(e); end = 0; break;
          case O.CALL + 1: if (!push<u16>(<u16>next(e))) return stop(e); target = imm<u64>(e); end = 0; break;
          case O.CALL + 3: if (!push<u64>(next(e))) return stop(e); target = imm<u64>(e); end = 0; break;
          case O.RET + 1: {
            const sp = rget<u64>(RSP), to = <u64>rdStack<u16>(sp);
            if (mx) return stop(e);
            rset<u64>(RSP, sp + 2 + load<u64>(e, E_IMM));
            target = to; end = 0; break;
          }
          case O.RET + 3: {
            const sp = rget<u64>(RSP), to = rdStack<u64>(sp);
            if (mx) return stop(e);
            if (!canonical(to)) { raise(GP_VECTOR, 0); return stop(e); }
            rset<u64>(RSP, sp + 8 + load<u64>(e, E_IMM));
            target = to; end = 0; break;
          }
          case O.JMP_RM + 1: case O.CALL_RM + 1: {
            const to = <u64>rmRead<u16>(e);
            if (mx) return stop(e);
            if (load<u16>(e, E_OP) == O.CALL_RM + 1 && !push<u16>(<u16>next(e))) return stop(e);
            target = to; end = 0; break;
          }
          case O.JMP_RM + 3: case O.CALL_RM + 3: {
            const to = rmRead<u64>(e);
            if (mx) return stop(e);
            if (!canonical(to)) { raise(GP_VECTOR, 0); return stop(e); }
            if (load<u16>(e, E_OP) == O.CALL_RM + 3 && !push<u64>(next(e))) return stop(e);
            target = to; end = 0; break;
          }
          case O.OP_LOOPNE: case O.OP_LOOPE: case O.OP_LOOP: case O.OP_JRCXZ:
            if (loop(e, <i32>load<u16>(e, E_OP))) { target = imm<u64>(e); end = 0; }
            break;
          case O.OP_INT3: raiseSoft(BP_VECTOR, INTR_TYPE_SOFT_EXCEPTION); return stop(e);
          case O.OP_INT: raiseSoft(imm<u32>(e) & 0xff, INTR_TYPE_SOFT_INTR); return stop(e);
          case O.OP_INT1: raiseSoft(DB_VECTOR, INTR_TYPE_PRIV_SW_EXCEPTION); return stop(e);
          case O.IRET + 1: if (!sysIret<u16>()) return stop(e); return brk(e, sysTarget);
          case O.IRET + 2: if (!sysIret<u32>()) return stop(e); return brk(e, sysTarget);
          case O.IRET + 3: if (!sysIret<u64>()) return stop(e); return brk(e, sysTarget);

          // Flags.
          case O.OP_CLC: setCfOf(0, getOF()); break;
          case O.OP_STC: setCfOf(1, getOF()); break;
          case O.OP_CMC: setCfOf(getCF() ^ 1, getOF()); break;
          case O.OP_CLD: setFlOther(flOther() & ~<u64>X86_EFLAGS_DF); break;
          case O.OP_STD: setFlOther(flOther() | X86_EFLAGS_DF); break;
          case O.OP_CLI: setFlOther(flOther() & ~<u64>X86_EFLAGS_IF); break;
          case O.OP_STI: sysSti(); return brk(e, next(e));
          case O.OP_SAHF: setArithFlags((arithFlags() & ~<u64>0xd5) | (<u64>rget<u8>(RAX + 1) & 0xd5)); break;
          case O.OP_LAHF: rset<u8>(RAX + 1, <u8>arithFlags() | 2); break; // AH

          // Strings (REP forms are alone in their block).
          case O.MOVS + 0: case O.MOVS + 1: case O.MOVS + 2: case O.MOVS + 3:
          case O.CMPS + 0: case O.CMPS + 1: case O.CMPS + 2: case O.CMPS + 3:
          case O.STOS + 0: case O.STOS + 1: case O.STOS + 2: case O.STOS + 3:
          case O.LODS + 0: case O.LODS + 1: case O.LODS + 2: case O.LODS + 3:
          case O.SCAS + 0: case O.SCAS + 1: case O.SCAS + 2: case O.SCAS + 3: {
            const r = stringOp(e);
            if (r < 0) return stop(e);
            if (r == 0) return brk(e, <u64>load<u32>(e, E_RIP)); // more iterations to go
            if (xExtraInsns) return brk(e, next(e));
            break;
          }

          // System instructions and VM exits (system.ts).
          case O.OP_NOP: break;
          case O.OP_PAUSE: if (!sysPause(e)) return stop(e); break;
          case O.OP_HLT: if (!sysHlt()) return stop(e); return brk(e, next(e));
          case O.OP_CPUID: if (!sysCpuid()) return stop(e); break;
          case O.OP_RDTSC: if (!sysRdtsc(e, false)) return stop(e); break;
          case O.OP_RDTSCP: if (!sysRdtsc(e, true)) return stop(e); break;
          case O.OP_RDMSR: if (!sysRdmsr(e)) return stop(e); break;
          case O.OP_WRMSR: if (!sysWrmsr(e)) return stop(e); return brk(e, next(e));
          case O.OP_INVD: if (!sysInvd()) return stop(e); break;
          case O.OP_WBINVD: if (!sysWbinvd()) return stop(e); break;
          case O.OP_VMCALL: if (!sysVmcall()) return stop(e); break;
          case O.OP_MONITOR: if (!sysMonitor(e)) return stop(e); break;
          case O.OP_MWAIT: if (!sysMwait()) return stop(e); return brk(e, next(e));
          case O.OP_LIDT: if (!sysLidt(ea(e))) return stop(e); break;
          case O.OP_SIDT: if (!sysSidt(ea(e))) return stop(e); break;
          case O.OP_IO: if (!sysIo(e)) return stop(e); break;
          case O.OP_IO_STRING: if (!sysIoString(e)) return stop(e); break;
          case O.OP_MOV_TO_SREG: {
            const v = rmRead<u16>(e);
            if (mx) return stop(e);
            sysMovToSreg(load<u8>(e, E_K), v);
            return brk(e, next(e));
          }
          case O.OP_MOV_FROM_CR: if (!sysMovCr(e, false)) return stop(e); break;
          case O.OP_MOV_TO_CR: if (!sysMovCr(e, true)) return stop(e); break;
          case O.OP_XGETBV: if (!sysXgetbv()) return stop(e); break;
          case O.OP_XSETBV: if (!sysXsetbv()) return stop(e); break;
          case O.OP_MOV_FROM_DR: if (!sysMovDr(e, false)) return stop(e); break;
          case O.OP_MOV_TO_DR: if (!sysMovDr(e, true)) return stop(e); break;
          case O.OP_MOV_FROM_SREG: { // to memory 16 bits; to a register zero-extended (16 bits with 66)
            const v = readSreg(load<u8>(e, E_K));
            if (isMem(e)) { if (!wr<u16>(ea(e), v)) return stop(e); }
            else if ((load<u8>(e, E_FL) & FL_SI) == 1) rset<u16>(fB(e), v);
            else rset<u64>(fB(e), <u64>v);
            break;
          }

          // Faults found by the decoder, and blocks whose code was overwritten.
          case O.OP_FETCH: fetchFault(load<u64>(e, E_DISP)); return stop(e);
          case O.OP_GP_LENGTH: raise(GP_VECTOR, 0); return stop(e);
          case O.OP_STOP: return stop(e);
          default: raise(UD_VECTOR); return stop(e); // OP_UD and any id without a case
        }
        e += ENTRY;
      } while (e < end);
      // The block ran: a taken branch left end = 0 and its target; otherwise it fell through.
      e -= ENTRY;
      t += cycles;
      n += count;
      pc = end == 0 ? target : next(e);
      if (single || t >= limit) return done(e, pc, t, n);
      backEdge = end == 0 && pc <= <u64>load<u32>(e, E_RIP);
      // A loop in one block: round again here, until it is hot enough to compile (then the outer
      // loop runs that). Other backward branches are counted where they land.
      if (pc != <u64>load<u32>(first, E_RIP) || t + fullCycles > limit || fixed) break;
      if (load<i32>(slot, M_FN) == 0 && hotLoop(slot)) break;
      e = first;
      end = full;
      count = fullCount;
      cycles = fullCycles;
    }
  }
}
