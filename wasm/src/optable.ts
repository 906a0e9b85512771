// The opcode table: the single source of truth for decoding. One row per opcode (or ModRM.reg /
// ModRM.rm group member) gives its mnemonic, the execution op for the register and memory forms of
// its r/m operand, and how its operands are encoded. Unlisted encodings raise #UD, as the CPU does
// for undefined opcodes (and as this core does for the ones it does not implement).
import * as M from './mnemonics';
import * as O from './ops';
import { TABLES } from './layout';

// Descriptor word (u64):
//   9:0 op for the register form   19:10 op for the memory form   28:20 mnemonic   32:29 kind (E_K)
//   above: D_* flags. A D_GROUP row holds its group number in bits 9:0, and a D_RMGROUP row its
//   rm-group number; a row of 0 (op OP_UD) is #UD.
export const D_MODRM: u64 = 1 << 33; //   has a ModRM byte
export const D_BYTE: u64 = 1 << 34; //    byte operation
export const D_D64: u64 = 1 << 35; //     default operand size 64 (66 makes it 16, also for near branches as on AMD)
export const D_LOCK: u64 = 1 << 37; //    LOCK allowed with a memory operand
export const D_SIZED: u64 = 1 << 38; //   op id + operand-size index
export const D_GROUP: u64 = 1 << 39; //   ModRM.reg selects a row of group (bits 9:0)
export const D_RMGROUP: u64 = 1 << 40; // (in a group row) with mod = 3, ModRM.rm selects a row of rm-group (bits 9:0)
export const D_GE: u64 = 1 << 41; //      the ModRM.reg operand is the destination (RR-specialised ops)
export const D_OPREG: u64 = 1 << 42; //   register number in the opcode's low 3 bits
export const D_ACC: u64 = 1 << 43; //     the accumulator is the fixed register operand
export const D_NOF3: u64 = 1 << 44; //    an F3 prefix makes it another (unimplemented) instruction
export const D_PLAIN: u64 = 1 << 45; //   any 66, F2 or F3 prefix makes it another (or no) instruction
export const D_NO64: u64 = 1 << 46; //    REX.W does not give a 64-bit operand (IN/OUT/INS/OUTS)
export const D_SRC8: u64 = 1 << 47; //    the r/m register is a byte register (MOVZX/MOVSX r, r/m8)
export const D_REGONLY: u64 = 1 << 54; // ModRM.mod is ignored: the r/m operand is always a register (MOV CR/DR)
export const D_CR: u64 = 1 << 55; //      MOV CR: only CR0, CR2, CR3, CR4, CR8 (LOCK selects CR8, as on AMD)
export const IMM_SHIFT: u64 = 48; //      4 bits: IMM_*
export const MNV_SHIFT: u64 = 52; //      2 bits: how the mnemonic varies (MNV_*)

export const IMM_NONE = 0;
export const IMM_B = 1; //     imm8, sign-extended
export const IMM_BU = 2; //    imm8, zero-extended
export const IMM_W = 3; //     imm16, zero-extended
export const IMM_Z = 4; //     imm8 / imm16 / imm32 by operand size, sign-extended
export const IMM_V = 5; //     imm8 / imm16 / imm32 / imm64 by operand size
export const IMM_MOFFS = 6; // a 64-bit (or, with 67, 32-bit) absolute address: the memory operand
export const IMM_REL8 = 7; //  rel8 → E_IMM = target
export const IMM_REL32 = 8; // rel32 (rel16 with a 66 prefix) → E_IMM = target (16 bits with 66)
export const IMM_ONE = 9; //   the constant 1 (shift by 1)

export const MNV_FIXED = 0;
export const MNV_SI = 1; //  mnemonic + operand-size index (string ops: b w d q)
export const MNV_SI1 = 2; // mnemonic + operand-size index - 1 (w d q: CBW/CWDE/CDQE, IRET/IRETD/IRETQ, PUSHF/…)
export const MNV_A32 = 3; // mnemonic + (address size 32) (JRCXZ/JECXZ)

// Row addresses: maps, then groups (8 rows each), then rm-groups (8 rows each).
export const MAP0 = 0x000;
export const MAP0F = 0x100;
const GROUPS = 0x200;
const RMGROUPS = 0x300;
const ROWS = 0x400;
const G_ALU = 0, G_SHIFT = 1, G_SHIFT_CL = 2, G_F6 = 3, G_FE = 4, G_FF = 5, G_8F = 6, G_C6 = 7,
  G_0FBA = 8, G_0F01 = 9, G_0FAE = 10, G_0F1F = 11, G_8E = 12, G_0F18 = 13, G_0F0D = 14, G_RESNOP = 15,
  G_0F1C = 16, G_8C = 17;
const R_0F01_0 = 0, R_0F01_1 = 1, R_0F01_7 = 2, R_PAUSE = 3, R_RESNOP = 4, R_F3_0F1E = 5, R_0F01_2 = 6;
/** F3 90, which the decoder picks instead of row 0x90. */
export const ROW_PAUSE = RMGROUPS + R_PAUSE * 8;
/** The rows the decoder picks for F3 0F 1E: FA and FB (ENDBR64, ENDBR32), and /1 with mod = 3 (RDSSPD, with REX.W RDSSPQ). */
export const ROW_ENDBR64 = RMGROUPS + R_F3_0F1E * 8;
export const ROW_ENDBR32 = ROW_ENDBR64 + 1;
export const ROW_RDSSPD = ROW_ENDBR64 + 2;
export const ROW_RDSSPQ = ROW_ENDBR64 + 3;

@inline export function rowAddr(row: i32): usize {
  return TABLES + (<usize>row << 3);
}
export function groupRow(g: i32, reg: i32): i32 {
  return GROUPS + g * 8 + reg;
}
export function rmGroupRow(g: i32, rm: i32): i32 {
  return RMGROUPS + g * 8 + rm;
}

function imm(kind: i32): u64 {
  return <u64>kind << IMM_SHIFT;
}
function mnv(kind: i32): u64 {
  return <u64>kind << MNV_SHIFT;
}

/** Defines a row: opReg/opMem for the two forms of the r/m operand (the same op when there is no ModRM). */
function def(row: i32, mn: i32, opReg: i32, opMem: i32, flags: u64, kind: i32 = 0): void {
  store<u64>(rowAddr(row), <u64>opReg | (<u64>opMem << 10) | (<u64>mn << 20) | (<u64>kind << 29) | flags);
}
/** A row without a ModRM operand. */
function fixed(row: i32, mn: i32, op: i32, flags: u64 = 0, kind: i32 = 0): void {
  def(row, mn, op, op, flags, kind);
}
function group(row: i32, g: i32, flags: u64 = 0): void {
  store<u64>(rowAddr(row), <u64>g | D_GROUP | D_MODRM | flags);
}

export function buildOpTable(): void {
  memory.fill(TABLES, 0, ROWS << 3);
  const E = D_MODRM, SZ = D_SIZED;

  // 00..3F: the eight ALU operations, six encodings each.
  for (let k = 0; k < 8; k++) {
    const lock = k == O.K_CMP ? 0 : D_LOCK, rr = O.ALU_RR + k * 4, ri = O.ALU_RI + k * 4;
    def(k * 8 + 0, M.Add + k, rr, O.ALU_MR, E | D_BYTE | SZ | lock, k); // Eb, Gb
    def(k * 8 + 1, M.Add + k, rr, O.ALU_MR, E | SZ | lock, k); //          Ev, Gv
    def(k * 8 + 2, M.Add + k, rr, O.ALU_RM, E | D_BYTE | SZ | D_GE, k); // Gb, Eb
    def(k * 8 + 3, M.Add + k, rr, O.ALU_RM, E | SZ | D_GE, k); //          Gv, Ev
    fixed(k * 8 + 4, M.Add + k, ri, D_BYTE | SZ | D_ACC | imm(IMM_Z), k); // AL, Ib
    fixed(k * 8 + 5, M.Add + k, ri, SZ | D_ACC | imm(IMM_Z), k); //          eAX, Iz
    def(groupRow(G_ALU, k), M.Add + k, ri, O.ALU_MI, SZ | lock, k); //       80, 81, 83 /k
  }
  group(0x80, G_ALU, D_BYTE | imm(IMM_Z));
  group(0x81, G_ALU, imm(IMM_Z));
  group(0x83, G_ALU, imm(IMM_B));
  def(0x84, M.Test, O.ALU_RR + O.K_TEST * 4, O.ALU_MR, E | D_BYTE | SZ, O.K_TEST);
  def(0x85, M.Test, O.ALU_RR + O.K_TEST * 4, O.ALU_MR, E | SZ, O.K_TEST);
  fixed(0xa8, M.Test, O.ALU_RI + O.K_TEST * 4, D_BYTE | SZ | D_ACC | imm(IMM_Z), O.K_TEST);
  fixed(0xa9, M.Test, O.ALU_RI + O.K_TEST * 4, SZ | D_ACC | imm(IMM_Z), O.K_TEST);

  // Stack.
  for (let r = 0; r < 8; r++) {
    fixed(0x50 + r, M.Push, O.PUSH_R, SZ | D_D64 | D_OPREG);
    fixed(0x58 + r, M.Pop, O.POP_R, SZ | D_D64 | D_OPREG);
  }
  fixed(0x68, M.Push, O.PUSH_I, SZ | D_D64 | imm(IMM_Z));
  fixed(0x6a, M.Push, O.PUSH_I, SZ | D_D64 | imm(IMM_B));
  fixed(0x9c, M.Pushf, O.PUSHF, SZ | D_D64 | mnv(MNV_SI1));
  fixed(0x9d, M.Popf, O.POPF, SZ | D_D64 | mnv(MNV_SI1));
  fixed(0xc9, M.Leave, O.LEAVE, SZ | D_D64);
  group(0x8f, G_8F);
  def(groupRow(G_8F, 0), M.Pop, O.POP_RM, O.POP_RM, SZ | D_D64);

  // Moves.
  def(0x88, M.Mov, O.MOV_RR, O.MOV_MR, E | D_BYTE | SZ);
  def(0x89, M.Mov, O.MOV_RR, O.MOV_MR, E | SZ);
  def(0x8a, M.Mov, O.MOV_RR, O.MOV_RM, E | D_BYTE | SZ | D_GE);
  def(0x8b, M.Mov, O.MOV_RR, O.MOV_RM, E | SZ | D_GE);
  fixed(0xa0, M.Mov, O.MOV_RM, D_BYTE | SZ | D_ACC | imm(IMM_MOFFS));
  fixed(0xa1, M.Mov, O.MOV_RM, SZ | D_ACC | imm(IMM_MOFFS));
  fixed(0xa2, M.Mov, O.MOV_MR, D_BYTE | SZ | D_ACC | imm(IMM_MOFFS));
  fixed(0xa3, M.Mov, O.MOV_MR, SZ | D_ACC | imm(IMM_MOFFS));
  for (let r = 0; r < 8; r++) {
    fixed(0xb0 + r, M.Mov, O.MOV_RI, D_BYTE | SZ | D_OPREG | imm(IMM_Z));
    fixed(0xb8 + r, M.Mov, O.MOV_RI, SZ | D_OPREG | imm(IMM_V));
  }
  group(0xc6, G_C6, D_BYTE);
  group(0xc7, G_C6);
  def(groupRow(G_C6, 0), M.Mov, O.MOV_RI, O.MOV_MI, SZ | imm(IMM_Z));
  def(0x63, M.Movsxd, O.MOVSX32, O.MOVSX32, E | SZ);
  def(0x8d, M.Lea, O.OP_UD, O.LEA, E | SZ);
  def(0x86, M.Xchg, O.XCHG, O.XCHG, E | D_BYTE | SZ | D_LOCK);
  def(0x87, M.Xchg, O.XCHG, O.XCHG, E | SZ | D_LOCK);
  for (let r = 1; r < 8; r++) fixed(0x90 + r, M.Xchg, O.XCHG, SZ | D_OPREG | D_ACC);
  fixed(0x90, M.Nop, O.OP_NOP); // also PAUSE (F3) and XCHG r8 (REX.B): see the decoder
  fixed(ROW_PAUSE, M.Pause, O.OP_PAUSE);
  group(0x8c, G_8C);
  group(0x8e, G_8E);
  for (let sreg = 0; sreg < 6; sreg++) {
    def(groupRow(G_8C, sreg), M.Mov, O.OP_MOV_FROM_SREG, O.OP_MOV_FROM_SREG, 0, sreg);
    if (sreg != 1) def(groupRow(G_8E, sreg), M.Mov, O.OP_MOV_TO_SREG, O.OP_MOV_TO_SREG, 0, sreg); // not CS
  }

  // Unary, multiply, divide, shifts.
  group(0xf6, G_F6, D_BYTE);
  group(0xf7, G_F6);
  def(groupRow(G_F6, 0), M.Test, O.ALU_RI + O.K_TEST * 4, O.ALU_MI, SZ | imm(IMM_Z), O.K_TEST);
  def(groupRow(G_F6, 1), M.Test, O.ALU_RI + O.K_TEST * 4, O.ALU_MI, SZ | imm(IMM_Z), O.K_TEST);
  def(groupRow(G_F6, 2), M.Not, O.UNARY, O.UNARY, SZ | D_LOCK, O.K_NOT);
  def(groupRow(G_F6, 3), M.Neg, O.UNARY, O.UNARY, SZ | D_LOCK, O.K_NEG);
  for (let k = 0; k < 4; k++) def(groupRow(G_F6, 4 + k), M.Mul + k, O.MULDIV, O.MULDIV, SZ, k);
  group(0xfe, G_FE, D_BYTE);
  group(0xff, G_FF);
  for (let g = G_FE; g <= G_FF; g++) {
    def(groupRow(g, 0), M.Inc, O.INC_R, O.UNARY, SZ | D_LOCK, O.K_INC);
    def(groupRow(g, 1), M.Dec, O.DEC_R, O.UNARY, SZ | D_LOCK, O.K_DEC);
  }
  def(groupRow(G_FF, 2), M.Call, O.CALL_RM, O.CALL_RM, SZ | D_D64);
  def(groupRow(G_FF, 4), M.Jmp, O.JMP_RM, O.JMP_RM, SZ | D_D64);
  def(groupRow(G_FF, 6), M.Push, O.PUSH_RM, O.PUSH_RM, SZ | D_D64);
  def(MAP0F + 0xaf, M.Imul, O.IMUL2, O.IMUL2, E | SZ);
  def(0x69, M.Imul, O.IMUL3, O.IMUL3, E | SZ | imm(IMM_Z));
  def(0x6b, M.Imul, O.IMUL3, O.IMUL3, E | SZ | imm(IMM_B));
  group(0xc0, G_SHIFT, D_BYTE | imm(IMM_BU));
  group(0xc1, G_SHIFT, imm(IMM_BU));
  group(0xd0, G_SHIFT, D_BYTE | imm(IMM_ONE));
  group(0xd1, G_SHIFT, imm(IMM_ONE));
  group(0xd2, G_SHIFT_CL, D_BYTE);
  group(0xd3, G_SHIFT_CL);
  for (let k = 0; k < 8; k++) {
    def(groupRow(G_SHIFT, k), M.Rol + k, O.SHIFT, O.SHIFT, SZ, k);
    def(groupRow(G_SHIFT_CL, k), M.Rol + k, O.SHIFT_CL, O.SHIFT_CL, SZ, k);
  }

  // Conversions, flags, misc one-byte.
  fixed(0x98, M.Cbw, O.CBW, SZ | mnv(MNV_SI1));
  fixed(0x99, M.Cwd, O.CWD, SZ | mnv(MNV_SI1));
  fixed(0x9e, M.Sahf, O.OP_SAHF);
  fixed(0x9f, M.Lahf, O.OP_LAHF);
  fixed(0xf4, M.Hlt, O.OP_HLT);
  fixed(0xf5, M.Cmc, O.OP_CMC);
  fixed(0xf8, M.Clc, O.OP_CLC);
  fixed(0xf9, M.Stc, O.OP_STC);
  fixed(0xfa, M.Cli, O.OP_CLI);
  fixed(0xfb, M.Sti, O.OP_STI);
  fixed(0xfc, M.Cld, O.OP_CLD);
  fixed(0xfd, M.Std, O.OP_STD);

  // Control transfer.
  for (let cc = 0; cc < 16; cc++) {
    fixed(0x70 + cc, M.Jo + cc, O.OP_JCC + cc, D_D64 | imm(IMM_REL8));
    fixed(MAP0F + 0x80 + cc, M.Jo + cc, O.OP_JCC + cc, D_D64 | imm(IMM_REL32));
    def(MAP0F + 0x90 + cc, M.Seto + cc, O.OP_SETCC, O.OP_SETCC, E | D_BYTE, cc);
    def(MAP0F + 0x40 + cc, M.Cmovo + cc, O.CMOV, O.CMOV, E | SZ, cc);
  }
  fixed(0xeb, M.Jmp, O.OP_JMP, D_D64 | imm(IMM_REL8));
  fixed(0xe9, M.Jmp, O.OP_JMP, D_D64 | imm(IMM_REL32));
  fixed(0xe8, M.Call, O.CALL, SZ | D_D64 | imm(IMM_REL32));
  fixed(0xc3, M.Ret, O.RET, SZ | D_D64);
  fixed(0xc2, M.Ret, O.RET, SZ | D_D64 | imm(IMM_W));
  for (let k = 0; k < 3; k++) fixed(0xe0 + k, M.Loopne + k, O.OP_LOOPNE + k, D_D64 | imm(IMM_REL8));
  fixed(0xe3, M.Jrcxz, O.OP_JRCXZ, D_D64 | imm(IMM_REL8) | mnv(MNV_A32));
  fixed(0xcc, M.Int3, O.OP_INT3);
  fixed(0xcd, M.Int, O.OP_INT, imm(IMM_BU));
  fixed(0xf1, M.Int1, O.OP_INT1);
  fixed(0xcf, M.Iret, O.IRET, SZ | mnv(MNV_SI1));

  // Strings and port IO (E_K: IO_IN for the input forms, IO_IMM for an immediate port).
  const strings = memory.data<i32>([0xa4, M.Movsb, O.MOVS, 0xa6, M.Cmpsb, O.CMPS, 0xaa, M.Stosb, O.STOS, 0xac, M.Lodsb, O.LODS, 0xae, M.Scasb, O.SCAS]);
  for (let i = 0; i < 15; i += 3) {
    const row = load<i32>(strings + (<usize>i << 2)), mn = load<i32>(strings + (<usize>i << 2), 4), op = load<i32>(strings + (<usize>i << 2), 8);
    fixed(row, mn, op, D_BYTE | SZ | mnv(MNV_SI));
    fixed(row + 1, mn, op, SZ | mnv(MNV_SI));
  }
  fixed(0x6c, M.Insb, O.OP_IO_STRING, D_BYTE | D_NO64 | mnv(MNV_SI), O.IO_IN);
  fixed(0x6d, M.Insb, O.OP_IO_STRING, D_NO64 | mnv(MNV_SI), O.IO_IN);
  fixed(0x6e, M.Outsb, O.OP_IO_STRING, D_BYTE | D_NO64 | mnv(MNV_SI));
  fixed(0x6f, M.Outsb, O.OP_IO_STRING, D_NO64 | mnv(MNV_SI));
  fixed(0xe4, M.In, O.OP_IO, D_BYTE | D_NO64 | imm(IMM_BU), O.IO_IN | O.IO_IMM);
  fixed(0xe5, M.In, O.OP_IO, D_NO64 | imm(IMM_BU), O.IO_IN | O.IO_IMM);
  fixed(0xe6, M.Out, O.OP_IO, D_BYTE | D_NO64 | imm(IMM_BU), O.IO_IMM);
  fixed(0xe7, M.Out, O.OP_IO, D_NO64 | imm(IMM_BU), O.IO_IMM);
  fixed(0xec, M.In, O.OP_IO, D_BYTE | D_NO64, O.IO_IN);
  fixed(0xed, M.In, O.OP_IO, D_NO64, O.IO_IN);
  fixed(0xee, M.Out, O.OP_IO, D_BYTE | D_NO64);
  fixed(0xef, M.Out, O.OP_IO, D_NO64);

  // Two-byte opcodes.
  const F = MAP0F;
  fixed(F + 0x0b, M.Ud2, O.OP_UD);
  fixed(F + 0xa2, M.Cpuid, O.OP_CPUID);
  fixed(F + 0x31, M.Rdtsc, O.OP_RDTSC);
  fixed(F + 0x32, M.Rdmsr, O.OP_RDMSR);
  fixed(F + 0x30, M.Wrmsr, O.OP_WRMSR);
  fixed(F + 0x08, M.Invd, O.OP_INVD);
  def(F + 0x20, M.Mov, O.OP_MOV_FROM_CR, O.OP_MOV_FROM_CR, E | D_REGONLY | D_CR);
  def(F + 0x22, M.Mov, O.OP_MOV_TO_CR, O.OP_MOV_TO_CR, E | D_REGONLY | D_CR);
  def(F + 0x21, M.Mov, O.OP_MOV_FROM_DR, O.OP_MOV_FROM_DR, E | D_REGONLY);
  def(F + 0x23, M.Mov, O.OP_MOV_TO_DR, O.OP_MOV_TO_DR, E | D_REGONLY);
  fixed(F + 0x09, M.Wbinvd, O.OP_WBINVD, D_NOF3); // F3: WBNOINVD
  def(F + 0xb6, M.Movzx, O.MOVZX8, O.MOVZX8, E | SZ | D_SRC8);
  def(F + 0xb7, M.Movzx, O.MOVZX16, O.MOVZX16, E | SZ);
  def(F + 0xbe, M.Movsx, O.MOVSX8, O.MOVSX8, E | SZ | D_SRC8);
  def(F + 0xbf, M.Movsx, O.MOVSX16, O.MOVSX16, E | SZ);
  for (let r = 0; r < 8; r++) fixed(F + 0xc8 + r, M.Bswap, O.BSWAP, SZ | D_OPREG);
  for (let k = 0; k < 4; k++) { // 0F A3 AB B3 BB
    def(F + 0xa3 + k * 8, M.Bt + k, O.BT_R, O.BT_R, E | SZ | (k ? D_LOCK : 0), k);
    def(groupRow(G_0FBA, 4 + k), M.Bt + k, O.BT_I, O.BT_I, SZ | (k ? D_LOCK : 0), k);
  }
  group(F + 0xba, G_0FBA, imm(IMM_BU));
  def(F + 0xbc, M.Bsf, O.BSF, O.BSF, E | SZ | D_NOF3); // F3: TZCNT
  def(F + 0xbd, M.Bsr, O.BSR, O.BSR, E | SZ | D_NOF3); // F3: LZCNT
  def(F + 0xc0, M.Xadd, O.XADD, O.XADD, E | D_BYTE | SZ | D_LOCK);
  def(F + 0xc1, M.Xadd, O.XADD, O.XADD, E | SZ | D_LOCK);
  def(F + 0xb0, M.Cmpxchg, O.CMPXCHG, O.CMPXCHG, E | D_BYTE | SZ | D_LOCK);
  def(F + 0xb1, M.Cmpxchg, O.CMPXCHG, O.CMPXCHG, E | SZ | D_LOCK);
  // The hint space, 0F 0D and 0F 18-1F: NOPs, reserved NOPs, prefetches, CLDEMOTE, ENDBR, RDSSP. On
  // this CPU (AMD, no MPX, CET off) every form runs as a NOP whatever its prefixes, except the register
  // forms of 0F 0D, which raise #UD (native harness, FINDINGS F4). A memory operand is decoded for its
  // length and never accessed: a hint does not fault, not even on a non-canonical or unmapped address.
  group(F + 0x1f, G_0F1F);
  def(groupRow(G_0F1F, 0), M.Nop, O.OP_NOP, O.OP_NOP, 0);
  const hints = memory.data<i32>([
    M.Prefetchnta, M.Prefetcht0, M.Prefetcht1, M.Prefetcht2, M.Reservednop, M.Reservednop, M.Prefetchit1, M.Prefetchit0, // 0F 18
    M.Cldemote, M.Reservednop, M.Reservednop, M.Reservednop, M.Reservednop, M.Reservednop, M.Reservednop, M.Reservednop, // 0F 1C
    // 0F 0D: AMD's PREFETCH and PREFETCHW, /2../7 aliases of them (/2 is Intel's PREFETCHWT1).
    M.Prefetch, M.Prefetchw, M.Prefetchwt1, M.Prefetchw, M.Prefetch, M.Prefetch, M.Prefetch, M.Prefetch,
  ]);
  for (let r = 0; r < 8; r++) {
    if (r) def(groupRow(G_0F1F, r), M.Reservednop, O.OP_NOP, O.OP_NOP, 0);
    def(groupRow(G_RESNOP, r), M.Reservednop, O.OP_NOP, O.OP_NOP, 0);
    fixed(rmGroupRow(R_RESNOP, r), M.Reservednop, O.OP_NOP);
    const mn = hints + (<usize>r << 2);
    def(groupRow(G_0F18, r), load<i32>(mn), R_RESNOP, O.OP_NOP, D_RMGROUP);
    def(groupRow(G_0F1C, r), load<i32>(mn, 32), R_RESNOP, O.OP_NOP, D_RMGROUP);
    def(groupRow(G_0F0D, r), load<i32>(mn, 64), O.OP_UD, O.OP_NOP, 0);
  }
  for (let op = 0x19; op <= 0x1e; op++) if (op != 0x1c) group(F + op, G_RESNOP);
  group(F + 0x18, G_0F18);
  group(F + 0x1c, G_0F1C);
  group(F + 0x0d, G_0F0D);
  fixed(ROW_ENDBR64, M.Endbr64, O.OP_NOP);
  fixed(ROW_ENDBR32, M.Endbr32, O.OP_NOP);
  // RDSSP reads the shadow-stack pointer only while CET shadow stacks are on; off (here), it is a NOP.
  fixed(ROW_RDSSPD, M.Rdsspd, O.OP_NOP);
  fixed(ROW_RDSSPQ, M.Rdsspq, O.OP_NOP);

  // 0F 01: descriptor tables (memory forms) and VMCALL, MONITOR, MWAIT, RDTSCP (register forms).
  group(F + 0x01, G_0F01);
  def(groupRow(G_0F01, 0), 0, O.OP_UD, O.OP_UD, D_RMGROUP | R_0F01_0);
  def(groupRow(G_0F01, 1), M.Sidt, R_0F01_1, O.OP_SIDT, D_RMGROUP);
  def(groupRow(G_0F01, 2), 0, R_0F01_2, O.OP_UD, D_RMGROUP);
  def(groupRow(G_0F01, 3), M.Lidt, O.OP_UD, O.OP_LIDT, 0);
  def(groupRow(G_0F01, 7), 0, R_0F01_7, O.OP_UD, D_RMGROUP);
  fixed(rmGroupRow(R_0F01_0, 1), M.Vmcall, O.OP_VMCALL, D_PLAIN);
  fixed(rmGroupRow(R_0F01_1, 0), M.Monitor, O.OP_MONITOR, D_PLAIN);
  fixed(rmGroupRow(R_0F01_1, 1), M.Mwait, O.OP_MWAIT, D_PLAIN);
  fixed(rmGroupRow(R_0F01_7, 1), M.Rdtscp, O.OP_RDTSCP);
  fixed(rmGroupRow(R_0F01_2, 0), M.Xgetbv, O.OP_XGETBV, D_PLAIN);
  fixed(rmGroupRow(R_0F01_2, 1), M.Xsetbv, O.OP_XSETBV, D_PLAIN);
  // 0F AE /5 /6 /7 with mod = 3: the fences, which order nothing in a one-thread interpreter.
  group(F + 0xae, G_0FAE);
  def(groupRow(G_0FAE, 5), M.Lfence, O.OP_NOP, O.OP_UD, D_PLAIN);
  def(groupRow(G_0FAE, 6), M.Mfence, O.OP_NOP, O.OP_UD, D_PLAIN);
  def(groupRow(G_0FAE, 7), M.Sfence, O.OP_NOP, O.OP_UD, D_PLAIN);
}
