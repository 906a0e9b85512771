// fast-check generators of test programs, one per instruction class. Instructions are iced-x86
// Codes with operands chosen per slot (forms.ts); the memory operands they touch are MemRefs into
// the scratch buffer or the stack, resolved per program (program.ts). The block classes know a
// little more: what a DIV needs to not always fault, where RSI/RDI/RCX must point, how a loop
// counts down, how far a program may push.
import fc from 'fast-check';
import { Code, Mnemonic as M, Register, RepPrefixKind } from 'iced-x86';
import { assemble, disassemble, STRING_CODES } from './assemble';
import { AF, CF, DF, OF, PF, SF, ZF } from './flags';
import { formFor, formsOf, type Form, type Slot } from './forms';
import { CODE_GPA, MAX_STACK_DEPTH, SCRATCH_MID, STACK_TOP } from './layout';
import { offStack, type Env, type Insn, type Item, type Mem, type MemRef, type Operand, type Program } from './program';
import { GPR, HIGH8, RBP, RBX, RCX, RDI, RDX, RSI, RSP } from './registers';

const U64_MAX = 2n ** 64n - 1n;

/** 0, 1, powers of two and their neighbours at every width boundary, and their negatives. */
const EDGES: bigint[] = [0n, 1n, 2n, U64_MAX, ...[7, 8, 15, 16, 31, 32, 63].flatMap((k) => [2n ** BigInt(k), 2n ** BigInt(k) - 1n, 2n ** 64n - 2n ** BigInt(k)])];

export const u64Arb = fc.oneof(
  { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: U64_MAX }) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 300n }) },
  { weight: 2, arbitrary: fc.constantFrom(...EDGES) },
  { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 300n }).map((v) => 2n ** 64n - v) },
);

function immArb(min: bigint, max: bigint): fc.Arbitrary<bigint> {
  if (min === max) return fc.constant(min);
  const edges = [min, max, 0n, 1n, -1n, min + 1n, max - 1n, 7n, 8n, 15n, 16n, 31n, 32n, 63n, 64n, 0x7fn, 0x80n]
    .filter((v) => v >= min && v <= max);
  // Small values first: shift counts and bit offsets live there.
  const small = fc.bigInt({ min: min > 0n ? min : 0n, max: max < 70n ? max : 70n });
  return fc.oneof({ weight: 3, arbitrary: fc.bigInt({ min, max }) }, { weight: 2, arbitrary: small }, { weight: 2, arbitrary: fc.constantFrom(...edges) });
}

const regArb = (width: 8 | 16 | 32 | 64) => fc.constantFrom(...GPR[width], ...(width === 8 ? HIGH8 : []));

const scaleArb = fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 8);

/** An access ±128 bytes around the scratch buffer's middle, or around RSP, by any addressing form. */
const memRefArb: fc.Arbitrary<MemRef> = fc.record({
  mode: fc.constantFrom<MemRef['mode'][]>('base', 'base+index', 'base32', 'base32+index32', 'abs', 'abs32', 'rip', 'eip', 'rsp', 'rsp+index'),
  target: fc.integer({ min: -120, max: 112 }),
  scale: scaleArb,
  wide: fc.boolean(),
});

/** LEA's operand: any registers, any displacement, 64- or 32-bit addressing; never accessed. */
const addrArb: fc.Arbitrary<Mem> = fc
  .record({
    base: fc.constantFrom(Register.None, Register.RIP, ...GPR[64]),
    index: fc.constantFrom(Register.None, ...GPR[64].filter((_, n) => n !== RSP)),
    scale: scaleArb,
    disp: fc.oneof(fc.integer({ min: -128, max: 127 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
    wide: fc.boolean(),
    addr32: fc.boolean(),
  })
  .map(({ base, index, scale, disp, wide, addr32 }) => {
    if (base === Register.RIP) {
      index = Register.None; // RIP-relative takes no index, and its displacement is a target near the code
      disp = CODE_GPA + (disp % 2 ** 20);
    }
    if (index === Register.None) scale = 1;
    const to32 = (r: Register) => (r === Register.None ? r : r === Register.RIP ? Register.EIP : GPR[32][GPR[64].indexOf(r)]);
    const noBase = base === Register.None || base === Register.RIP;
    const dispSize = (noBase ? (addr32 ? 4 : 8) : wide ? (addr32 ? 4 : 8) : disp === 0 ? 0 : 1) as Mem['dispSize'];
    return addr32
      ? { base: to32(base), index: to32(index), scale, disp: BigInt(disp), dispSize }
      : { base, index, scale, disp: BigInt(disp), dispSize };
  });

function slotArb(slot: Slot): fc.Arbitrary<Operand> {
  switch (slot.kind) {
    case 'reg': return regArb(slot.width).map((reg) => ({ reg }));
    case 'rm': return fc.oneof({ weight: 3, arbitrary: regArb(slot.width).map((reg) => ({ reg })) }, { weight: 2, arbitrary: memRefArb.map((ref) => ({ ref })) });
    case 'addr': return addrArb.map((mem) => ({ mem }));
    case 'fixed': return fc.constant({ reg: slot.reg });
    case 'imm': return immArb(slot.min, slot.max).map((imm) => ({ imm }));
  }
}

/** An instruction of one form; a lockable form with a memory destination takes LOCK half the time. */
function insnArb(form: Form): fc.Arbitrary<Insn> {
  const ops = fc.tuple(...form.slots.map(slotArb));
  if (!form.canLock) return ops.map((o) => ({ code: form.code, ops: o }));
  return fc.tuple(ops, fc.boolean()).map(([o, lock]) => (lock && 'ref' in o[0] ? { code: form.code, ops: o, lock } : { code: form.code, ops: o }));
}

/**
 * 0F 0D's reserved-NOP forms are no instruction here: with a register operand this CPU raises #UD
 * (FINDINGS F4), with memory they are PREFETCH/PREFETCHW.
 */
const UNRUNNABLE = /^Reservednop_\w+_0F0D$/;

/** The Code iced decodes an instruction's encoding as (a memory reference stands in as [rax]). */
function decodedCode(insn: Insn): Code {
  const ops = insn.ops.map((o): Operand => ('ref' in o ? { mem: { base: Register.RAX, index: Register.None, scale: 1, disp: 0n, dispSize: 0 } } : o));
  const [line] = disassemble(assemble([plain({ ...insn, ops })], 0).bytes, 0);
  return line.code;
}

/**
 * Any form of these mnemonics, each form equally likely. A reserved NOP is its opcode's fallback: the
 * operands that make it a named hint (0F 18 /0 with memory is PREFETCHNTA) are left to that hint.
 */
const insnOf = (mnemonics: readonly M[]) =>
  fc.oneof(
    ...formsOf(mnemonics)
      .filter((f) => !UNRUNNABLE.test(Code[f.code]))
      .map((f) => (f.mnemonic === M.Reservednop ? insnArb(f).filter((insn) => decodedCode(insn) === f.code) : insnArb(f))),
  );

const plain = (...insns: Insn[]): Item => ({ kind: 'plain', insns });
const op = (code: Code, ...ops: Operand[]): Insn => ({ code, ops });
const reg = (r: Register): Operand => ({ reg: r });
const imm = (v: bigint | number): Operand => ({ imm: BigInt(v) });

const CONDITIONS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const mnemonics = (prefix: string) => CONDITIONS.map((cc) => M[(prefix + cc) as keyof typeof M]);
const codes = (names: string[]) =>
  names.map((n) => {
    const c = Code[n as keyof typeof Code];
    if (c === undefined) throw new Error(`iced-x86 has no Code ${n}`);
    return c;
  });

/** Classes made of single instructions: their mnemonics. */
const SINGLE = {
  alu: [M.Add, M.Adc, M.Sub, M.Sbb, M.And, M.Or, M.Xor, M.Cmp, M.Test, M.Mov],
  shift: [M.Shl, M.Sal, M.Shr, M.Sar],
  rotate: [M.Rol, M.Ror, M.Rcl, M.Rcr],
  mul: [M.Mul, M.Imul],
  lea: [M.Lea],
  setcc: mnemonics('Set'),
  cmovcc: mnemonics('Cmov'),
  bittest: [M.Bt, M.Bts, M.Btr, M.Btc],
  bitscan: [M.Bsf, M.Bsr],
  bswap: [M.Bswap],
  unary: [M.Inc, M.Dec, M.Neg, M.Not],
  extend: [M.Movzx, M.Movsx, M.Movsxd],
  xchg: [M.Xchg],
  atomic: [M.Xadd, M.Cmpxchg],
  stack: [M.Push, M.Pop],
  flagops: [M.Clc, M.Stc, M.Cmc, M.Cld, M.Std, M.Lahf, M.Sahf],
  convert: [M.Cbw, M.Cwde, M.Cdqe, M.Cwd, M.Cdq, M.Cqo],
  // The hint space (0F 0D, 0F 18-1F): NOPs on this CPU, their memory operands anywhere (never accessed).
  hint: [
    M.Nop, M.Reservednop, M.Prefetch, M.Prefetchw, M.Prefetchwt1, M.Prefetchnta, M.Prefetcht0, M.Prefetcht1, M.Prefetcht2,
    M.Prefetchit0, M.Prefetchit1, M.Cldemote, M.Endbr64, M.Endbr32, M.Rdsspd, M.Rdsspq,
  ],
} satisfies Record<string, M[]>;

type SingleClass = keyof typeof SINGLE;
export type ClassName = SingleClass | 'div' | 'pushf' | 'jcc' | 'loop' | 'call' | 'string' | 'smc';

export const CLASS_NAMES: readonly ClassName[] = [...(Object.keys(SINGLE) as SingleClass[]), 'div', 'pushf', 'jcc', 'loop', 'call', 'string', 'smc'];

/** Single-instruction classes that may sit inside a loop body or between PUSHF and POPF (no stack, no branch). */
const STRAIGHT: readonly SingleClass[] = ['alu', 'shift', 'rotate', 'mul', 'lea', 'setcc', 'cmovcc', 'bittest', 'bitscan', 'bswap', 'unary', 'extend', 'xchg', 'atomic', 'flagops', 'convert', 'hint'];

/** DIV/IDIV, often after the set-up that makes the quotient fit (otherwise most raise #DE). */
function divItem(): fc.Arbitrary<Item> {
  return fc.tuple(insnOf([M.Div, M.Idiv]), fc.constantFrom('none', 'zero', 'extend')).map(([insn, pre]) => {
    const size = formFor(insn.code)!.operandSize || 8;
    if (pre === 'none') return plain(insn);
    if (pre === 'zero') return plain(size === 8 ? op(Code.Xor_rm8_r8, reg(Register.AH), reg(Register.AH)) : op(Code.Xor_rm32_r32, reg(GPR[32][RDX]), reg(GPR[32][RDX])), insn);
    const extend = { 8: Code.Cbw, 16: Code.Cwd, 32: Code.Cdq, 64: Code.Cqo }[size]!;
    return plain(op(extend), insn);
  });
}

const FLAG_BITS = [CF, PF, AF, ZF, SF, OF, DF];
/** RFLAGS with IF and bit 1 set (as in user mode) and any arithmetic flags and DF. */
export const rflagsArb = fc.integer({ min: 0, max: 2 ** FLAG_BITS.length - 1 }).map((bits) => BigInt(FLAG_BITS.reduce((f, b, i) => (bits & (1 << i) ? f | b : f), 0x202)));

/** PUSHF/POPF: round trips (around straight code), a POPF of chosen flags, and a PUSHF read into a register. */
function pushfItem(straight: fc.Arbitrary<Insn> | null): fc.Arbitrary<Item> {
  const choices: fc.Arbitrary<Item>[] = [
    fc.constant(plain(op(Code.Pushfq), op(Code.Popfq))),
    fc.constant(plain(op(Code.Pushfw), op(Code.Popfw))),
    rflagsArb.map((f) => plain(op(Code.Pushq_imm32, imm(f)), op(Code.Popfq))),
    regArb(64).map((r) => plain(op(Code.Pushfq), op(Code.Pop_r64, reg(r)))),
  ];
  // The straight code stays off the stack: a store over the saved flags would have POPF load any
  // flags, and IF, TF and AC do not load alike in the harness (CPL 3) and the core (CPL 0).
  if (straight) choices.push(straight.map((insn) => plain(op(Code.Pushfq), offStack(insn), op(Code.Popfq))));
  return fc.oneof(...choices);
}

const JCC = codes([...CONDITIONS.flatMap((cc) => [`J${cc}_rel8_64`, `J${cc}_rel32_64`]), 'Jmp_rel8_64', 'Jmp_rel32_64']);
const LOOPS = codes(['Loop_rel8_64_RCX', 'Loop_rel8_64_ECX', 'Loope_rel8_64_RCX', 'Loope_rel8_64_ECX', 'Loopne_rel8_64_RCX', 'Loopne_rel8_64_ECX']);
const JRCXZ = codes(['Jrcxz_rel8_64', 'Jecxz_rel8_64']);

const skipArb = fc.integer({ min: 0, max: 4 });

/** A forward Jcc/JMP, alone or right after an instruction that sets the flags it tests. */
function jccItem(): fc.Arbitrary<Item> {
  const lead = insnOf([M.Cmp, M.Test, M.Sub, M.Add, M.And, M.Or, M.Xor, M.Inc, M.Dec, M.Neg, M.Bt]);
  return fc.record({ code: fc.constantFrom(...JCC), skip: skipArb, lead: fc.option(lead, { nil: undefined }) })
    .map(({ lead, ...b }): Item => (lead ? { kind: 'branch', ...b, lead: [lead] } : { kind: 'branch', ...b }));
}

/** How a Jcc-closed loop counts RCX down, and the conditions that end it once RCX reaches 0 (or -1). */
const COUNTDOWNS: { close: Insn; conditions: Code[] }[] = [
  { close: op(Code.Dec_rm32, reg(GPR[32][RCX])), conditions: codes(['Jne_rel8_64', 'Jne_rel32_64', 'Jg_rel8_64', 'Jns_rel8_64']) },
  { close: op(Code.Dec_rm64, reg(GPR[64][RCX])), conditions: codes(['Jne_rel8_64', 'Jg_rel32_64']) },
  { close: op(Code.Sub_rm32_imm8, reg(GPR[32][RCX]), imm(1)), conditions: codes(['Jne_rel8_64', 'Ja_rel8_64', 'Jg_rel8_64', 'Jae_rel8_64']) },
  { close: op(Code.Add_rm64_imm8, reg(GPR[64][RCX]), imm(-1)), conditions: codes(['Jne_rel8_64', 'Jb_rel8_64']) },
];

/** A counted loop around straight code (LOOPcc, or a countdown and a Jcc), or a JRCXZ/JECXZ forward. */
function loopItem(straight: fc.Arbitrary<Insn> | null): fc.Arbitrary<Item> {
  const jrcxz = fc.record({ code: fc.constantFrom(...JRCXZ), skip: skipArb }).map((b): Item => ({ kind: 'branch', ...b }));
  if (!straight) return jrcxz;
  const closing = fc.oneof(
    fc.constantFrom(...LOOPS).map((code) => ({ code, close: undefined })),
    fc.constantFrom(...COUNTDOWNS).chain((c) => fc.constantFrom(...c.conditions).map((code) => ({ code, close: [c.close] }))),
  );
  const loop = fc
    .record({ closing, count: fc.integer({ min: 1, max: 4 }), body: fc.array(straight, { minLength: 1, maxLength: 3 }) })
    .map(({ closing, count, body }): Item => ({ kind: 'loop', code: closing.code, count, body, ...(closing.close ? { close: closing.close } : {}) }));
  return fc.oneof(loop, jrcxz);
}

const REP_CMP = new Set(codes(['Cmpsb_m8_m8', 'Cmpsw_m16_m16', 'Cmpsd_m32_m32', 'Cmpsq_m64_m64', 'Scasb_AL_m8', 'Scasw_AX_m16', 'Scasd_EAX_m32', 'Scasq_RAX_m64']));

/**
 * A string instruction with RSI, RDI and RCX set up first: up to 16 elements of up to 8 bytes either
 * way from ±120 bytes around the buffer's middle stay inside it whatever DF is. With 32-bit addressing,
 * RSI and RDI carry garbage above bit 31 that the instruction must ignore.
 */
function stringItem(): fc.Arbitrary<Item> {
  return fc
    .record({
      code: fc.constantFrom(...STRING_CODES),
      rep: fc.constantFrom(RepPrefixKind.None, RepPrefixKind.Repe, RepPrefixKind.Repne),
      addrSize: fc.constantFrom<(32 | 64)[]>(64, 32),
      src: fc.integer({ min: -120, max: 120 }),
      dst: fc.integer({ min: -120, max: 120 }),
      count: fc.integer({ min: 0, max: 16 }),
      high: fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }),
    })
    .map(({ code, rep, addrSize, src, dst, count, high }) => {
      const pointer = (r: number, at: number) =>
        addrSize === 32
          ? op(Code.Mov_r64_imm64, reg(GPR[64][r]), imm((high << 32n) | BigInt(SCRATCH_MID + at)))
          : op(Code.Mov_r32_imm32, reg(GPR[32][r]), imm(SCRATCH_MID + at));
      return plain(
        pointer(RSI, src),
        pointer(RDI, dst),
        op(Code.Mov_r32_imm32, reg(GPR[32][RCX]), imm(count)),
        { code, ops: [], addrSize, rep: rep === RepPrefixKind.Repne && !REP_CMP.has(code) ? RepPrefixKind.Repe : rep },
      );
    });
}

/**
 * Self-modifying code: a byte store (MOV, ADD, XOR, NOT) into the immediate of the very next
 * instruction, alone or inside a loop so each pass runs what the last one wrote.
 */
function smcItem(): fc.Arbitrary<Item> {
  const stores = [Code.Mov_rm8_imm8, Code.Add_rm8_imm8, Code.Xor_rm8_imm8, Code.Not_rm8];
  const targets = formsOf([M.Mov, M.Add, M.Sub, M.Xor, M.And, M.Or, M.Cmp, M.Adc, M.Imul, M.Test])
    .filter((f) => { const s = f.slots[f.slots.length - 1]; return s.kind === 'imm' && s.min !== s.max; });
  const pair = fc
    .record({ store: fc.constantFrom(...stores), value: fc.integer({ min: 0, max: 255 }), patch: fc.integer({ min: 0, max: 7 }), target: fc.oneof(...targets.map(insnArb)) })
    .map(({ store, value, patch, target }): Insn[] => [
      { code: store, ops: store === Code.Not_rm8 ? [{ patch }] : [{ patch }, imm(value)] },
      target,
    ]);
  return fc.oneof(
    pair.map((insns) => plain(...insns)),
    fc.record({ body: pair, count: fc.integer({ min: 2, max: 4 }) }).map(({ body, count }): Item => ({ kind: 'loop', code: LOOPS[0], count, body })),
  );
}

/** CALL (direct, or through RAX) of a subroutine of straight code that returns with RET or RET imm16. */
function callItem(straight: fc.Arbitrary<Insn> | null): fc.Arbitrary<Item> {
  return fc
    .record({
      body: straight ? fc.array(straight, { maxLength: 3 }) : fc.constant<Insn[]>([]),
      indirect: fc.boolean(),
      retImm: fc.option(fc.integer({ min: 0, max: 24 }), { nil: undefined }),
    })
    .map(({ retImm, ...c }): Item => (retImm === undefined ? { kind: 'call', ...c } : { kind: 'call', ...c, retImm }));
}

function itemArb(name: ClassName, enabled: readonly ClassName[]): fc.Arbitrary<Item> {
  const straightClasses = STRAIGHT.filter((c) => enabled.includes(c));
  const straight = straightClasses.length ? insnOf(straightClasses.flatMap((c) => SINGLE[c])) : null;
  switch (name) {
    case 'div': return divItem();
    case 'pushf': return pushfItem(straight);
    case 'jcc': return jccItem();
    case 'loop': return loopItem(straight);
    case 'call': return callItem(straight);
    case 'string': return stringItem();
    case 'smc': return smcItem();
    default: return insnOf(SINGLE[name]).map((insn) => plain(insn));
  }
}

/** Registers that may hold the scratch base or the index: none is written implicitly by any generated instruction. */
export const RESERVABLE = [RBX, RBP, 8, 9, 10, 11, 12, 13, 14, 15];

const envArb: fc.Arbitrary<Env> = fc
  .record({
    base: fc.constantFrom(...RESERVABLE),
    index: fc.constantFrom(...RESERVABLE),
    indexValue: fc.oneof(fc.integer({ min: -8, max: 7 }), fc.integer({ min: -800, max: 800 })),
    skew: fc.integer({ min: 0, max: 15 }),
  })
  .filter((e) => e.base !== e.index)
  .map(({ skew, ...e }) => ({ ...e, rsp: BigInt(STACK_TOP - skew) }));

const PUSHES = new Set([M.Push, M.Pushf, M.Pushfq]);
const POPS = new Set([M.Pop, M.Popf, M.Popfq]);

/** Bytes a program may push and pop at most; both must stay inside the compared stack window. */
function stackReach(items: readonly Item[]): { down: number; up: number } {
  let down = 0, up = 0;
  for (const it of items) {
    if (it.kind === 'call') {
      down += 8;
      up += it.retImm ?? 0;
    }
    if (it.kind !== 'plain') continue;
    for (const insn of it.insns) {
      const f = formFor(insn.code);
      if (!f) continue;
      const bytes = (f.operandSize || 64) / 8;
      if (PUSHES.has(f.mnemonic)) down += bytes;
      if (POPS.has(f.mnemonic)) up += bytes;
    }
  }
  return { down, up };
}

/** Programs of 1..maxItems items drawn from `classes`. */
export function programArb(classes: readonly ClassName[], maxItems = 12): fc.Arbitrary<Program> {
  if (!classes.length) throw new Error('programArb needs at least one class');
  const item = fc.oneof(...classes.map((c) => itemArb(c, classes)));
  return fc
    .record({
      env: envArb,
      gpr: fc.array(u64Arb, { minLength: 16, maxLength: 16 }),
      rflags: rflagsArb,
      memSeed: fc.integer(),
      items: fc.array(item, { minLength: 1, maxLength: maxItems }),
    })
    .filter((p) => {
      const { down, up } = stackReach(p.items);
      return down <= MAX_STACK_DEPTH && up <= MAX_STACK_DEPTH;
    });
}
