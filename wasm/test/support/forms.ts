// Instruction forms, read from iced-x86's own opcode tables: every legacy-encoded Code of a mnemonic
// that is valid in 64-bit mode, with its operand slots and which of them it writes. The generators
// fill the slots; nothing here spells out an encoding.
import {
  Code, CodeExt, EncodingKind, InstructionInfoFactory, Mnemonic, OpAccess, OpCodeOperandKind as K, Register,
} from 'iced-x86';
import { toInstruction } from './assemble';
import type { Insn, Operand } from './program';
import { GPR, gprNumber, type Width } from './registers';

export type Slot =
  | { kind: 'reg'; width: Width } // a register (ModRM reg or rm, or in the opcode)
  | { kind: 'rm'; width: Width } // a register or memory
  | { kind: 'addr' } // a memory operand that is only an address (LEA)
  | { kind: 'fixed'; reg: Register } // AL, CL, AX, EAX, RAX … named by the form itself
  | { kind: 'imm'; min: bigint; max: bigint };

export interface Form {
  code: Code;
  mnemonic: Mnemonic;
  /** Operand size in bits (0 when the form has none of its own, e.g. 8-bit forms). */
  operandSize: number;
  /** The encoding needs REX.W (64-bit operand size that is not the form's default). */
  rexW: boolean;
  slots: Slot[];
  /** Per slot: the instruction may write it. */
  writes: boolean[];
  /** Register numbers written without being an operand (MUL's RDX, PUSH's RSP, …). */
  implicitWrites: number[];
  /** Takes a LOCK prefix when its destination is memory. */
  canLock: boolean;
}

const i32 = { min: -(2n ** 31n), max: 2n ** 31n - 1n };
const SLOTS: Partial<Record<K, Slot>> = {
  [K.r8_or_mem]: { kind: 'rm', width: 8 },
  [K.r16_or_mem]: { kind: 'rm', width: 16 },
  [K.r32_or_mem]: { kind: 'rm', width: 32 },
  [K.r64_or_mem]: { kind: 'rm', width: 64 },
  [K.r8_reg]: { kind: 'reg', width: 8 },
  [K.r8_opcode]: { kind: 'reg', width: 8 },
  [K.r16_reg]: { kind: 'reg', width: 16 },
  [K.r16_rm]: { kind: 'reg', width: 16 },
  [K.r16_opcode]: { kind: 'reg', width: 16 },
  [K.r32_reg]: { kind: 'reg', width: 32 },
  [K.r32_rm]: { kind: 'reg', width: 32 },
  [K.r32_opcode]: { kind: 'reg', width: 32 },
  [K.r64_reg]: { kind: 'reg', width: 64 },
  [K.r64_rm]: { kind: 'reg', width: 64 },
  [K.r64_opcode]: { kind: 'reg', width: 64 },
  [K.mem]: { kind: 'addr' },
  [K.al]: { kind: 'fixed', reg: Register.AL },
  [K.cl]: { kind: 'fixed', reg: Register.CL },
  [K.ax]: { kind: 'fixed', reg: Register.AX },
  [K.eax]: { kind: 'fixed', reg: Register.EAX },
  [K.rax]: { kind: 'fixed', reg: Register.RAX },
  [K.imm8]: { kind: 'imm', min: 0n, max: 255n },
  [K.imm8_const_1]: { kind: 'imm', min: 1n, max: 1n },
  [K.imm8sex16]: { kind: 'imm', min: -128n, max: 127n },
  [K.imm8sex32]: { kind: 'imm', min: -128n, max: 127n },
  [K.imm8sex64]: { kind: 'imm', min: -128n, max: 127n },
  [K.imm16]: { kind: 'imm', min: 0n, max: 0xffffn },
  [K.imm32]: { kind: 'imm', ...i32 },
  [K.imm32sex64]: { kind: 'imm', ...i32 },
  [K.imm64]: { kind: 'imm', min: 0n, max: 2n ** 64n - 1n },
};

const WRITES = new Set([OpAccess.Write, OpAccess.CondWrite, OpAccess.ReadWrite, OpAccess.ReadCondWrite]);
const CODE_COUNT = Object.keys(Code).filter((k) => Number.isNaN(Number(k))).length;

/** A stand-in operand for a slot, on a register no instruction uses implicitly (R8 upwards). */
function sample(slot: Slot, i: number): Operand {
  switch (slot.kind) {
    case 'reg':
    case 'rm': return { reg: GPR[slot.width][8 + i] };
    case 'addr': return { mem: { base: GPR[64][8 + i], index: Register.None, scale: 1, disp: 0n, dispSize: 0 } };
    case 'fixed': return { reg: slot.reg };
    case 'imm': return { imm: slot.min };
  }
}

let codes: Map<Mnemonic, Code[]> | null = null;

/** Legacy-encoded Codes valid in 64-bit mode, by mnemonic. */
function codesByMnemonic(): Map<Mnemonic, Code[]> {
  if (codes) return codes;
  codes = new Map();
  for (let code = 0 as Code; code < CODE_COUNT; code++) {
    const oc = CodeExt.opCode(code);
    if (oc.isInstruction && oc.mode64 && oc.encoding === EncodingKind.Legacy) {
      const list = codes.get(oc.mnemonic) ?? [];
      list.push(code);
      codes.set(oc.mnemonic, list);
    }
    oc.free();
  }
  return codes;
}

/** The form of a Code, or null when it has an operand kind the generators do not produce. */
function formOf(code: Code, infos: InstructionInfoFactory): Form | null {
  const oc = CodeExt.opCode(code);
  try {
    const slots: Slot[] = [];
    for (let k = 0; k < oc.opCount; k++) {
      const s = SLOTS[oc.opKind(k)];
      if (!s) return null;
      slots.push(s);
    }
    const ops = slots.map(sample);
    const ins = toInstruction({ code, ops } satisfies Insn);
    const info = infos.info(ins);
    const writes = slots.map((_, k) => WRITES.has(info.opAccess(k)));
    const explicit = new Set(ops.flatMap((o) => ('reg' in o ? [gprNumber(o.reg)] : [])));
    const implicitWrites = [
      ...new Set(info.usedRegisters().filter((u) => WRITES.has(u.access)).map((u) => gprNumber(u.register)).filter((n) => n >= 0 && !explicit.has(n))),
    ];
    info.free();
    ins.free();
    return {
      code, mnemonic: oc.mnemonic, operandSize: oc.operandSize,
      rexW: oc.operandSize === 64 && !oc.defaultOpSize64 && !oc.forceOpSize64, slots, writes, implicitWrites,
      canLock: oc.canUseLockPrefix,
    };
  } finally {
    oc.free();
  }
}

const byCode = new Map<Code, Form | null>();

/** The form of one Code (null when the generators have no slot for one of its operands). */
export function formFor(code: Code): Form | null {
  let f = byCode.get(code);
  if (f === undefined) {
    const infos = new InstructionInfoFactory();
    f = formOf(code, infos);
    infos.free();
    byCode.set(code, f);
  }
  return f;
}

/** Every generatable form of these mnemonics. Throws for a mnemonic with none, so a typo cannot hide a class. */
export function formsOf(mnemonics: readonly Mnemonic[]): Form[] {
  return mnemonics.flatMap((m) => {
    const list = (codesByMnemonic().get(m) ?? []).map(formFor).filter((f): f is Form => f !== null);
    if (!list.length) throw new Error(`no generatable form of ${Mnemonic[m]}`);
    return list;
  });
}
