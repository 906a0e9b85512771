// The instruction forms the assembler knows, derived once from iced-x86 rather than written out:
// every legacy-encoded `Code` valid in 64-bit mode whose name spells operands we can parse.
// `Add_rm64_imm8` reads as mnemonic `add`, a 64-bit register-or-memory operand and an 8-bit
// immediate; iced's OpCodeInfo adds what the name leaves out (the mnemonic as the SDM spells it,
// whether an immediate is sign-extended, the operand size, the prefixes the form accepts).
import type { Code, Instruction, Register } from 'iced-x86';
import type { Iced } from './iced';

export type Slot =
  | { t: 'reg' | 'rm' | 'moffs'; size: number } // r32, rm32, moffs32
  | { t: 'regOrMem16'; size: number; read: boolean } // r32m16: a 32-bit register or 16-bit memory (MOV Sreg, LTR)
  | { t: 'mem'; size: number } // m8..m128; 0 = any size (LEA's m, LIDT's m16&64)
  | { t: 'imm'; width: number; ext: number } // stored in `width` bits, sign-extended to `ext`
  | { t: 'rel'; width: number } // branch displacement
  | { t: 'fixed'; reg: Register; name: string } // AL, CL, DX, FS: one register only
  | { t: 'one' } // the constant 1 of the shift-by-one forms
  | { t: 'sreg' | 'cr' | 'dr' };

/** Creates a string instruction (MOVSB, REP STOSQ, ...), whose memory operands are implicit. */
export interface StringCreator {
  create(addressSize: number, seg: Register, rep: number): Instruction;
  /** Whether it reads through DS:RSI, which a segment prefix may override (not STOS, SCAS, INS: ES:RDI). */
  segment: boolean;
}

export interface Form {
  code: Code;
  name: string; // the Code's name, e.g. Add_rm64_imm8
  mnemonic: string;
  slots: Slot[];
  opSize: number; // OpCodeInfo.operandSize: 16, 32, 64, or 0 when the form has no operand size
  defaultOpSize64: boolean; // PUSH, POP, CALL, ...: 64-bit unless a prefix says otherwise
  string?: StringCreator;
  canLock: boolean;
  canRep: boolean;
  canRepne: boolean;
}

export type FormTable = Map<string, Form[]>;

const SIZES: Record<string, number> = { '8': 1, '16': 2, '32': 4, '64': 8, '128': 16 };
// Name parts after the operands: only the 64-bit operand-size variant (Jo_rel8_64) and the
// RCX-counting LOOPs are the forms NASM emits in 64-bit code; `_16`, `_ECX` and alternate
// encodings (`_F6r1`, `_0F1F`) are other forms of the same instruction.
const QUALIFIERS_KEPT = new Set(['64', 'RCX']);

export function buildForms(iced: Iced): FormTable {
  const { Code, CodeExt, EncodingKind, Mnemonic, OpCodeOperandKind, Register, Instruction } = iced;
  const table: FormTable = new Map();
  const access = new iced.InstructionInfoFactory();
  for (const [name, value] of Object.entries(Code)) {
    if (typeof value !== 'number') continue;
    const info = CodeExt.opCode(value as Code);
    try {
      if (!info.mode64 || info.encoding !== EncodingKind.Legacy || !info.isInstruction) continue;
      const parts = name.split('_');
      if (parts.slice(1 + info.opCount).some((q) => !QUALIFIERS_KEPT.has(q))) continue;
      const kinds = Array.from({ length: info.opCount }, (_, i) => OpCodeOperandKind[info.opKind(i)]);
      const mnemonic = Mnemonic[info.mnemonic].toLowerCase();
      const form: Form = {
        code: value as Code,
        name,
        mnemonic,
        slots: [],
        opSize: info.operandSize,
        defaultOpSize64: info.defaultOpSize64,
        canLock: info.canUseLockPrefix,
        canRep: info.canUseRepPrefix,
        canRepne: info.canUseRepnePrefix,
      };
      if (kinds.some((k) => /^(seg|es)_r[A-Z]/.test(k))) {
        // String instructions: NASM writes them without operands (MOVSB, STOSQ, INSB).
        const create = (Instruction as unknown as Record<string, ((...args: number[]) => Instruction) | undefined>)[
          `create${parts[0]}`
        ];
        if (!create) continue;
        // iced's creators take (addressSize, segmentPrefix, repPrefix), or no segment for ES:RDI-only ones.
        const segment = create.length === 3;
        form.string = { segment, create: (size, seg, rep) => (segment ? create(size, seg, rep) : create(size, rep)) };
      } else {
        const slots = parts.slice(1, 1 + info.opCount).map((p, i) => parseSlot(p, kinds[i], Register));
        if (slots.some((s) => !s)) continue;
        form.slots = slots as Slot[];
        if (form.slots.some((s) => s.t === 'mem' && s.size === 0) && isFarBranch(iced, form.code)) continue;
        if (form.slots.some((s) => s.t === 'regOrMem16')) markReads(iced, access, form);
      }
      const list = table.get(mnemonic) ?? [];
      list.push(form);
      table.set(mnemonic, list);
    } finally {
      info.free();
    }
  }
  access.free();
  // NASM also spells MOVSXD r64, r/m32 as MOVSX.
  table.get('movsx')!.push(...table.get('movsxd')!.filter((f) => f.opSize === 64));
  return table;
}

function parseSlot(part: string, kind: string, Register: Iced['Register']): Slot | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^(r|rm|moffs)(8|16|32|64)$/.exec(part))) return { t: m[1] === 'r' ? 'reg' : (m[1] as 'rm' | 'moffs'), size: SIZES[m[2]] };
  if ((m = /^r(32|64)m16$/.exec(part))) return { t: 'regOrMem16', size: SIZES[m[1]], read: false };
  if ((m = /^m(8|16|32|64|128)?$/.exec(part))) return { t: 'mem', size: m[1] ? SIZES[m[1]] : 0 };
  if (/^m16(16|32|64)$/.test(part)) return { t: 'mem', size: 0 };
  if ((m = /^imm(8|16|32|64)$/.exec(part))) {
    const sex = /sex(16|32|64)$/.exec(kind); // OpCodeOperandKind imm8sex64: sign-extended to 64 bits
    return { t: 'imm', width: Number(m[1]), ext: sex ? Number(sex[1]) : Number(m[1]) };
  }
  if ((m = /^rel(8|32)$/.exec(part))) return { t: 'rel', width: Number(m[1]) };
  if (part === '1') return { t: 'one' };
  if (part === 'Sreg') return { t: 'sreg' };
  if (part === 'cr' || part === 'dr') return { t: part };
  if (/^[A-Z]{2,3}$/.test(part) && part in Register) {
    return { t: 'fixed', reg: Register[part as keyof typeof Register] as Register, name: part.toLowerCase() };
  }
  return undefined; // xmm, st(i), bnd, ...: not part of the guest assembler
}

/**
 * Whether each r32/m16 operand is only read (LTR, MOV Sreg, LAR's source): such an operand uses
 * 16 bits of the register, so NASM accepts AX there and encodes it as EAX, without a 66 prefix.
 */
function markReads(iced: Iced, factory: InstanceType<Iced['InstructionInfoFactory']>, form: Form): void {
  const { Instruction, OpKind, OpAccess, Register } = iced;
  const probe = Instruction.create(form.code);
  try {
    form.slots.forEach((s, i) => {
      probe.setOpKind(i, OpKind.Register);
      probe.setOpRegister(i, s.t === 'sreg' ? Register.ES : s.t === 'regOrMem16' && s.size === 8 ? Register.RAX : Register.EAX);
    });
    const info = factory.info(probe);
    form.slots.forEach((s, i) => {
      if (s.t === 'regOrMem16') s.read = info.opAccess(i) === OpAccess.Read;
    });
    info.free();
  } finally {
    probe.free();
  }
}

/** Far CALL/JMP through memory (m16:64): not a flat 64-bit CPL 0 guest's business. */
function isFarBranch(iced: Iced, code: Code): boolean {
  const probe = iced.Instruction.create(code);
  try {
    return probe.isCallFarIndirect || probe.isJmpFarIndirect;
  } finally {
    probe.free();
  }
}

/**
 * NASM's spellings that iced names differently. Condition-code synonyms come from iced's own
 * CC_* enums (CC_b: b, c, nae); the rest are NASM's 64-bit-mode defaults (PUSHF means PUSHFQ,
 * IRET means IRETD) and SAL, which NASM encodes as SHL (/4; iced's Sal_* is the /6 alias).
 */
export function buildAliases(iced: Iced, forms: FormTable): Map<string, string> {
  const aliases = new Map<string, string>([
    ['sal', 'shl'], ['pushf', 'pushfq'], ['popf', 'popfq'], ['iret', 'iretd'], ['retn', 'ret'], ['retq', 'ret'],
    ['loopz', 'loope'], ['loopnz', 'loopne'],
  ]);
  for (const [key, cc] of Object.entries(iced)) {
    if (!key.startsWith('CC_')) continue;
    const canonical = key.slice(3);
    for (const spelling of Object.keys(cc as object).filter((k) => isNaN(Number(k)))) {
      for (const prefix of ['j', 'set', 'cmov']) {
        if (spelling !== canonical && forms.has(prefix + canonical)) aliases.set(prefix + spelling, prefix + canonical);
      }
    }
  }
  return aliases;
}
