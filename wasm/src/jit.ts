// A compiler for hot loops. The blocks from a loop's head around to it again (through CALL, RET, JMP
// and fall-through; a conditional branch out of the loop is a side exit), made only of register and
// plain-memory operations, become one WebAssembly function (written here, compiled by the host
// through the imported env.jit, called through the function table). Registers and the lazy flags live
// in wasm locals inside it, so V8 keeps them in machine registers and drops flag computations nobody
// reads. It runs whole iterations while the cycle budget allows, and hands back to the interpreter
// (bails out) before any access that is not plain RAM, or a RET that does not return where the loop
// did: an exit, an MMIO access or a store into code then happens in the interpreter, exactly as
// without the compiler.
import * as O from './ops';
import {
  CUR, ZERO_REG, ENTRY, RAM, LINE_FLAGS, LINE_SHIFT, LF_RES, LF_AUX, E_RIP, E_OP, E_LEN, E_FL, E_R,
  E_B, E_X, E_SC, E_K, E_DISP, E_IMM, FL_A32, FL_FS, FL_GS, FL_MEM, M_FIRST, M_N, M_COST,
  M_HOT, M_FN, M_RIP, M_TRACE_COST, JIT_BUF, JIT_BUF_END, JIT_INDEX, JIT_THRESHOLD, JIT_USED, JIT_INSNS,
  JIT_NEXT, JIT_BAIL, JIT_BAIL_RIP, JIT_TRACE, JIT_CALLS,
} from './layout';
import { ramSize, tsc } from './state';
import { gen, cached } from './cache';

/** Compiles the module at [ptr, ptr+len) and puts its function "f" at `index` of the table; 0 on failure. */
@external('env', 'jit')
declare function hostCompile(ptr: usize, len: u32, index: u32): i32;

/** Block starts in the interpreter before a loop is compiled, unless setJitThreshold() says otherwise. */
export const DEFAULT_JIT_THRESHOLD: u32 = 64;
/** A compiled block's return value when it was compiled for other code (a snapshot put memory back). */
export const JIT_STALE = 0xffff;
const MAX_ITERATIONS = 65536; // per call, so that V8 can move later calls to its optimising tier

// ---- Writing WebAssembly ----

let p: usize = JIT_BUF;
let overflow = false;

@inline function byte(x: u32): void {
  if (p < JIT_BUF_END) store<u8>(p++, <u8>x);
  else overflow = true;
}
function uleb(v: u64): void {
  do {
    let c = <u32>(v & 0x7f);
    v >>= 7;
    if (v) c |= 0x80;
    byte(c);
  } while (v);
}
function sleb(v: i64): void {
  while (true) {
    const c = <u32>(v & 0x7f);
    v >>= 7;
    if ((v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40))) { byte(c); return; }
    byte(c | 0x80);
  }
}

// Opcodes used.
const BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, RETURN = 0x0f;
const VOID = 0x40;
const LGET = 0x20, LSET = 0x21;
const I32_LOAD = 0x28, I64_LOAD = 0x29, I32_LOAD8U = 0x2d, I64_LOAD8U = 0x31, I64_LOAD16U = 0x33, I64_LOAD32U = 0x35;
const I32_STORE = 0x36, I64_STORE = 0x37, I64_STORE8 = 0x3c, I64_STORE16 = 0x3d, I64_STORE32 = 0x3e;
const I32_CONST = 0x41, I64_CONST = 0x42;
const I32_EQZ = 0x45, I32_NE = 0x47, I32_LT_U = 0x49;
const I64_EQZ = 0x50, I64_EQ = 0x51, I64_NE = 0x52, I64_GT_U = 0x56, I64_LE_U = 0x58;
const I32_POPCNT = 0x69, I32_ADD = 0x6a, I32_AND = 0x71, I32_OR = 0x72, I32_XOR = 0x73, I32_SHL = 0x74, I32_SHR_U = 0x76;
const I64_ADD = 0x7c, I64_SUB = 0x7d, I64_AND = 0x83, I64_OR = 0x84, I64_XOR = 0x85, I64_SHL = 0x86;
const I64_SHR_S = 0x87, I64_SHR_U = 0x88, I32_WRAP = 0xa7, I64_EXTEND_U = 0xad;

// Locals: the parameters (cycles available, the RIP and cache generation it is called for), the 16
// registers, the lazy flags, the accounting, and scratch.
const L_AVAIL = 0, L_RIP = 1, L_GEN = 2, L_REG = 3, L_RES = 19, L_USED = 20, L_A = 21, L_B = 22, L_R = 23,
  L_EA = 24, L_NEXT = 25, L_T = 26, L_INSNS = 27, L_AUX = 28, L_ITERS = 29, L_ST = 30;
const I64_LOCALS = 25, I32_LOCALS = 3; // L_REG..L_INSNS, then L_AUX..L_ST

@inline function op(c: u32): void { byte(c); }
@inline function lget(i: u32): void { byte(LGET); byte(i); }
@inline function lset(i: u32): void { byte(LSET); byte(i); }
@inline function i64c(v: i64): void { byte(I64_CONST); sleb(v); }
@inline function i32c(v: i32): void { byte(I32_CONST); sleb(<i64>v); }
/** A load or store with its memarg: the address on the stack plus the constant offset `at`. */
function memarg(opcode: u32, align: u32, at: usize): void {
  byte(opcode); byte(align); uleb(<u64>at);
}
/** A load from the constant address `at`. */
function loadAt(opcode: u32, align: u32, at: usize): void {
  i32c(0);
  memarg(opcode, align, at);
}

// ---- Operands ----

let regsUsed: u32 = 0;

@inline function mask(si: u32): i64 {
  return si == 3 ? -1 : (<i64>1 << (<i64>8 << si)) - 1;
}

/** Pushes the register operand (CUR offset off, size index si) zero-extended to i64. */
function getReg(off: u32, si: u32): void {
  if (off == ZERO_REG) { i64c(0); return; }
  const n = off >> 3;
  regsUsed |= 1 << n;
  lget(L_REG + n);
  if (si == 0 && (off & 1)) { i64c(8); op(I64_SHR_U); }
  if (si < 3) { i64c(mask(si)); op(I64_AND); }
}

/** Pops an i64 into the register operand: 32-bit writes zero-extend, 8- and 16-bit ones merge. */
function setReg(off: u32, si: u32): void {
  const n = off >> 3;
  regsUsed |= 1 << n;
  if (si == 3) { lset(L_REG + n); return; }
  if (si == 2) { i64c(0xffffffff); op(I64_AND); lset(L_REG + n); return; }
  const shift: i64 = si == 0 && (off & 1) ? 8 : 0;
  i64c(mask(si)); op(I64_AND);
  if (shift) { i64c(shift); op(I64_SHL); }
  lset(L_T);
  lget(L_REG + n); i64c(~(mask(si) << shift)); op(I64_AND);
  lget(L_T); op(I64_OR);
  lset(L_REG + n);
}

/** Sign-extends the i64 on the stack from the width of size index si. */
function sext(si: u32): void {
  if (si == 3) return;
  const s: i64 = 64 - (<i64>8 << si);
  i64c(s); op(I64_SHL); i64c(s); op(I64_SHR_S);
}

// ---- Memory: plain RAM only; anything else bails out to the interpreter at entry k ----

// The block being written: its start, and its first entry (a bail-out names an entry by its index,
// which stays right even if the interpreter has to decode the block again).
let blockRip: u32 = 0;
let blockEntries: usize = 0;

/** Leaves the loop for the interpreter to run entry e (of the block at blockRip); inside one `if`. */
function bail(e: usize): void {
  i32c(0); i32c(<i32>((e - blockEntries) / ENTRY)); memarg(I32_STORE, 2, JIT_BAIL);
  i32c(0); i32c(<i32>blockRip); memarg(I32_STORE, 2, JIT_BAIL_RIP);
  i32c(1); lset(L_ST);
  byte(BR); byte(2);
}

/** L_EA = the entry's memory operand address. False for FS/GS overrides (not compiled). */
function address(e: usize): bool {
  const fl = load<u8>(e, E_FL);
  if (fl & (FL_FS | FL_GS)) return false;
  getReg(load<u8>(e, E_B), 3);
  const x = <u32>load<u8>(e, E_X);
  if (x != ZERO_REG) {
    getReg(x, 3);
    i64c(<i64>load<u8>(e, E_SC)); op(I64_SHL); op(I64_ADD);
  }
  i64c(load<i64>(e, E_DISP)); op(I64_ADD);
  if (fl & FL_A32) { i64c(0xffffffff); op(I64_AND); }
  lset(L_EA);
  return true;
}

/** Bails out unless [L_EA, +size) is RAM (and, for a store, not a flagged code or monitor line). */
function check(size: u32, store: bool, k: usize): void {
  lget(L_EA); i64c(<i64>(ramSize - size)); op(I64_GT_U);
  if (store) {
    lget(L_EA); i64c(LINE_SHIFT); op(I64_SHR_U); op(I32_WRAP); i32c(0xfffff); op(I32_AND); // in bounds either way
    memarg(I32_LOAD8U, 0, LINE_FLAGS);
    op(I32_OR);
  }
  byte(IF); byte(VOID); bail(k); op(END);
}

function loadRam(si: u32): void {
  lget(L_EA); op(I32_WRAP);
  memarg(si == 0 ? I64_LOAD8U : si == 1 ? I64_LOAD16U : si == 2 ? I64_LOAD32U : I64_LOAD, si, RAM);
}

/** Stores the i64 in local v at L_EA. */
function storeRam(si: u32, v: u32): void {
  lget(L_EA); op(I32_WRAP); lget(v);
  memarg(si == 0 ? I64_STORE8 : si == 1 ? I64_STORE16 : si == 2 ? I64_STORE32 : I64_STORE, si, RAM);
}

// ---- Flags (the formulas of flags.ts, on locals) ----

function cf64(): void {
  lget(L_AUX); i32c(31); op(I32_SHR_U); op(I64_EXTEND_U);
}

/** L_RES and L_AUX after an ALU operation of kind k on L_A, L_B giving L_R. */
function aluFlags(k: i32, si: u32): void {
  lget(L_R); sext(si); lset(L_RES);
  if (k != O.K_ADD && k != O.K_ADC && k != O.K_SUB && k != O.K_SBB && k != O.K_CMP) { i32c(0); lset(L_AUX); return; }
  // The carry (or borrow) vector c, then aux = c[N-1:N-2] at bits 31:30 | c[3] at bit 3.
  if (k == O.K_ADD || k == O.K_ADC) {
    lget(L_A); lget(L_B); op(I64_AND);
    lget(L_A); lget(L_B); op(I64_OR); lget(L_R); i64c(-1); op(I64_XOR); op(I64_AND);
  } else {
    lget(L_A); i64c(-1); op(I64_XOR); lget(L_B); op(I64_AND);
    lget(L_A); lget(L_B); op(I64_XOR); i64c(-1); op(I64_XOR); lget(L_R); op(I64_AND);
  }
  op(I64_OR); lset(L_T);
  lget(L_T); i64c((<i64>8 << si) - 2); op(I64_SHR_U); op(I32_WRAP); i32c(3); op(I32_AND); i32c(30); op(I32_SHL);
  lget(L_T); op(I32_WRAP); i32c(8); op(I32_AND);
  op(I32_OR); lset(L_AUX);
}

/** L_R = L_A op L_B (kind k, size index si), with flags. */
function alu(k: i32, si: u32): void {
  lget(L_A); lget(L_B);
  switch (k) {
    case O.K_ADD: op(I64_ADD); break;
    case O.K_ADC: op(I64_ADD); cf64(); op(I64_ADD); break;
    case O.K_SBB: op(I64_SUB); cf64(); op(I64_SUB); break;
    case O.K_OR: op(I64_OR); break;
    case O.K_XOR: op(I64_XOR); break;
    case O.K_AND: case O.K_TEST: op(I64_AND); break;
    default: op(I64_SUB); // SUB, CMP
  }
  i64c(mask(si)); op(I64_AND); lset(L_R);
  aluFlags(k, si);
}

/** INC/DEC of L_A into L_R: CF kept, OF when the result (INC) or operand (DEC) is the sign bit alone. */
function incDec(dec: bool, si: u32): void {
  lget(L_A); i64c(1); op(dec ? I64_SUB : I64_ADD); i64c(mask(si)); op(I64_AND); lset(L_R);
  lget(L_R); sext(si); lset(L_RES);
  const v = dec ? L_A : L_R;
  lget(L_AUX); i32c(0x80000000); op(I32_AND);
  lget(L_AUX); i32c(31); op(I32_SHR_U);
  lget(v); i64c(<i64>1 << ((<i64>8 << si) - 1)); op(I64_EQ); op(I32_XOR); i32c(30); op(I32_SHL); op(I32_OR);
  lget(v); i64c(0xf); op(I64_AND); op(I64_EQZ); i32c(3); op(I32_SHL); op(I32_OR);
  lset(L_AUX);
}

/** Pushes condition cc (0/1). */
function cond(cc: u32): void {
  switch (cc >> 1) {
    case 0: ovf(); break;
    case 1: lget(L_AUX); i32c(31); op(I32_SHR_U); break;
    case 2: lget(L_RES); op(I64_EQZ); break;
    case 3: lget(L_AUX); i32c(31); op(I32_SHR_U); lget(L_RES); op(I64_EQZ); op(I32_OR); break;
    case 4: sf(); break;
    case 5:
      lget(L_RES); op(I32_WRAP); lget(L_AUX); i32c(8); op(I32_SHR_U); op(I32_XOR); i32c(0xff); op(I32_AND);
      op(I32_POPCNT); i32c(1); op(I32_AND); op(I32_EQZ);
      break;
    case 6: sf(); ovf(); op(I32_XOR); break;
    default: lget(L_RES); op(I64_EQZ); sf(); ovf(); op(I32_XOR); op(I32_OR);
  }
  if (cc & 1) op(I32_EQZ);
}
function ovf(): void {
  lget(L_AUX); i32c(31); op(I32_SHR_U); lget(L_AUX); i32c(30); op(I32_SHR_U); op(I32_XOR); i32c(1); op(I32_AND);
}
function sf(): void {
  lget(L_RES); i64c(63); op(I64_SHR_U); op(I32_WRAP); lget(L_AUX); op(I32_XOR); i32c(1); op(I32_AND);
}

// ---- Instructions ----

/** The op a fused "op; Jcc" entry runs first (the Jcc is the next entry). */
function unfused(op: i32): i32 {
  const si = op & 3, base = op - si;
  if (base == O.DEC_JNZ) return O.DEC_R + si;
  if (base == O.CMP_JCC_RR) return O.ALU_RR + O.K_CMP * 4 + si;
  if (base == O.CMP_JCC_RI) return O.ALU_RI + O.K_CMP * 4 + si;
  if (base == O.TEST_JCC_RR) return O.ALU_RR + O.K_TEST * 4 + si;
  return op;
}

/** Emits entry e (k: where to bail out to, e itself); false if the compiler does not take it. */
function instruction(e: usize, k: usize): bool {
  const code = unfused(<i32>load<u16>(e, E_OP));
  const si = <u32>(code & 3), base = code - <i32>si;
  const r = <u32>load<u8>(e, E_R), rb = <u32>load<u8>(e, E_B), memOp = (load<u8>(e, E_FL) & FL_MEM) != 0;
  const imm = load<i64>(e, E_IMM);
  if (code == O.OP_NOP) return true;
  if (code >= O.ALU_RR && code < O.ALU_RI + 36) {
    const k2 = (code - (code >= O.ALU_RI ? O.ALU_RI : O.ALU_RR)) >> 2;
    getReg(rb, si); lset(L_A);
    if (code >= O.ALU_RI) i64c(imm & mask(si)); else getReg(r, si);
    lset(L_B);
    alu(k2, si);
    if (k2 != O.K_CMP && k2 != O.K_TEST) { lget(L_R); setReg(rb, si); }
    return true;
  }
  if (base == O.ALU_RM || base == O.ALU_MR || base == O.ALU_MI) {
    const k2 = <i32>load<u8>(e, E_K), writes = k2 != O.K_CMP && k2 != O.K_TEST;
    if (!address(e)) return false;
    check(1 << si, writes && base != O.ALU_RM, k);
    loadRam(si);
    if (base == O.ALU_RM) { lset(L_B); getReg(r, si); lset(L_A); }
    else { lset(L_A); if (base == O.ALU_MR) getReg(r, si); else i64c(imm & mask(si)); lset(L_B); }
    alu(k2, si);
    if (writes) {
      if (base == O.ALU_RM) { lget(L_R); setReg(r, si); } else storeRam(si, L_R);
    }
    return true;
  }
  if (base == O.MOV_RR) { getReg(r, si); setReg(rb, si); return true; }
  if (base == O.MOV_RI) { i64c(imm); setReg(rb, si); return true; }
  if (base == O.MOV_RM) {
    if (!address(e)) return false;
    check(1 << si, false, k);
    loadRam(si); setReg(r, si);
    return true;
  }
  if (base == O.MOV_MR || base == O.MOV_MI) {
    if (!address(e)) return false;
    check(1 << si, true, k);
    if (base == O.MOV_MR) getReg(r, si); else i64c(imm);
    lset(L_B);
    storeRam(si, L_B);
    return true;
  }
  if (base == O.INC_R || base == O.DEC_R) {
    getReg(rb, si); lset(L_A);
    incDec(base == O.DEC_R, si);
    lget(L_R); setReg(rb, si);
    return true;
  }
  if (base == O.LEA && si > 0 && !(load<u8>(e, E_FL) & (FL_FS | FL_GS))) {
    address(e);
    lget(L_EA); setReg(r, si);
    return true;
  }
  if (base == O.MOVZX8 || base == O.MOVZX16 || base == O.MOVSX8 || base == O.MOVSX16 || base == O.MOVSX32) {
    const src: u32 = base == O.MOVZX8 || base == O.MOVSX8 ? 0 : base == O.MOVSX32 ? min<u32>(si, 2) : 1;
    if (memOp) {
      if (!address(e)) return false;
      check(1 << src, false, k);
      loadRam(src);
    } else getReg(rb, src);
    if (base == O.MOVSX8 || base == O.MOVSX16 || (base == O.MOVSX32 && si == 3)) sext(src);
    setReg(r, si);
    return true;
  }
  if (code == O.PUSH_R + 3 || code == O.POP_R + 3) {
    const rsp: u32 = 4 * 8;
    if (code == O.PUSH_R + 3) {
      getReg(rb, 3); lset(L_B);
      getReg(rsp, 3); i64c(8); op(I64_SUB); lset(L_EA);
      check(8, true, k);
      storeRam(3, L_B);
      lget(L_EA); setReg(rsp, 3);
    } else {
      getReg(rsp, 3); lset(L_EA);
      check(8, false, k);
      loadRam(3); lset(L_B);
      lget(L_EA); i64c(8); op(I64_ADD); setReg(rsp, 3);
      lget(L_B); setReg(rb, 3);
    }
    return true;
  }
  return false;
}

/** Pushes "taken" (i32) for a conditional branch entry (Jcc, LOOP); false for anything else. */
function branchCond(e: usize): bool {
  const code = <i32>load<u16>(e, E_OP);
  if (code >= O.OP_JCC && code < O.OP_JCC + 16) { cond(<u32>(code - O.OP_JCC)); return true; }
  if (code == O.OP_LOOP) {
    const a32 = (load<u8>(e, E_FL) & FL_A32) != 0;
    getReg(8, a32 ? 2 : 3); i64c(1); op(I64_SUB); setReg(8, a32 ? 2 : 3);
    getReg(8, a32 ? 2 : 3); op(I64_EQZ); op(I32_EQZ);
    return true;
  }
  return false;
}

// ---- The trace ----

const MAX_TRACE: u32 = 16;
const MAX_CALLS: u32 = 4;

@inline function lastEntry(slot: usize): usize {
  return <usize>load<u32>(slot, M_FIRST) + (<usize>load<u16>(slot, M_N) - 1) * ENTRY;
}
@inline function after(e: usize): u64 {
  return <u64>load<u32>(e, E_RIP) + load<u8>(e, E_LEN);
}

/**
 * Collects the blocks (map slots, in JIT_TRACE) from head around to head again, following CALL, RET
 * (to where the trace called from), JMP and fall-through, and the fall-through side of other
 * conditional branches. Only blocks already decoded: compiling never decodes. Returns their number, 0
 * if there is no such trace.
 */
function buildTrace(head: usize): u32 {
  const start = <u64>load<u32>(head, M_RIP);
  let slot = head, n: u32 = 0, depth: u32 = 0;
  while (n < MAX_TRACE) {
    store<u32>(JIT_TRACE + <usize>n * 4, <u32>slot);
    n++;
    const last = lastEntry(slot), code = <i32>load<u16>(last, E_OP);
    let next: u64;
    if (code == O.CALL + 3) {
      if (depth == MAX_CALLS) return 0;
      store<u32>(JIT_CALLS + <usize>depth * 4, <u32>after(last));
      depth++;
      next = load<u64>(last, E_IMM);
    } else if (code == O.RET + 3) {
      if (depth == 0) return 0;
      depth--;
      next = <u64>load<u32>(JIT_CALLS + <usize>depth * 4);
    } else if (code == O.OP_JMP) {
      next = load<u64>(last, E_IMM);
    } else if ((code >= O.OP_JCC && code < O.OP_JCC + 16) || code == O.OP_LOOP) {
      if (load<u64>(last, E_IMM) == start) return depth == 0 ? n : 0; // the loop's back edge
      next = after(last);
    } else {
      next = after(last);
    }
    if (next == start) return depth == 0 ? n : 0;
    slot = cached(next);
    if (!slot) return 0;
  }
  return 0;
}

/** used += the block's cycles, insns += its instructions. */
function account(slot: usize): void {
  lget(L_USED); i64c(<i64>load<u16>(slot, M_COST)); op(I64_ADD); lset(L_USED);
  lget(L_INSNS); i64c(<i64>load<u16>(slot, M_N)); op(I64_ADD); lset(L_INSNS);
}

/**
 * Emits the block's last entry, a transfer along the trace (RET must return where the trace called
 * from: expect) or a side exit, and its accounting. closing: it is the loop's back edge, whose
 * condition it leaves on the stack. False if the compiler does not take it.
 */
function blockEnd(slot: usize, closing: bool, expect: u64): bool {
  const last = lastEntry(slot), code = <i32>load<u16>(last, E_OP);
  const rsp: u32 = 4 * 8;
  if (code == O.CALL + 3) {
    getReg(rsp, 3); i64c(8); op(I64_SUB); lset(L_EA);
    check(8, true, last);
    i64c(<i64>after(last)); lset(L_B);
    storeRam(3, L_B);
    lget(L_EA); setReg(rsp, 3);
  } else if (code == O.RET + 3) {
    getReg(rsp, 3); lset(L_EA);
    check(8, false, last);
    loadRam(3); i64c(<i64>expect); op(I64_NE);
    byte(IF); byte(VOID); bail(last); op(END);
    lget(L_EA); i64c(8 + load<i64>(last, E_IMM)); op(I64_ADD); setReg(rsp, 3);
  } else if (code == O.OP_JMP) {
    // nothing to do but go on
  } else if ((code >= O.OP_JCC && code < O.OP_JCC + 16) || code == O.OP_LOOP) {
    if (!branchCond(last)) return false;
    if (!closing) { // a branch out of the trace: leave with it taken
      byte(IF); byte(VOID);
      account(slot);
      i64c(load<i64>(last, E_IMM)); lset(L_NEXT);
      byte(BR); byte(2);
      op(END);
    }
  } else if (!instruction(last, last)) return false; // a block that just ended: fall through
  if (!closing) account(slot);
  return true;
}

// ---- The module ----

/** Writes the module for the loop starting at map slot `head`; returns its length, or 0 if it cannot be compiled. */
function module(head: usize): u32 {
  const blocks = buildTrace(head);
  if (!blocks) return 0;
  const start = <u64>load<u32>(head, M_RIP);
  let cost: i64 = 0;
  for (let i: u32 = 0; i < blocks; i++) cost += <i64>load<u16>(<usize>load<u32>(JIT_TRACE + <usize>i * 4), M_COST);
  store<u32>(head, <u32>cost, M_TRACE_COST);
  p = JIT_BUF;
  overflow = false;
  regsUsed = 0;
  // Header, type (i64 i32 i32) -> i32, memory import, one function exported as "f".
  for (let i: usize = 0; i < HEADER_LEN; i++) byte(<u32>load<u8>(HEADER + i));
  // Code section: id, length (5 bytes), one body: length (5 bytes), locals, code.
  const codeSec = p;
  byte(10); for (let i = 0; i < 5; i++) byte(0x80);
  byte(1);
  const body = p;
  for (let i = 0; i < 5; i++) byte(0x80);
  byte(2); byte(I64_LOCALS); byte(0x7e); byte(I32_LOCALS); byte(0x7f);
  // Called for other code (memory restored from a snapshot): say so.
  lget(L_RIP); i32c(<i32>start); op(I32_NE); lget(L_GEN); i32c(<i32>gen()); op(I32_NE); op(I32_OR);
  byte(IF); byte(VOID); i32c(JIT_STALE); op(RETURN); op(END);
  // Prologue: every register (V8 drops the loads of those never used) and the flags.
  for (let i: u32 = 0; i < 16; i++) { loadAt(I64_LOAD, 3, CUR + <usize>i * 8); lset(L_REG + i); }
  loadAt(I64_LOAD, 3, LF_RES); lset(L_RES);
  loadAt(I32_LOAD, 2, LF_AUX); lset(L_AUX);
  byte(BLOCK); byte(VOID);
  byte(LOOP); byte(VOID);
  let depth: u32 = 0;
  for (let i: u32 = 0; i < blocks; i++) {
    const slot = <usize>load<u32>(JIT_TRACE + <usize>i * 4);
    blockRip = load<u32>(slot, M_RIP);
    blockEntries = <usize>load<u32>(slot, M_FIRST);
    const last = lastEntry(slot), code = <i32>load<u16>(last, E_OP);
    for (let e = <usize>load<u32>(slot, M_FIRST); e < last; e += ENTRY) if (!instruction(e, e)) return 0;
    const closing = i == blocks - 1 && code != O.OP_JMP && code != O.CALL + 3 && code != O.RET + 3 &&
      load<u64>(last, E_IMM) == start && ((code >= O.OP_JCC && code < O.OP_JCC + 16) || code == O.OP_LOOP);
    let expect: u64 = 0;
    if (code == O.CALL + 3) {
      store<u32>(JIT_CALLS + <usize>depth * 4, <u32>after(last));
      depth++;
    } else if (code == O.RET + 3) {
      depth--;
      expect = <u64>load<u32>(JIT_CALLS + <usize>depth * 4);
    }
    if (!blockEnd(slot, closing, expect)) return 0;
    if (closing) {
      // The back edge: when it is not taken, the loop ends here.
      op(I32_EQZ);
      byte(IF); byte(VOID);
      account(slot);
      i64c(<i64>after(last)); lset(L_NEXT);
      byte(BR); byte(2);
      op(END);
      account(slot);
    }
  }
  // Round again while the budget has room for a whole iteration.
  lget(L_ITERS); i32c(1); op(I32_ADD); lset(L_ITERS);
  i64c(<i64>start); lset(L_NEXT);
  lget(L_USED); i64c(cost); op(I64_ADD); lget(L_AVAIL); op(I64_LE_U);
  lget(L_ITERS); i32c(MAX_ITERATIONS); op(I32_LT_U); op(I32_AND);
  byte(BR_IF); byte(0);
  op(END); // loop
  op(END); // block
  // Epilogue: the registers it touched and the flags back to memory, the results, the status.
  for (let i: u32 = 0; i < 16; i++) if (regsUsed & (1 << i)) { i32c(0); lget(L_REG + i); memarg(I64_STORE, 3, CUR + <usize>i * 8); }
  i32c(0); lget(L_RES); memarg(I64_STORE, 3, LF_RES);
  i32c(0); lget(L_AUX); memarg(I32_STORE, 2, LF_AUX);
  i32c(0); lget(L_USED); memarg(I64_STORE, 3, JIT_USED);
  i32c(0); lget(L_INSNS); memarg(I64_STORE, 3, JIT_INSNS);
  i32c(0); lget(L_NEXT); memarg(I64_STORE, 3, JIT_NEXT);
  lget(L_ST);
  op(END);
  if (overflow) return 0;
  patchLength(body, <u32>(p - body - 5));
  patchLength(codeSec + 1, <u32>(p - codeSec - 6));
  return <u32>(p - JIT_BUF);
}

/** Writes len as a 5-byte LEB128 at at (the placeholder left for it). */
function patchLength(at: usize, len: u32): void {
  for (let i: usize = 0; i < 4; i++) store<u8>(at + i, <u8>(((len >> (7 * <u32>i)) & 0x7f) | 0x80));
  store<u8>(at + 4, <u8>((len >> 28) & 0x7f));
}

// The fixed part of every module: magic, version, type, import (env.memory), function, export "f".
const HEADER = memory.data<u8>([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7e, 0x7f, 0x7f, 0x01, 0x7f, //                 type: (i64 i32 i32) -> i32
  0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x00, // import env.memory
  0x03, 0x02, 0x01, 0x00, //                                                       function 0: type 0
  0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, //                                     export "f"
]);
const HEADER_LEN: usize = 8 + 10 + 17 + 4 + 7;

// ---- Hotness ----

/**
 * Counts an iteration of a loop the interpreter runs (slot: the block a backward branch went to) and,
 * at the threshold, compiles it if it can. True when it now has a compiled form.
 */
export function hotLoop(slot: usize): bool {
  const threshold = load<u32>(JIT_THRESHOLD);
  if (!threshold) { store<i32>(slot, -1, M_FN); return false; }
  const count = load<u32>(slot, M_HOT) + 1;
  store<u32>(slot, count, M_HOT);
  if (count < threshold) return false;
  const len = module(slot);
  const index = load<u32>(JIT_INDEX);
  if (!len || !hostCompile(JIT_BUF, len, index)) { store<i32>(slot, -1, M_FN); return false; }
  store<u32>(JIT_INDEX, index + 1);
  store<i32>(slot, <i32>index, M_FN);
  return true;
}

/**
 * Runs the compiled loop of `slot` with the TSC at t and the budget up to limit. Returns -1 when it
 * did not run (the interpreter runs the block), else what it did is in JIT_USED and JIT_INSNS, and
 * then 0: continue at JIT_NEXT; 1: it stopped before entry number JIT_BAIL of the block at JIT_BAIL_RIP.
 */
export function runCompiled(slot: usize, rip: u64, t: u64, limit: u64): i32 {
  if (t + <u64>load<u32>(slot, M_TRACE_COST) > limit) return -1;
  tsc = t;
  const st = call_indirect<i32>(<u32>load<i32>(slot, M_FN), limit - t, <i32>rip, <i32>gen());
  if (st == JIT_STALE) { store<i32>(slot, 0, M_FN); return -1; }
  return st;
}
