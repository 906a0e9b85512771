// The core's private linear memory, below RAM_BASE and after the ABI areas of abi.ts, and the format
// of a pre-decoded instruction entry.
import { MSRBM_BASE, MSRBM_STRIDE, MAX_VCPUS, RAM_BASE } from './abi';

// The running vCPU's general registers (16 × u64, SDM order) are copied here on entry and back on
// return, so that every register operand is a constant-offset load. A 17th slot is always zero: an
// entry names it for "no base" or "no index", which makes address generation branch-free.
export const CUR: usize = 0x6000;
export const ZERO_REG: u8 = 0x80;
// RFLAGS of the running vCPU (flags.ts): the lazy result and carries, and the other bits.
export const LF_RES: usize = CUR + 0x100;
export const LF_AUX: usize = CUR + 0x108;
export const FL_OTHER: usize = CUR + 0x110;
// The decoded-code cache's generation and arena fill line (cache.ts), and the next free index of the
// function table for compiled blocks (jit.ts).
export const CACHE_GEN: usize = CUR + 0x120;
export const CACHE_TOP: usize = CUR + 0x124;
export const JIT_INDEX: usize = CUR + 0x128;
export const JIT_THRESHOLD: usize = CUR + 0x12c;
// What a compiled loop reports when it returns (jit.ts): cycles used, instructions retired, the next
// RIP, or where it stopped (an entry's index, and the start of its block); and the trace it is
// compiled from.
export const JIT_USED: usize = CUR + 0x140;
export const JIT_INSNS: usize = CUR + 0x148;
export const JIT_NEXT: usize = CUR + 0x150;
export const JIT_BAIL: usize = CUR + 0x158;
export const JIT_BAIL_RIP: usize = CUR + 0x15c;
export const JIT_TRACE: usize = CUR + 0x180; // up to 16 map slots (u32)
export const JIT_CALLS: usize = CUR + 0x1c0; // up to 4 return addresses (u32)

// asc places its static data from here (wasm/build.mjs passes --memoryBase).
export const DATA_BASE: usize = MSRBM_BASE + MAX_VCPUS * MSRBM_STRIDE;
export const DATA_END: usize = 0x40000;
// Opcode descriptors (optable.ts).
export const TABLES: usize = 0x40000;
export const TABLES_END: usize = 0x50000;
// One byte per 64-byte line of guest RAM: LINE_CODE if decoded code may live there, LINE_MONITOR if
// a vCPU's MONITOR may be armed there. Stores check it on their fast path.
export const LINE_FLAGS: usize = 0x50000;
export const LINE_SHIFT = 6;
export const LINE_CODE: u8 = 1;
export const LINE_MONITOR: u8 = 2;
// Block map: direct-mapped by guest RIP, MAP_SLOTS slots of MAP_SLOT bytes.
export const BLOCK_MAP: usize = 0x150000;
export const MAP_SLOTS = 0x10000;
export const MAP_SLOT = 32;
export const M_RIP = 0; //   u32 block start (code only runs from RAM, which is below 4 GiB)
export const M_GEN = 4; //   u32 cache generation the slot was filled in
export const M_FIRST = 8; // u32 address of the first entry
export const M_N = 12; //    u16 entries
export const M_COST = 14; // u16 cycles of the whole block
export const M_HOT = 16; //  u32 times the block started in the interpreter
export const M_FN = 20; //   i32 function-table index of its compiled form; 0 none yet, -1 not compilable
export const M_TRACE_COST = 24; // u32 cycles of one iteration of the compiled loop starting here
// Arena of decoded entries; when full, the whole cache is flushed.
export const ARENA: usize = 0x350000;
export const ARENA_END: usize = 0xfe0000;
// Where jit.ts writes the WebAssembly module of a block it compiles.
export const JIT_BUF: usize = 0xfe0000;
export const JIT_BUF_END: usize = 0xff0000;
// Entries for emulate() and decode(), outside the cache, and emulate()'s one-entry block.
export const SCRATCH: usize = 0xff0000;
export const SCRATCH_SLOT: usize = 0xff0100;

// A pre-decoded instruction (ENTRY bytes).
export const ENTRY: usize = 32;
export const E_RIP = 0; //   u32 address of the instruction
export const E_OP = 4; //    u16 op id (ops.ts)
export const E_LEN = 6; //   u8 length in bytes
export const E_FL = 7; //    u8 FL_* below
export const E_R = 8; //     u8 CUR offset of the ModRM.reg register (byte registers: of the byte)
export const E_B = 9; //     u8 CUR offset of the base register, or of the ModRM.rm register
export const E_X = 10; //    u8 CUR offset of the index register (ZERO_REG if none)
export const E_SC = 11; //   u8 index scale as a shift count
export const E_CUM = 12; //  u16 cycles of the block's entries before this one
export const E_COST = 14; // u8 cycles of this instruction
export const E_K = 15; //    u8 op-specific kind: ALU kind, condition code, shift /r, IO qualification bits
export const E_DISP = 16; // i64 displacement, already absolute for RIP-relative and moffs forms
export const E_IMM = 24; //  u64 immediate (sign-extended), or branch target

export const FL_SI: u8 = 3; //   operand size index: 0 byte, 1 word, 2 dword, 3 qword
export const FL_A32: u8 = 4; //  address size 32 (67 prefix)
export const FL_FS: u8 = 8; //   FS segment override: add FS.base
export const FL_GS: u8 = 16; //  GS segment override: add GS.base
export const FL_REP: u8 = 32; // F3 prefix (REP/REPE)
export const FL_REPNE: u8 = 64; // F2 prefix (REPNE)
export const FL_MEM: u8 = 128; // the r/m operand is memory

// Guest RAM starts here in linear memory.
export const RAM: usize = RAM_BASE;
