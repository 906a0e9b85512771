// From a parsed instruction to the forms that could encode it, by operand kinds and sizes alone
// (no symbol values yet), and NASM's rules for what remains ambiguous. When nothing fits, the
// error says which operand is wrong and what the instruction would take there.
import { AsmFault } from './fault';
import type { Form, FormTable, Slot } from './forms';
import type { Insn, Operand } from './parser';
import { resize, type RegInfo, type RegTable } from './registers';

export interface Candidate {
  form: Form;
  /**
   * Which operand fills each slot: [0, 1]; [1, 0] for a commutative form written the other way;
   * [0, 0, 1] for NASM's `imul eax, 5`, short for `imul eax, eax, 5`.
   */
  order: number[];
  /** NASM's `mov r64, imm` -> `mov r32, imm` when the value fits in 32 unsigned bits. */
  narrow?: RegInfo;
}

export interface SelectContext {
  forms: FormTable;
  aliases: Map<string, string>;
  registers: RegTable;
}

// Operand orders NASM tries for the two commutative forms, first wins a tie (XCHG ECX, EBX is
// 87 CB: NASM puts the first operand in ModRM.reg; TEST ECX, EBX is 85 D9: in ModRM.rm).
const COMMUTATIVE: Record<string, number[][]> = {
  xchg: [[1, 0], [0, 1]],
  test: [[0, 1], [1, 0]],
};

export function selectCandidates(insn: Insn, ctx: SelectContext): Candidate[] {
  const mnemonic = ctx.aliases.get(insn.mnemonic) ?? insn.mnemonic;
  let forms = ctx.forms.get(mnemonic);
  if (!forms) throw new AsmFault(insn.col, `unknown instruction '${insn.mnemonic}'`);
  forms = checkPrefixes(insn, forms);
  const ops = insn.operands;
  let orders = [ops.map((_, i) => i)];
  if (ops.length === 2 && COMMUTATIVE[mnemonic]) orders = COMMUTATIVE[mnemonic];
  if (mnemonic === 'imul' && ops.length === 2 && ops[1].t === 'imm') orders = [[0, 0, 1]];
  let found: Candidate[] = [];
  for (const order of orders) {
    for (const form of forms) {
      if (form.slots.length === order.length && form.slots.every((s, i) => accepts(s, ops[order[i]]))) {
        found.push({ form, order });
      }
    }
  }
  if (!found.length) throw diagnose(insn, mnemonic, forms);
  // XCHG EAX, EAX must not take the one-byte 90+r form: 90 is NOP, which leaves RAX's upper half alone.
  found = found.filter(
    (c) => !(c.form.mnemonic === 'xchg' && c.form.opSize === 32 && c.form.slots[1]?.t === 'fixed' && sameReg(ops[c.order[0]], ops[c.order[1]])),
  );
  found = defaultOperandSize(ops, found);
  found = resolveMemorySize(ops, found);
  return [...narrowMov(mnemonic, ops, ctx), ...found];
}

function sameReg(a: Operand, b: Operand): boolean {
  return a.t === 'reg' && b.t === 'reg' && a.reg.reg === b.reg.reg;
}

function checkPrefixes(insn: Insn, forms: Form[]): Form[] {
  let kept = forms;
  if (insn.osize) {
    kept = kept.filter((f) => f.opSize === insn.osize);
    if (!kept.length) throw new AsmFault(insn.col, `'o${insn.osize}' does not apply to '${insn.mnemonic}'`);
  }
  if (insn.lock) {
    kept = kept.filter((f) => f.canLock);
    if (!kept.length) throw new AsmFault(insn.col, `'lock' cannot be used with '${insn.mnemonic}'`);
    if (!insn.operands.some((o) => o.t === 'mem')) throw new AsmFault(insn.col, "'lock' needs a memory operand");
  }
  if (insn.rep) {
    kept = kept.filter((f) => (insn.rep === 'repne' ? f.canRepne : f.canRep));
    if (!kept.length) throw new AsmFault(insn.col, `'${insn.rep}' cannot be used with '${insn.mnemonic}'`);
  }
  if (insn.seg && !kept.some((f) => f.string?.segment) && !insn.operands.some((o) => o.t === 'mem')) {
    const why = kept.some((f) => f.string) ? 'its memory operand is ES:RDI, which cannot be overridden' : 'it needs a memory operand';
    throw new AsmFault(insn.col, `segment prefix '${insn.seg.name}' does not apply to '${insn.mnemonic}': ${why}`);
  }
  return kept;
}

function memSizeOk(op: Operand & { t: 'mem' }, size: number): boolean {
  return op.disp !== 'qword' && (op.size === undefined || size === 0 || op.size === size);
}

/** Does `slot` take operand `op`? */
function accepts(slot: Slot, op: Operand): boolean {
  switch (slot.t) {
    case 'reg':
      return op.t === 'reg' && op.reg.cls === 'gpr' && op.reg.size === slot.size;
    case 'rm':
      return op.t === 'reg' ? op.reg.cls === 'gpr' && op.reg.size === slot.size : op.t === 'mem' && memSizeOk(op, slot.size);
    case 'regOrMem16':
      // A source r32/m16 reads only 16 bits, so NASM accepts AX there (MOV SS, AX is 8E D0).
      if (op.t === 'reg') return op.reg.cls === 'gpr' && (op.reg.size === slot.size || (slot.read && op.reg.size === 2));
      return op.t === 'mem' && memSizeOk(op, 2);
    case 'mem':
      return op.t === 'mem' && memSizeOk(op, slot.size);
    case 'moffs':
      return op.t === 'mem' && op.disp === 'qword' && (op.size === undefined || op.size === slot.size);
    case 'imm':
      if (op.t !== 'imm' || op.jump) return false;
      if (op.size === undefined) return true;
      return op.size * 8 === slot.width || (!op.strict && op.size * 8 === slot.ext);
    case 'one':
      return op.t === 'imm' && !op.jump && !op.strict;
    case 'rel':
      return op.t === 'imm' && op.size === undefined && (op.jump === undefined || (op.jump === 'short') === (slot.width === 8));
    case 'fixed':
      return op.t === 'reg' && op.reg.reg === slot.reg;
    default:
      return op.t === 'reg' && op.reg.cls === slot.t;
  }
}

function hasSize(op: Operand): boolean {
  return op.t === 'reg' ? op.reg.cls === 'gpr' : op.size !== undefined;
}

/** With nothing to say otherwise (`push 5`, `ret`, `push fs`), the operand size is the mode's default, never 16. */
function defaultOperandSize(ops: Operand[], found: Candidate[]): Candidate[] {
  if (ops.some(hasSize)) return found;
  const kept = found.filter((c) => c.form.opSize !== 16);
  return kept.length ? kept : found;
}

function memSlotSize(slot: Slot): number {
  return slot.t === 'regOrMem16' ? 2 : 'size' in slot ? slot.size : 0;
}

/** An unsized memory operand must be sized by the other operands, or by the instruction's 64-bit default. */
function resolveMemorySize(ops: Operand[], found: Candidate[]): Candidate[] {
  for (const [i, op] of ops.entries()) {
    if (op.t !== 'mem' || op.size !== undefined) continue;
    const sizeOf = (c: Candidate) => memSlotSize(c.form.slots[c.order.indexOf(i)]);
    if (new Set(found.map(sizeOf)).size <= 1) continue;
    // CALL [rbx], JMP [rbx], PUSH [rbx]: 64-bit by default in 64-bit mode.
    const qword = found.filter((c) => c.form.defaultOpSize64 && sizeOf(c) === 8);
    if (qword.length) {
      found = qword;
      continue;
    }
    throw new AsmFault(op.col, `operation size not specified: write byte, word, dword or qword before '${op.text}'`);
  }
  return found;
}

function narrowMov(mnemonic: string, ops: Operand[], ctx: SelectContext): Candidate[] {
  const [dst, src] = ops;
  if (mnemonic !== 'mov' || ops.length !== 2 || dst.t !== 'reg' || dst.reg.cls !== 'gpr' || dst.reg.size !== 8) return [];
  if (src.t !== 'imm' || src.strict || (src.size ?? 8) !== 8 || src.jump) return [];
  const form = ctx.forms.get('mov')!.find((f) => f.slots[0].t === 'reg' && f.slots[0].size === 4 && f.slots[1]?.t === 'imm');
  return form ? [{ form, order: [0, 1], narrow: resize(ctx.registers, dst.reg, 4) }] : [];
}

// ---- diagnostics ----

type Category = string;

function slotCategories(slot: Slot): Category[] {
  switch (slot.t) {
    case 'reg':
      return ['register'];
    case 'rm':
    case 'regOrMem16':
      return ['register', 'memory'];
    case 'mem':
    case 'moffs':
      return ['memory'];
    case 'imm':
    case 'one':
      return ['immediate'];
    case 'rel':
      return ['target'];
    case 'fixed':
      return [`'${slot.name}'`];
    default:
      return [slot.t];
  }
}

function opCategories(op: Operand): Category[] {
  if (op.t === 'mem') return ['memory'];
  if (op.t === 'imm') return ['immediate', 'target'];
  return [op.reg.cls === 'gpr' ? 'register' : op.reg.cls, `'${op.reg.name}'`];
}

const CATEGORY_WORDS: Record<string, string> = {
  register: 'a register',
  memory: 'a memory operand',
  immediate: 'an immediate',
  target: 'a jump target',
  sreg: 'a segment register',
  cr: 'a control register',
  dr: 'a debug register',
};

function describeCategories(cats: Set<Category>): string {
  const order = ['register', 'memory', 'immediate', 'target', 'sreg', 'cr', 'dr'];
  const fixed = [...cats].filter((c) => c.startsWith("'"));
  const words = [...fixed, ...order.filter((c) => cats.has(c)).map((c) => CATEGORY_WORDS[c])];
  if (cats.has('register') && cats.has('memory')) {
    words.splice(words.indexOf('a register'), 2, 'a register or memory operand');
  }
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}` : words[0];
}

function describeOperand(op: Operand): string {
  if (op.t === 'reg') return op.reg.cls === 'gpr' ? `${op.reg.size * 8}-bit register` : `register '${op.reg.name}'`;
  if (op.t === 'mem') return op.size ? `${op.size * 8}-bit memory` : 'memory';
  return op.size ? `${op.size * 8}-bit immediate` : 'immediate';
}

function formSignature(form: Form): string {
  const slot = (s: Slot): string => {
    switch (s.t) {
      case 'reg':
        return `r${s.size * 8}`;
      case 'rm':
        return `r/m${s.size * 8}`;
      case 'regOrMem16':
        return `r${s.size * 8}/m16`;
      case 'mem':
        return s.size ? `m${s.size * 8}` : 'm';
      case 'moffs':
        return `moffs${s.size * 8}`;
      case 'imm':
        return `imm${s.width}`;
      case 'rel':
        return `rel${s.width}`;
      case 'fixed':
        return s.name;
      case 'one':
        return '1';
      default:
        return s.t;
    }
  };
  return [form.mnemonic, form.slots.map(slot).join(', ')].filter(Boolean).join(' ');
}

function diagnose(insn: Insn, mnemonic: string, forms: Form[]): AsmFault {
  const ops = insn.operands;
  const counts = [...new Set(forms.map((f) => f.slots.length))].sort();
  let alive = forms.filter((f) => f.slots.length === ops.length);
  if (!alive.length) {
    if (counts.length === 1 && counts[0] === 0) return new AsmFault(ops[0].col, `'${insn.mnemonic}' takes no operands`);
    const n = counts.length > 1 ? `${counts.slice(0, -1).join(', ')} or ${counts[counts.length - 1]}` : `${counts[0]}`;
    return new AsmFault(insn.col, `'${insn.mnemonic}' takes ${n} operand${n === '1' ? '' : 's'}, got ${ops.length}`);
  }
  for (const [i, op] of ops.entries()) {
    const next = alive.filter((f) => slotCategories(f.slots[i]).some((c) => opCategories(op).includes(c)));
    if (!next.length) {
      const expected = describeCategories(new Set(alive.flatMap((f) => slotCategories(f.slots[i]))));
      return new AsmFault(op.col, `expected ${expected} after '${i === 0 ? insn.mnemonic : ','}', got '${op.text}'`);
    }
    alive = next;
  }
  const sized = ops.filter((o) => o.t !== 'imm' && hasSize(o));
  const sizeOf = (o: Operand) => (o.t === 'reg' ? o.reg.size : o.t === 'mem' ? o.size! : 0);
  const differ = sized.find((o) => sizeOf(o) !== sizeOf(sized[0]));
  const sameSizeForms = alive.some((f) => new Set(f.slots.map((s) => ('size' in s ? s.size : 0)).filter(Boolean)).size === 1);
  if (differ && sameSizeForms) {
    return new AsmFault(differ.col, `operand size mismatch: '${sized[0].text}' is ${sizeOf(sized[0]) * 8}-bit, '${differ.text}' is ${sizeOf(differ) * 8}-bit`);
  }
  const list = alive.slice(0, 8).map(formSignature).join('; ');
  return new AsmFault(insn.col, `no form of '${mnemonic}' takes ${ops.map(describeOperand).join(', ')}; it takes: ${list}${alive.length > 8 ? '; ...' : ''}`);
}
