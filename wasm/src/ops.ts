// Execution op ids: what a pre-decoded entry does. The decoder (optable.ts) maps each encoding to one
// of these; the executor (exec.ts) has one switch case per id, so the switch compiles to a br_table.
//
// A "sized" op takes four consecutive ids, one per operand size: +0 byte, +1 word, +2 dword, +3 qword
// (the entry's FL_SI bits hold the same index). ALU ops also take nine consecutive sized groups, one
// per kind in the order of the ALU_* kinds below.

// ALU kinds: the /r of opcodes 80..83 and the row of 00..3D, then TEST.
export const K_ADD = 0;
export const K_OR = 1;
export const K_ADC = 2;
export const K_SBB = 3;
export const K_AND = 4;
export const K_SUB = 5;
export const K_XOR = 6;
export const K_CMP = 7;
export const K_TEST = 8;
// Unary kinds (F6/F7 /2 /3, FE/FF /0 /1).
export const K_NOT = 0;
export const K_NEG = 1;
export const K_INC = 2;
export const K_DEC = 3;
// MUL/DIV kinds (F6/F7 /4../7).
export const K_MUL = 0;
export const K_IMUL = 1;
export const K_DIV = 2;
export const K_IDIV = 3;
// Bit-test kinds (0F BA /4../7).
export const K_BT = 0;
export const K_BTS = 1;
export const K_BTR = 2;
export const K_BTC = 3;

// IO kinds (E_K of OP_IO / OP_IO_STRING).
export const IO_IN = 1;
export const IO_IMM = 2;

// Fixed ops.
export const OP_UD = 0; //          #UD: undecodable or unsupported bytes
export const OP_GP_LENGTH = 1; //   #GP(0): the instruction is longer than 15 bytes
export const OP_FETCH = 2; //       instruction fetch left guest RAM (E_DISP = the GPA)
export const OP_STOP = 3; //        planted over a block whose code was overwritten: leave before it
export const OP_NOP = 4;
export const OP_PAUSE = 5;
export const OP_HLT = 6;
export const OP_CLC = 7;
export const OP_STC = 8;
export const OP_CMC = 9;
export const OP_CLD = 10;
export const OP_STD = 11;
export const OP_CLI = 12;
export const OP_STI = 13;
export const OP_SAHF = 14;
export const OP_LAHF = 15;
export const OP_JMP = 16; //        rel8/rel32: E_IMM = target
export const OP_MOV_FROM_CR = 17; // E_R: the control register (as register n's offset), E_B: the GPR
export const OP_MOV_TO_CR = 18;
export const OP_XGETBV = 19;
export const OP_XSETBV = 20;
export const OP_LOOPNE = 21; //     E0 E1 E2 E3 in opcode order
export const OP_LOOPE = 22;
export const OP_LOOP = 23;
export const OP_JRCXZ = 24;
export const OP_INT3 = 25;
export const OP_INT = 26;
export const OP_INT1 = 27;
export const OP_CPUID = 28;
export const OP_RDTSC = 29;
export const OP_RDTSCP = 30;
export const OP_RDMSR = 31;
export const OP_WRMSR = 32;
export const OP_INVD = 33;
export const OP_WBINVD = 34;
export const OP_VMCALL = 35;
export const OP_MONITOR = 36;
export const OP_MWAIT = 37;
export const OP_LIDT = 38;
export const OP_SIDT = 39;
export const OP_IO = 40; //         IN/OUT: E_K = IO_*, E_IMM = the port when immediate
export const OP_IO_STRING = 41; //  INS/OUTS
export const OP_MOV_TO_SREG = 42; //  E_K = the segment register (ES CS SS DS FS GS: 0..5)
export const OP_SETCC = 43; //      E_K = condition
export const OP_MOV_FROM_SREG = 44;
export const OP_MOV_FROM_DR = 45; // E_R: the debug register (as register n's offset), E_B: the GPR
export const OP_MOV_TO_DR = 46;
export const OP_JCC = 48; //        16 ids, one per condition code

// Sized ops (4 ids each).
export const ALU_RR = 64; //        9 kinds × 4: dst = E_B register, src = E_R register
export const ALU_RI = ALU_RR + 36; // 9 kinds × 4: dst = E_B register, src = E_IMM
export const ALU_RM = ALU_RI + 36; // dst = E_R register, src = memory; kind in E_K
export const ALU_MR = ALU_RM + 4; //  dst = memory, src = E_R register
export const ALU_MI = ALU_MR + 4; //  dst = memory, src = E_IMM
export const MOV_RR = ALU_MI + 4;
export const MOV_RM = MOV_RR + 4; //  load
export const MOV_MR = MOV_RM + 4; //  store
export const MOV_RI = MOV_MR + 4;
export const MOV_MI = MOV_RI + 4;
export const INC_R = MOV_MI + 4;
export const DEC_R = INC_R + 4;
export const UNARY = DEC_R + 4; //  NOT/NEG/INC/DEC (E_K) on a register or memory (FL_MEM)
export const SHIFT = UNARY + 4; //  E_K = /r; count from E_IMM
export const SHIFT_CL = SHIFT + 4;
export const MULDIV = SHIFT_CL + 4;
export const IMUL2 = MULDIV + 4;
export const IMUL3 = IMUL2 + 4;
export const MOVZX8 = IMUL3 + 4; // the result's size selects the id; the source size is in the name
export const MOVZX16 = MOVZX8 + 4;
export const MOVSX8 = MOVZX16 + 4;
export const MOVSX16 = MOVSX8 + 4;
export const MOVSX32 = MOVSX16 + 4;
export const LEA = MOVSX32 + 4;
export const XCHG = LEA + 4;
export const XADD = XCHG + 4;
export const CMPXCHG = XADD + 4;
export const PUSH_R = CMPXCHG + 4;
export const POP_R = PUSH_R + 4;
export const PUSH_I = POP_R + 4;
export const PUSH_RM = PUSH_I + 4;
export const POP_RM = PUSH_RM + 4;
export const PUSHF = POP_RM + 4;
export const POPF = PUSHF + 4;
export const LEAVE = POPF + 4;
export const IRET = LEAVE + 4;
export const BT_R = IRET + 4; //    E_K = kind, bit offset in the E_R register
export const BT_I = BT_R + 4; //    bit offset in E_IMM
export const BSF = BT_I + 4;
export const BSR = BSF + 4;
export const CBW = BSR + 4; //      CBW/CWDE/CDQE
export const CWD = CBW + 4; //      CWD/CDQ/CQO
export const CMOV = CWD + 4; //     E_K = condition
export const BSWAP = CMOV + 4;
export const MOVS = BSWAP + 4;
export const CMPS = MOVS + 4;
export const STOS = CMPS + 4;
export const LODS = STOS + 4;
export const SCAS = LODS + 4;
// Fused pairs: cache.ts gives the first entry of "op; Jcc" at the end of a block one of these ids, to
// run both in one dispatch. The Jcc entry stays as it was, for when only the first may run.
export const DEC_JNZ = SCAS + 4; // DEC r; JNZ
export const CMP_JCC_RR = DEC_JNZ + 4; // CMP r, r; Jcc
export const CMP_JCC_RI = CMP_JCC_RR + 4; // CMP r, imm; Jcc
export const TEST_JCC_RR = CMP_JCC_RI + 4; // TEST r, r; Jcc
// Near CALL/RET/indirect JMP: 64-bit, or 16-bit with a 66 prefix as on AMD (+1 and +3 are used).
export const CALL = TEST_JCC_RR + 4; //   rel: E_IMM = target
export const RET = CALL + 4; //           E_IMM = bytes to release (RET imm16)
export const JMP_RM = RET + 4;
export const CALL_RM = JMP_RM + 4;
export const OP_COUNT = CALL_RM + 4;
