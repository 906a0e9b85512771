// The decoded-code cache: blocks of pre-decoded entries, found through a direct-mapped map keyed by
// RIP. A block ends at a control transfer, at anything the run loop must look at after it (STI,
// POPF, HLT, ...), or at MAX_BLOCK entries. Writes to code lines (from the guest or the host) flush
// the whole cache by bumping its generation; a block being executed when its code is overwritten
// has OP_STOP planted in its remaining entries.
import * as O from './ops';
import {
  BLOCK_MAP, MAP_SLOTS, MAP_SLOT, M_RIP, M_GEN, M_FIRST, M_N, M_COST, M_HOT, M_FN, ARENA, ARENA_END, ENTRY,
  E_OP, E_LEN, E_FL, E_K, E_CUM, E_COST, FL_REP, FL_REPNE, LINE_CODE, TABLES_END, CACHE_GEN, CACHE_TOP, JIT_INDEX,
} from './layout';
import { COST_DEFAULT, COST_MUL, COST_DIV, COST_STRING, COST_PAUSE } from './costs';
import { decode } from './decoder';
import { markLines } from './mem';

const MAX_BLOCK = 64;
// Per-op traits, one byte per op id, after the opcode table.
const TRAITS: usize = TABLES_END - 0x400;
const T_END: u8 = 1; //     ends its block
const T_ALONE: u8 = 2; //   starts its own block when it has a REP prefix (string ops)
export const T_NOEMUL: u8 = 4; // not taken by emulate() (KVM's emulator leaves it to an exit handler)
const T_COST_SHIFT: u8 = 4; //  bits 7:4: the cost class (costClass below)

// The cache generation and the arena's fill line live in linear memory with everything else, so a
// copy of the memory (a snapshot) restores a consistent cache.
@inline export function gen(): u32 {
  return load<u32>(CACHE_GEN);
}
@inline function arenaTop(): usize {
  return load<u32>(CACHE_TOP);
}
// The entries being executed, where OP_STOP is planted when their code is overwritten.
let liveFirst: usize = 0;
let liveEnd: usize = 0;

export function setLive(first: usize, end: usize): void {
  liveFirst = first;
  liveEnd = end;
}

export function flushCode(): void {
  let g = gen() + 1;
  if (g == 0) {
    memory.fill(BLOCK_MAP, 0, MAP_SLOTS * MAP_SLOT);
    g = 1;
  }
  store<u32>(CACHE_GEN, g);
  store<u32>(CACHE_TOP, <u32>ARENA);
  store<u32>(JIT_INDEX, 1); // compiled blocks died with the cache: reuse their table slots
}

/** Guest code was overwritten: drop every decoded block and stop the one executing. */
export function codeWritten(): void {
  flushCode();
  for (let e = liveFirst; e < liveEnd; e += ENTRY) store<u16>(e, O.OP_STOP, E_OP);
}

@inline export function traits(op: i32): u8 {
  return load<u8>(TRAITS + <usize>op);
}

/** The map slot of the block at rip if it is decoded (in this generation), or 0. */
export function cached(rip: u64): usize {
  const s = BLOCK_MAP + ((<usize>(rip ^ (rip >> 12)) & (MAP_SLOTS - 1)) * MAP_SLOT);
  return load<u32>(s, M_RIP) == <u32>rip && load<u32>(s, M_GEN) == gen() && rip < (<u64>1 << 32) ? s : 0;
}

/** The map slot of the block at rip (rip < RAM size), translating it on a miss. */
export function lookup(rip: u64): usize {
  const s = BLOCK_MAP + ((<usize>(rip ^ (rip >> 12)) & (MAP_SLOTS - 1)) * MAP_SLOT);
  if (load<u32>(s, M_RIP) == <u32>rip && load<u32>(s, M_GEN) == gen()) return s;
  translate(rip, s);
  return s;
}

function translate(rip: u64, slot: usize): void {
  if (arenaTop() + <usize>MAX_BLOCK * ENTRY > ARENA_END) flushCode();
  const first = arenaTop();
  let e = first, a = rip, cum: u32 = 0, n = 0;
  while (true) {
    decode(a, e);
    const op = <i32>load<u16>(e, E_OP);
    const t = traits(op);
    const rep = (load<u8>(e, E_FL) & (FL_REP | FL_REPNE)) != 0 && (t & T_ALONE);
    if (n > 0 && (op == O.OP_FETCH || rep)) break; // let it start the next block
    const cost = costOf(op, e);
    store<u16>(e, <u16>cum, E_CUM);
    store<u8>(e, <u8>cost, E_COST);
    const len = <u64>load<u8>(e, E_LEN);
    if (len) markLines(a >= 7 ? a - 7 : 0, a + len - 1, LINE_CODE); // stores of up to 8 bytes reaching it
    cum += cost;
    n++;
    e += ENTRY;
    a += len;
    if ((t & T_END) || rep || n == MAX_BLOCK || !len) break;
  }
  if (n >= 2) fuse(e - 2 * ENTRY);
  store<u32>(CACHE_TOP, <u32>e);
  store<u32>(slot, <u32>rip, M_RIP);
  store<u32>(slot, gen(), M_GEN);
  store<u32>(slot, <u32>first, M_FIRST);
  store<u16>(slot, <u16>n, M_N);
  store<u16>(slot, <u16>cum, M_COST);
  store<u32>(slot, 0, M_HOT);
  store<i32>(slot, 0, M_FN);
}

/** Fuses a compare or count-down (32/64-bit registers) with the Jcc after it (ops.ts DEC_JNZ...). */
function fuse(e: usize): void {
  const jcc = <i32>load<u16>(e + ENTRY, E_OP) - O.OP_JCC;
  if (jcc < 0 || jcc >= 16) return;
  const op = <i32>load<u16>(e, E_OP);
  const si = op & 3;
  if (si < 2) return;
  let fused = 0;
  if (op - si == O.DEC_R && jcc == 5 /* JNZ */) fused = O.DEC_JNZ;
  else if (op - si == O.ALU_RR + O.K_CMP * 4) fused = O.CMP_JCC_RR;
  else if (op - si == O.ALU_RI + O.K_CMP * 4) fused = O.CMP_JCC_RI;
  else if (op - si == O.ALU_RR + O.K_TEST * 4) fused = O.TEST_JCC_RR;
  if (fused) store<u16>(e, <u16>(fused + si), E_OP);
}

/** Cycles of one execution (one iteration for string ops); DIV and IDIV share MULDIV with MUL. */
export function costOf(op: i32, e: usize): u32 {
  const c = <u32>(traits(op) >> T_COST_SHIFT);
  if (c == 1) return <i32>load<u8>(e, E_K) >= O.K_DIV ? COST_DIV : COST_MUL;
  return c == 2 ? COST_MUL : c == 3 ? COST_STRING : c == 4 ? COST_PAUSE : COST_DEFAULT;
}

function setTrait(op: i32, n: i32, t: u8): void {
  for (let i = 0; i < n; i++) store<u8>(TRAITS + <usize>(op + i), load<u8>(TRAITS + <usize>(op + i)) | t);
}

/** Sets trait t on each op of a -1-terminated static list. */
function setTraits(list: usize, t: u8): void {
  for (let p = list; load<i32>(p) >= 0; p += 4) setTrait(load<i32>(p), 1, t);
}

export function buildTraits(): void {
  memory.fill(TRAITS, 0, O.OP_COUNT);
  const ends = memory.data<i32>([
    O.OP_UD, O.OP_GP_LENGTH, O.OP_FETCH, O.OP_STOP, O.OP_HLT, O.OP_STI, O.OP_JMP, O.OP_LOOPNE, O.OP_LOOPE, O.OP_LOOP, O.OP_JRCXZ, O.OP_INT3, O.OP_INT,
    O.OP_INT1, O.OP_MOV_TO_SREG, O.OP_MWAIT, O.OP_WRMSR, O.OP_CPUID, O.OP_INVD, O.OP_VMCALL, O.OP_IO,
    O.OP_XSETBV,
    O.OP_IO_STRING, -1,
  ]);
  setTraits(ends, T_END);
  setTrait(O.OP_JCC, 16, T_END);
  setTrait(O.CALL, 16, T_END); // CALL, RET, JMP_RM, CALL_RM
  setTrait(O.IRET, 4, T_END);
  setTrait(O.POPF, 4, T_END);
  const noEmul = memory.data<i32>([
    O.OP_HLT, O.OP_INT3, O.OP_INT, O.OP_INT1, O.OP_CPUID, O.OP_RDTSC, O.OP_RDTSCP, O.OP_RDMSR,
    O.OP_WRMSR, O.OP_INVD, O.OP_WBINVD, O.OP_VMCALL, O.OP_MONITOR, O.OP_MWAIT, O.OP_LIDT, O.OP_SIDT,
    O.OP_IO, O.OP_IO_STRING, O.OP_MOV_FROM_DR, O.OP_MOV_TO_DR, O.OP_MOV_FROM_CR, O.OP_MOV_TO_CR,
    O.OP_XGETBV, O.OP_XSETBV, -1,
  ]);
  setTraits(noEmul, T_NOEMUL);
  setTrait(O.IRET, 4, T_NOEMUL);
  for (let s = O.MOVS; s < O.SCAS + 4; s++) setTrait(s, 1, T_ALONE | (3 << T_COST_SHIFT));
  setTrait(O.MULDIV, 4, 1 << T_COST_SHIFT);
  setTrait(O.IMUL2, 4, 2 << T_COST_SHIFT);
  setTrait(O.IMUL3, 4, 2 << T_COST_SHIFT);
  setTrait(O.OP_PAUSE, 1, 4 << T_COST_SHIFT);
}
