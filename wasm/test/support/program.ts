// A generated test program as plain data, so fast-check can shrink it and print it, and its
// resolution against the registers it reserves. Generators pick memory operands relative to the
// scratch buffer (MemRef); `resolve` turns them into addressing forms on the program's base and
// index registers, and moves any write to a reserved register onto a free one.
import { Mnemonic, Register, type Code, type RepPrefixKind } from 'iced-x86';
import { assemble, type Assembled } from './assemble';
import type { Case } from './case';
import { formFor } from './forms';
import { CODE_GPA, SCRATCH_GPA, SCRATCH_MID, SCRATCH_SIZE, STACK_REACH, STACK_TOP } from './layout';
import { GPR, HIGH8, RCX, RSP, gprNumber, needsRex } from './registers';

/** [base + index*scale + disp]. base RIP/EIP: disp is the absolute target. dispSize as iced's MemoryOperand. */
export interface Mem {
  base: Register;
  index: Register;
  scale: 1 | 2 | 4 | 8;
  disp: bigint;
  dispSize: 0 | 1 | 4 | 8;
}

/**
 * How a memory access reaches its target, an offset from SCRATCH_MID (from RSP in the `rsp` modes, so
 * the access lands in the stack window); resolved per program.
 */
export interface MemRef {
  mode: 'base' | 'base+index' | 'base32' | 'base32+index32' | 'abs' | 'abs32' | 'rip' | 'eip' | 'rsp' | 'rsp+index';
  target: number;
  scale: 1 | 2 | 4 | 8;
  /** Force a 32-bit displacement (otherwise the shortest). */
  wide: boolean;
}

/**
 * Self-modifying code: a RIP-relative byte in the immediate of the instruction that follows, at
 * `patch` modulo the immediate's size. The assembler places it once the next instruction is laid out.
 */
export interface Patch {
  patch: number;
}

export type Operand = { reg: Register } | { mem: Mem } | { ref: MemRef } | { imm: bigint } | Patch;

export interface Insn {
  code: Code;
  ops: Operand[];
  /** A LOCK prefix (only on forms that allow it, with a memory destination). */
  lock?: boolean;
  /** String instructions only: their prefix and address size (32 adds 0x67: ESI/EDI/ECX). */
  rep?: RepPrefixKind;
  addrSize?: 32 | 64;
}

export type Item =
  /** Straight-line code: one instruction, or a few that belong together (set-up, then the operation). */
  | { kind: 'plain'; insns: Insn[] }
  /**
   * A forward branch over the next `skip` items (past the last one: to the final HLT), after `lead`
   * (a CMP, DEC, … that sets the flags it tests, so a core that fuses the pair sees the pair).
   */
  | { kind: 'branch'; code: Code; skip: number; lead?: Insn[] }
  /**
   * mov ecx, count; L: body; close; `code` L. The body never writes RCX; `close` counts it down when
   * `code` is a Jcc (dec ecx; jnz L), and is empty for LOOP/LOOPE/LOOPNE.
   */
  | { kind: 'loop'; code: Code; count: number; body: Insn[]; close?: Insn[] }
  /**
   * A call of a subroutine laid out after the final HLT: its body, then RET (RET imm16 when retImm is
   * set). Direct (call rel32), or indirect through RAX (lea rax, [rip+sub]; call rax).
   */
  | { kind: 'call'; body: Insn[]; indirect: boolean; retImm?: number };

/** Registers the program keeps constant: memory operands are built on them. */
export interface Env {
  base: number; // register number; holds SCRATCH_MID
  index: number; // register number; holds indexValue
  indexValue: number; // small, signed
  rsp: bigint;
}

export interface Program {
  env: Env;
  gpr: bigint[]; // initial values; base, index and RSP are overridden from env
  rflags: bigint;
  memSeed: number; // initial scratch and stack bytes
  items: Item[];
}

const BIT_TESTS = new Set([Mnemonic.Bt, Mnemonic.Bts, Mnemonic.Btr, Mnemonic.Btc]);

/** The concrete items of a program: every MemRef an addressing form, every write off the reserved registers. */
export function resolve(p: Program): Item[] {
  const reserved = new Set([RSP, p.env.base, p.env.index]);
  const inLoop = new Set([...reserved, RCX]);
  return p.items.map((it) => {
    switch (it.kind) {
      case 'plain': return { ...it, insns: it.insns.map((i) => resolveInsn(i, p.env, reserved)) };
      case 'branch': return { ...it, lead: it.lead?.map((i) => resolveInsn(i, p.env, reserved)) };
      case 'loop': return { ...it, body: it.body.map((i) => resolveInsn(i, p.env, inLoop)), close: it.close?.map((i) => resolveInsn(i, p.env, reserved)) };
      // A subroutine's RSP-relative operands would reach its return address: they use the base instead.
      case 'call': return { ...it, body: it.body.map((i) => resolveInsn(offStack(i), p.env, reserved)) };
    }
  });
}

function resolveInsn(insn: Insn, env: Env, reserved: Set<number>): Insn {
  const form = formFor(insn.code);
  if (!form) return insn; // string instructions: implicit operands only
  let ops = insn.ops.map((o, k) => ('reg' in o && form.writes[k] && reserved.has(gprNumber(o.reg)) ? { reg: freeRegister(o.reg, reserved) } : o));
  // BT/BTS/BTR/BTC m, r: the bit offset register addresses memory too, so it is the (small) index register.
  if (BIT_TESTS.has(form.mnemonic) && 'ref' in ops[0] && ops[1] && 'reg' in ops[1]) {
    const width = form.operandSize as 16 | 32 | 64;
    const shift = Math.floor(env.indexValue / width) * (width / 8);
    ops = [{ ref: { ...ops[0].ref, target: ops[0].ref.target - shift } }, { reg: GPR[width][env.index] }];
  }
  ops = ops.map((o) => ('ref' in o ? { mem: memOf(o.ref, env) } : o));
  return { ...insn, ops: withoutHighBytesUnderRex(ops, form.rexW) };
}

/** The same instruction with its RSP-relative memory operands moved to the scratch base. */
export function offStack(insn: Insn): Insn {
  const off = (ref: MemRef): MemRef => (ref.mode === 'rsp' ? { ...ref, mode: 'base' } : ref.mode === 'rsp+index' ? { ...ref, mode: 'base+index' } : ref);
  return { ...insn, ops: insn.ops.map((o) => ('ref' in o ? { ref: off(o.ref) } : o)) };
}

/** The next register of the same width that is not reserved. */
function freeRegister(r: Register, reserved: Set<number>): Register {
  if (HIGH8.includes(r)) return HIGH8[[0, 1, 2, 3].find((n) => !reserved.has(n))!];
  const width = ([8, 16, 32, 64] as const).find((w) => GPR[w].includes(r))!;
  let n = gprNumber(r);
  do n = (n + 1) % 16;
  while (reserved.has(n));
  return GPR[width][n];
}

/** AH CH DH BH cannot be encoded with a REX prefix; then they become AL CL DL BL (same register). */
function withoutHighBytesUnderRex(ops: Operand[], rexW: boolean): Operand[] {
  const regs = ops.flatMap((o) => ('reg' in o ? [o.reg] : 'mem' in o ? [o.mem.base, o.mem.index] : []));
  if (!regs.some((r) => HIGH8.includes(r))) return ops;
  if (!rexW && !regs.some(needsRex)) return ops;
  return ops.map((o) => ('reg' in o && HIGH8.includes(o.reg) ? { reg: GPR[8][gprNumber(o.reg)] } : o));
}

function memOf(ref: MemRef, env: Env): Mem {
  const at = BigInt(SCRATCH_MID + ref.target);
  const target = BigInt(ref.target);
  const scaled = BigInt(env.indexValue * ref.scale);
  const short = (disp: bigint) => (ref.wide ? 8 : disp === 0n ? 0 : 1) as Mem['dispSize'];
  const short32 = (disp: bigint) => (ref.wide ? 4 : disp === 0n ? 0 : 1) as Mem['dispSize'];
  const none = Register.None;
  switch (ref.mode) {
    case 'base': return { base: GPR[64][env.base], index: none, scale: 1, disp: target, dispSize: short(target) };
    case 'base+index': return { base: GPR[64][env.base], index: GPR[64][env.index], scale: ref.scale, disp: target - scaled, dispSize: short(target - scaled) };
    case 'rsp': return { base: GPR[64][RSP], index: none, scale: 1, disp: target, dispSize: short(target) };
    case 'rsp+index': return { base: GPR[64][RSP], index: GPR[64][env.index], scale: ref.scale, disp: target - scaled, dispSize: short(target - scaled) };
    case 'base32': return { base: GPR[32][env.base], index: none, scale: 1, disp: target, dispSize: short32(target) };
    case 'base32+index32': return { base: GPR[32][env.base], index: GPR[32][env.index], scale: ref.scale, disp: target - scaled, dispSize: short32(target - scaled) };
    case 'abs': return { base: none, index: none, scale: 1, disp: at, dispSize: 8 };
    case 'abs32': return { base: none, index: none, scale: 1, disp: at, dispSize: 4 };
    case 'rip': return { base: Register.RIP, index: none, scale: 1, disp: at, dispSize: 8 };
    case 'eip': return { base: Register.EIP, index: none, scale: 1, disp: at, dispSize: 4 };
  }
}

/** xorshift32: initial memory from a seed, so a program prints as a few numbers. */
export function seededBytes(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 0 || 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const STACK_REGION = STACK_TOP - STACK_REACH;
/** Bytes of guard band either side of the scratch buffer and the stack window. */
export const GUARD = 64;
/** Regions of a case from toCase, in order; the last four are guard bands no program may write. */
export const CODE_REGION = 0, FIRST_GUARD = 3;

/**
 * The case both runners execute: registers with the env's reserved values, code, scratch, stack, and
 * guard bands around scratch and stack (compared too, so a stray write near them shows).
 */
export function toCase(p: Program, code: Assembled = assemble(resolve(p))): Case {
  const gpr = p.gpr.slice();
  gpr[RSP] = p.env.rsp;
  gpr[p.env.base] = BigInt(SCRATCH_MID);
  gpr[p.env.index] = BigInt.asUintN(64, BigInt(p.env.indexValue));
  return {
    gpr,
    rflags: p.rflags,
    rip: BigInt(CODE_GPA),
    regions: [
      { gpa: CODE_GPA, bytes: code.bytes },
      { gpa: SCRATCH_GPA, bytes: seededBytes(p.memSeed, SCRATCH_SIZE) },
      { gpa: STACK_REGION, bytes: seededBytes(p.memSeed ^ 0x5a5a5a5a, 2 * STACK_REACH) },
      ...[SCRATCH_GPA - GUARD, SCRATCH_GPA + SCRATCH_SIZE, STACK_REGION - GUARD, STACK_REGION + 2 * STACK_REACH].map((gpa) => ({
        gpa,
        bytes: seededBytes(p.memSeed ^ gpa, GUARD),
      })),
    ],
  };
}
