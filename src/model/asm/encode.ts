// Encodes one instruction at one address: evaluates its operands, builds an iced-x86 Instruction
// for each candidate form whose values fit, encodes it with iced's Encoder and keeps the shortest
// (ties go to the earlier form, which is NASM's choice: iced orders forms by opcode, so `r/m, r`
// comes before `r, r/m`).
import type { Encoder, Instruction, MemoryOperand, Register } from 'iced-x86';
import { evaluate, evaluateNumber, fitsOperand, hex, type EvalEnv, type Linear } from './expr';
import { AsmFault } from './fault';
import type { Slot } from './forms';
import type { Iced } from './iced';
import type { Insn, Operand } from './parser';
import { resize, type RegInfo, type RegTable } from './registers';
import type { Candidate } from './select';

export interface EncodeContext {
  iced: Iced;
  encoder: Encoder;
  registers: RegTable;
}

type Value =
  | { t: 'reg'; reg: RegInfo }
  | { t: 'mem'; op: Operand & { t: 'mem' }; lin: Linear; addr?: Address }
  | { t: 'imm'; lin: Linear };

/** Why a candidate was passed over; the most telling reason becomes the error when none fits. */
interface Miss {
  rank: number;
  message: string;
  col?: number; // the operand at fault, if one is
}

/**
 * The bytes of `insn` at `env.here`, or an AsmFault. `floor`, when given, asks for an encoding at
 * least that long if one exists: after some passes, instructions stop shrinking so the layout settles.
 */
export function encodeInsn(insn: Insn, candidates: Candidate[], env: EvalEnv, ctx: EncodeContext, floor = 0): Uint8Array {
  const values = insn.operands.map((op) => evaluateOperand(op, env));
  let best: { bytes: Uint8Array; rank: number[] } | undefined;
  let miss: Miss = { rank: -1, message: 'no form of this instruction takes these values' };
  for (const cand of candidates) {
    const slotValues = cand.order.map((i) => values[i]);
    const slotOps = cand.order.map((i) => insn.operands[i]);
    const why = checkValues(cand, slotValues, slotOps, candidates);
    if (why) {
      if (why.rank > miss.rank) miss = why;
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeOne(cand, slotValues, insn, env.here, ctx);
    } catch (e) {
      ctx.encoder.takeBuffer(); // drop what a failed encode left behind
      if (e instanceof AsmFault) throw e;
      const why = icedMiss(e, insn, slotValues, slotOps, env.here);
      if (why.rank > miss.rank) miss = why;
      continue;
    }
    // Shortest wins (at least `floor` long if possible); on a tie NASM prefers the smaller
    // immediate (ADD AX, 5 is 66 83 C0 05, not 66 05 05 00), then the earlier form.
    const immBits = cand.form.slots.reduce((n, s) => n + (s.t === 'imm' ? s.width : 0), 0);
    const rank = [bytes.length >= floor ? 0 : 1, bytes.length, immBits];
    if (!best || compare(rank, best.rank) < 0) best = { bytes, rank };
  }
  if (!best) throw new AsmFault(miss.col ?? insn.col, miss.message);
  return best.bytes;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function evaluateOperand(op: Operand, env: EvalEnv): Value {
  if (op.t === 'reg') return { t: 'reg', reg: op.reg };
  if (op.t === 'imm') return { t: 'imm', lin: evaluateNumber(op.expr, env) };
  const lin = evaluate(op.expr, env);
  return { t: 'mem', op, lin, addr: op.disp === 'qword' || op.rel ? undefined : address(op, lin) };
}

function fitsSigned(v: bigint, bits: number): boolean {
  return BigInt.asIntN(bits, v) === v;
}

function checkValues(cand: Candidate, values: Value[], ops: Operand[], all: Candidate[]): Miss | undefined {
  for (const [i, slot] of cand.form.slots.entries()) {
    const v = values[i];
    if (v.t !== 'imm') continue;
    const { value, reloc } = v.lin;
    const op = ops[i];
    const col = op.col;
    const skip = { rank: -1, message: '' }; // not an error: another candidate is meant for this value
    if (slot.t === 'one' && value !== 1n) return skip;
    if (slot.t === 'imm') {
      if (!fitsOperand(value, slot.ext)) return { rank: 3, message: `immediate ${hex(value)} does not fit in ${slot.ext} bits`, col };
      if (BigInt.asIntN(slot.width, value) !== BigInt.asIntN(slot.ext, value)) {
        return { rank: 2, message: `immediate ${hex(value)} does not fit in ${slot.width} bits sign-extended to ${slot.ext}`, col };
      }
    }
    if (cand.narrow && (value < 0n || value >= 1n << 32n)) return skip;
    // NASM keeps a jump to a plain number near; only label-relative targets are made short.
    if (slot.t === 'rel' && slot.width === 8 && op.t === 'imm' && !op.jump && reloc === 0 && all.some((c) => hasRel32(c.form.slots))) {
      return skip;
    }
  }
  return undefined;
}

function hasRel32(slots: Slot[]): boolean {
  return slots.some((s) => s.t === 'rel' && s.width === 32);
}

function encodeOne(cand: Candidate, values: Value[], insn: Insn, here: bigint, ctx: EncodeContext): Uint8Array {
  const ins = build(cand, values, insn, ctx);
  try {
    ins.hasLockPrefix = insn.lock;
    ctx.encoder.encode(ins, BigInt.asUintN(64, here));
  } finally {
    ins.free();
  }
  return ctx.encoder.takeBuffer();
}

function build(cand: Candidate, values: Value[], insn: Insn, ctx: EncodeContext): Instruction {
  const { Instruction, Register, RepPrefixKind } = ctx.iced;
  const { form } = cand;
  if (form.string) {
    const rep = insn.rep === 'repne' ? RepPrefixKind.Repne : insn.rep ? RepPrefixKind.Repe : RepPrefixKind.None;
    return form.string.create(64, insn.seg?.reg ?? Register.None, rep);
  }
  const relIndex = form.slots.findIndex((s) => s.t === 'rel');
  if (relIndex >= 0) {
    return Instruction.createBranch(form.code, BigInt.asUintN(64, (values[relIndex] as { lin: Linear }).lin.value));
  }
  const args: (number | bigint | MemoryOperand)[] = [];
  let signature = '';
  for (const [i, slot] of form.slots.entries()) {
    const v = values[i];
    if (v.t === 'reg') {
      signature += 'Reg';
      args.push(registerFor(slot, v.reg, cand, ctx));
    } else if (v.t === 'mem') {
      signature += 'Mem';
      args.push(memoryOperand(v, slot, insn, ctx.iced));
    } else {
      const width = slot.t === 'imm' ? slot.width : 8;
      signature += width === 64 ? 'U64' : 'I32';
      args.push(width === 64 ? BigInt.asUintN(64, v.lin.value) : Number(BigInt.asIntN(width, v.lin.value)));
    }
  }
  if (!signature) return Instruction.create(form.code);
  const create = (Instruction as unknown as Record<string, (...a: unknown[]) => Instruction>)[`create${signature}`];
  return create(form.code, ...args);
}

function registerFor(slot: Slot, reg: RegInfo, cand: Candidate, ctx: EncodeContext): Register {
  if (cand.narrow && slot.t === 'reg') return cand.narrow.reg;
  // LTR AX, MOV SS, AX: a 16-bit source in an r32/m16 slot is encoded as its 32-bit register.
  if (slot.t === 'regOrMem16' && reg.size !== slot.size) return resize(ctx.registers, reg, slot.size)!.reg;
  return reg.reg;
}

/** base + index*scale + displacement, as NASM reads `[...]`. */
interface Address {
  base?: RegInfo;
  index?: RegInfo;
  scale: number;
  disp: bigint;
  displSize: number; // iced's: 0 none, 1 by value (disp8 or disp32), 4/8 full width
}

function memoryOperand(v: Value & { t: 'mem' }, slot: Slot, insn: Insn, iced: Iced): MemoryOperand {
  const { MemoryOperand, Register } = iced;
  const seg = (v.op.seg ?? insn.seg)?.reg ?? Register.None;
  const value = BigInt.asUintN(64, v.lin.value);
  if (slot.t === 'moffs') return new MemoryOperand(Register.None, Register.None, 1, value, 8, false, seg);
  if (v.op.rel) return new MemoryOperand(Register.RIP, Register.None, 1, value, 8, false, seg);
  const a = v.addr!;
  return new MemoryOperand(a.base?.reg ?? Register.None, a.index?.reg ?? Register.None, a.scale, a.disp, a.displSize, false, seg);
}

const SCALES = [1n, 2n, 4n, 8n];

/** NASM's reading of `[...]`, including its splits: `[rbx*2]` is `[rbx+rbx]`, `[rbx*5]` `[rbx+rbx*4]`. */
function address(op: Operand & { t: 'mem' }, lin: Linear): Address {
  const terms = new Map<number, { reg: RegInfo; k: bigint; col: number }>();
  for (const r of lin.regs) {
    if (r.reg.cls !== 'gpr' || r.reg.size < 4) {
      throw new AsmFault(r.col, `'${r.reg.name}' cannot address memory: use 64-bit (or 32-bit) general-purpose registers`);
    }
    const t = terms.get(r.reg.reg);
    terms.set(r.reg.reg, { ...r, k: (t?.k ?? 0n) + r.k });
  }
  const regs = [...terms.values()].filter((t) => t.k !== 0n);
  if (new Set(regs.map((r) => r.reg.size)).size > 1) throw new AsmFault(op.col, 'an address cannot mix 64-bit and 32-bit registers');
  if (regs.length > 2) throw new AsmFault(op.col, 'an address has at most two registers: base + index*scale');
  if (regs.filter((r) => r.k !== 1n).length > 1) throw new AsmFault(op.col, 'only one register of an address can be scaled');
  let base = regs.find((r) => r.k === 1n);
  let index = regs.find((r) => r !== base);
  let scale = index ? Number(index.k) : 1;
  if (index && !SCALES.includes(index.k)) {
    if (base || ![3n, 5n, 9n].includes(index.k)) throw new AsmFault(index.col, `scale ${index.k} is not 1, 2, 4 or 8`);
    base = index;
    scale -= 1;
  }
  if (index && !base && scale === 2) {
    base = index; // no base needs a 32-bit displacement; [rbx+rbx] does not
    scale = 1;
  }
  if (index && /^[er]sp$/.test(index.reg.name)) {
    if (scale !== 1 || base?.reg === index.reg) throw new AsmFault(index.col, `'${index.reg.name}' cannot be an index register`);
    [base, index] = [index, base]; // [rax+rsp] is [rsp+rax]
  }
  const addr32 = regs[0]?.reg.size === 4;
  let disp = lin.value;
  if (addr32) {
    if (!fitsOperand(disp, 32)) throw new AsmFault(op.col, `displacement ${hex(disp)} does not fit in 32 bits`);
    disp = BigInt.asIntN(32, disp);
  } else if (!fitsSigned(disp, 32)) {
    throw new AsmFault(
      op.col,
      base || index
        ? `displacement ${hex(disp)} does not fit in a signed 32-bit field`
        : `address ${hex(disp)} is beyond a 32-bit absolute address; write [qword ${hex(disp)}] with al, ax, eax or rax`,
    );
  }
  let displSize: number;
  if (op.disp === 'byte') {
    if (!base || !fitsSigned(disp, 8)) throw new AsmFault(op.col, `displacement ${hex(lin.value)} does not fit in a byte`);
    displSize = 1;
  } else if (op.disp === 'dword' || !base) {
    displSize = addr32 ? 4 : 8;
  } else {
    displSize = disp === 0n ? 0 : 1;
  }
  return { base: base?.reg, index: index?.reg, scale, disp: BigInt.asUintN(64, disp), displSize };
}

/** Turns an iced encoder error into a message about the source. */
function icedMiss(e: unknown, insn: Insn, values: Value[], ops: Operand[], here: bigint): Miss {
  const text = e instanceof Error ? e.message : String(e);
  const rel = values.findIndex((v) => v.t === 'imm');
  if (/Branch distance is too far away/.test(text) && rel >= 0) {
    const target = (values[rel] as { lin: Linear }).lin.value;
    const message = `jump target ${hex(target)} is out of range of '${insn.mnemonic}' (${target - here} bytes away; short jumps reach -128..+127)`;
    return { rank: 1, message, col: ops[rel].col };
  }
  if (/RIP relative distance is too far away/.test(text)) return { rank: 1, message: 'RIP-relative address is more than 2 GiB away' };
  if (/AH, CH, DH, BH/.test(text)) return { rank: 1, message: "'ah', 'bh', 'ch' and 'dh' cannot be used in an instruction that needs a REX prefix" };
  return { rank: 1, message: `cannot encode '${insn.mnemonic}': ${text.replace(/ \(.*\)$/, '')}` };
}
