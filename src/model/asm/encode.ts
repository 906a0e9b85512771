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
import { resize, type RegTable } from './registers';
import type { Candidate } from './select';

export interface EncodeContext {
  iced: Iced;
  encoder: Encoder;
  registers: RegTable;
}

type Value =
  | { t: 'reg'; reg: Register }
  | { t: 'mem'; op: Operand & { t: 'mem' }; lin: Linear }
  | { t: 'imm'; lin: Linear };

/** Why a candidate was passed over; the most telling reason becomes the error when none fits. */
interface Miss {
  rank: number;
  message: string;
}

/**
 * The bytes of `insn` at `env.here`, or an AsmFault. `floor`, when given, asks for an encoding at
 * least that long if one exists: after some passes, instructions stop shrinking so the layout settles.
 */
export function encodeInsn(insn: Insn, candidates: Candidate[], env: EvalEnv, ctx: EncodeContext, floor = 0): Uint8Array {
  const values = insn.operands.map((op) => evaluateOperand(op, env));
  let best: Uint8Array | undefined;
  let miss: Miss = { rank: -1, message: '' };
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
      bytes = encodeOne(cand, slotValues, slotOps, insn, env.here, ctx);
    } catch (e) {
      const why = icedMiss(e, insn, slotOps, slotValues, env.here);
      if (why.rank > miss.rank) miss = why;
      continue;
    }
    if (!best || better(bytes.length, best.length, floor)) best = bytes;
  }
  if (!best) throw new AsmFault(insn.col, miss.message);
  return best;
}

function better(len: number, bestLen: number, floor: number): boolean {
  if ((len >= floor) !== (bestLen >= floor)) return len >= floor;
  return len < bestLen;
}

function evaluateOperand(op: Operand, env: EvalEnv): Value {
  if (op.t === 'reg') return { t: 'reg', reg: op.reg.reg };
  if (op.t === 'mem') return { t: 'mem', op, lin: evaluate(op.expr, env) };
  return { t: 'imm', lin: evaluateNumber(op.expr, env) };
}

function fitsSigned(v: bigint, bits: number): boolean {
  return BigInt.asIntN(bits, v) === v;
}

function checkValues(cand: Candidate, values: Value[], ops: Operand[], all: Candidate[]): Miss | undefined {
  for (const [i, slot] of cand.form.slots.entries()) {
    const v = values[i];
    if (v.t !== 'imm') continue;
    const { value, reloc } = v.lin;
    if (slot.t === 'one' && value !== 1n) return { rank: 0, message: '' };
    if (slot.t === 'imm') {
      if (!fitsOperand(value, slot.ext)) return { rank: 3, message: `immediate ${hex(value)} does not fit in ${slot.ext} bits` };
      if (BigInt.asIntN(slot.width, value) !== BigInt.asIntN(slot.ext, value)) {
        return { rank: 2, message: `immediate ${hex(value)} does not fit in ${slot.width} bits sign-extended to ${slot.ext}` };
      }
    }
    if (cand.narrow && (value < 0n || value >= 1n << 32n)) return { rank: 0, message: '' };
    // NASM keeps a jump to a plain number near; only label-relative targets are made short.
    const op = ops[i];
    if (slot.t === 'rel' && slot.width === 8 && op.t === 'imm' && !op.jump && reloc === 0 && all.some((c) => hasRel32(c.form.slots))) {
      return { rank: 0, message: '' };
    }
  }
  return undefined;
}

function hasRel32(slots: Slot[]): boolean {
  return slots.some((s) => s.t === 'rel' && s.width === 32);
}

function encodeOne(cand: Candidate, values: Value[], ops: Operand[], insn: Insn, here: bigint, ctx: EncodeContext): Uint8Array {
  const ins = build(cand, values, ops, insn, ctx);
  try {
    ins.hasLockPrefix = insn.lock;
    ctx.encoder.encode(ins, BigInt.asUintN(64, here));
    return ctx.encoder.takeBuffer();
  } finally {
    ins.free();
  }
}

function build(cand: Candidate, values: Value[], ops: Operand[], insn: Insn, ctx: EncodeContext): Instruction {
  const { Instruction, Register, RepPrefixKind } = ctx.iced;
  const { form } = cand;
  if (form.string) {
    const rep = insn.rep === 'repne' ? RepPrefixKind.Repne : insn.rep ? RepPrefixKind.Repe : RepPrefixKind.None;
    return form.string(64, insn.seg?.reg ?? Register.None, rep);
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
      args.push(registerFor(slot, ops[i], cand, ctx));
    } else if (v.t === 'mem') {
      signature += 'Mem';
      args.push(memoryOperand(v, slot, insn, ctx));
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

function registerFor(slot: Slot, op: Operand, cand: Candidate, ctx: EncodeContext): Register {
  if (op.t !== 'reg') throw new Error('unreachable: register slot without a register');
  if (cand.narrow && slot.t === 'reg') return cand.narrow.reg;
  // MOV Sreg, AX is encoded as MOV Sreg, EAX (the same bytes NASM emits).
  if (slot.t === 'regOrMem16' && op.reg.size !== slot.size) return resize(ctx.registers, op.reg, slot.size)!.reg;
  return op.reg.reg;
}

const SCALES = [1n, 2n, 4n, 8n];

/** NASM's reading of `[...]`: base + index*scale + displacement, splitting `[rbx*2]` into `[rbx+rbx]`. */
function memoryOperand(v: Value & { t: 'mem' }, slot: Slot, insn: Insn, ctx: EncodeContext): MemoryOperand {
  const { MemoryOperand, Register } = ctx.iced;
  const { op, lin } = v;
  const seg = (op.seg ?? insn.seg)?.reg ?? Register.None;
  if (slot.t === 'moffs') return new MemoryOperand(Register.None, Register.None, 1, BigInt.asUintN(64, lin.value), 8, false, seg);
  if (op.rel) return new MemoryOperand(Register.RIP, Register.None, 1, BigInt.asUintN(64, lin.value), 8, false, seg);
  const terms = new Map<number, { reg: (typeof lin.regs)[number]['reg']; k: bigint; col: number }>();
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
  const scaled = regs.filter((r) => r.k !== 1n);
  let base = regs.find((r) => r.k === 1n);
  let index = regs.find((r) => r !== base);
  let scale = index ? Number(index.k) : 1;
  if (scaled.length > 1) throw new AsmFault(op.col, 'only one register of an address can be scaled');
  if (index && !SCALES.includes(index.k)) {
    if (!base && [3n, 5n, 9n].includes(index.k)) {
      base = index; // [rbx*5] is [rbx + rbx*4]
      scale = Number(index.k) - 1;
    } else {
      throw new AsmFault(index.col, `scale ${index.k} is not 1, 2, 4 or 8`);
    }
  }
  if (index && !base && scale === 2) {
    base = index; // NASM's split: [rbx*2] is [rbx + rbx], which needs no 32-bit displacement
    scale = 1;
  }
  if (index && /^[er]sp$/.test(index.reg.name)) {
    if (scale !== 1 || base?.reg.name === index.reg.name) throw new AsmFault(index.col, `'${index.reg.name}' cannot be an index register`);
    [base, index] = [index, base]; // [rax + rsp] is [rsp + rax]
  }
  const addr32 = regs[0]?.reg.size === 4;
  let disp = lin.value;
  if (addr32) {
    if (!fitsOperand(disp, 32)) throw new AsmFault(op.col, `displacement ${hex(disp)} does not fit in 32 bits`);
    disp = BigInt.asUintN(32, disp);
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
    if (!base || !fitsSigned(BigInt.asIntN(addr32 ? 32 : 64, disp), 8)) throw new AsmFault(op.col, `displacement ${hex(lin.value)} does not fit in a byte`);
    displSize = 1;
  } else if (op.disp === 'dword' || !base) {
    displSize = addr32 ? 4 : 8; // iced: the full-width displacement
  } else {
    displSize = disp === 0n ? 0 : 1; // iced picks disp8 or disp32 by value
  }
  return new MemoryOperand(base?.reg.reg ?? Register.None, index?.reg.reg ?? Register.None, scale, BigInt.asUintN(64, disp), displSize, false, seg);
}

/** Turns an iced encoder error into a message about the source. */
function icedMiss(e: unknown, insn: Insn, ops: Operand[], values: Value[], here: bigint): Miss {
  const text = e instanceof Error ? e.message : String(e);
  const rel = ops.findIndex((o, i) => o.t === 'imm' && values[i].t === 'imm');
  if (/Branch distance is too far away/.test(text) && rel >= 0) {
    const target = (values[rel] as { lin: Linear }).lin.value;
    return { rank: 1, message: `jump target ${hex(target)} is out of range of '${insn.mnemonic}' (${target - here} bytes away; short jumps reach -128..+127)` };
  }
  if (/RIP relative distance is too far away/.test(text)) return { rank: 1, message: 'RIP-relative address is more than 2 GiB away' };
  if (/AH, CH, DH, BH/.test(text)) return { rank: 1, message: "'ah', 'bh', 'ch' and 'dh' cannot be used in an instruction that needs a REX prefix" };
  return { rank: 1, message: `cannot encode '${insn.mnemonic}': ${text.replace(/ \(.*\)$/, '')}` };
}
