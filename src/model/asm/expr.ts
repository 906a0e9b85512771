// NASM numeric expressions: parsing into a tree and evaluating in 64-bit two's complement.
// Registers may appear as terms (inside brackets); evaluation keeps them as a linear combination
// so `[rbx + rcx*4 + table - 8]` splits into base, index, scale and displacement.
import { AsmFault } from './fault';
import type { Token } from './lexer';
import type { RegInfo } from './registers';

export type Expr =
  | { k: 'num'; v: bigint; col: number }
  | { k: 'sym'; name: string; written: string; col: number }
  | { k: 'here' | 'start'; col: number } // `$` and `$$`
  | { k: 'reg'; reg: RegInfo; col: number }
  | { k: 'un'; op: string; a: Expr; col: number }
  | { k: 'bin'; op: string; a: Expr; b: Expr; col: number };

/** A token stream with one token of lookahead. */
export class Cursor {
  private pos = 0;
  constructor(
    readonly tokens: Token[],
    readonly source: string, // the line, for quoting operands in messages
  ) {}
  peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)];
  }
  next(): Token {
    const t = this.peek();
    if (t.kind !== 'eol') this.pos++;
    return t;
  }
  isOp(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'op' && t.text === text;
  }
  /** The next token if it is the identifier `word` (any case). */
  takeWord(...words: string[]): string | undefined {
    const t = this.peek();
    if (t.kind !== 'ident' || !words.includes(t.text.toLowerCase())) return undefined;
    this.pos++;
    return t.text.toLowerCase();
  }
  expectOp(text: string, what: string): Token {
    const t = this.peek();
    if (t.kind !== 'op' || t.text !== text) throw new AsmFault(t.col, `expected '${text}' ${what}, got ${describe(t)}`);
    return this.next();
  }
}

export function describe(t: Token): string {
  return t.kind === 'eol' ? 'the end of the line' : `'${t.text}'`;
}

export interface ExprContext {
  register(name: string): RegInfo | undefined;
  /** Full name of a label reference: `.loop` is local to the last non-local label. */
  qualify(name: string): string;
}

const BINARY_LEVELS = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '//', '%', '%%']];

export function parseExpr(cur: Cursor, ctx: ExprContext, level = 0): Expr {
  if (level === BINARY_LEVELS.length) return parseUnary(cur, ctx);
  let a = parseExpr(cur, ctx, level + 1);
  for (;;) {
    const t = cur.peek();
    if (t.kind !== 'op' || !BINARY_LEVELS[level].includes(t.text)) return a;
    cur.next();
    const b = parseExpr(cur, ctx, level + 1);
    a = { k: 'bin', op: t.text, a, b, col: t.col };
  }
}

function parseUnary(cur: Cursor, ctx: ExprContext): Expr {
  const t = cur.peek();
  if (t.kind === 'op' && ['-', '+', '~', '!'].includes(t.text)) {
    cur.next();
    return { k: 'un', op: t.text, a: parseUnary(cur, ctx), col: t.col };
  }
  return parsePrimary(cur, ctx);
}

function parsePrimary(cur: Cursor, ctx: ExprContext): Expr {
  const t = cur.next();
  switch (t.kind) {
    case 'number':
      if (t.value! >= 1n << 64n) throw new AsmFault(t.col, `number '${t.text}' does not fit in 64 bits`);
      return { k: 'num', v: BigInt.asIntN(64, t.value!), col: t.col };
    case 'string': {
      // A character constant: its bytes, little-endian, as NASM does.
      if (t.bytes!.length > 8) throw new AsmFault(t.col, `character constant ${t.text} is longer than 8 bytes`);
      const v = t.bytes!.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
      return { k: 'num', v: BigInt.asIntN(64, v), col: t.col };
    }
    case 'ident': {
      const reg = t.escaped ? undefined : ctx.register(t.text.toLowerCase());
      if (reg) return { k: 'reg', reg, col: t.col };
      return { k: 'sym', name: ctx.qualify(t.text), written: t.text, col: t.col };
    }
    case 'op':
      if (t.text === '$') return { k: 'here', col: t.col };
      if (t.text === '$$') return { k: 'start', col: t.col };
      if (t.text === '(') {
        const e = parseExpr(cur, ctx);
        cur.expectOp(')', 'to close the parenthesis');
        return e;
      }
  }
  throw new AsmFault(t.col, `expected a number, label or '(', got ${describe(t)}`);
}

export interface SymbolValue {
  value: bigint;
  /** How many times the section base is added in: 1 for labels, 0 for plain numbers and differences. */
  reloc: number;
  /** Computed from a symbol not yet defined: a placeholder until the next pass (or a circular `equ`). */
  unknown?: boolean;
}

export interface EvalEnv {
  lookup(name: string): SymbolValue | undefined;
  here: bigint;
  start: bigint;
  /** In the last pass an unknown symbol is an error; before it, a forward reference reads as `$`. */
  final: boolean;
}

export interface Linear extends SymbolValue {
  regs: { reg: RegInfo; k: bigint; col: number }[];
}

export function evaluate(e: Expr, env: EvalEnv): Linear {
  switch (e.k) {
    case 'num':
      return { value: e.v, reloc: 0, regs: [] };
    case 'here':
      return { value: env.here, reloc: 1, regs: [] };
    case 'start':
      return { value: env.start, reloc: 1, regs: [] };
    case 'reg':
      return { value: 0n, reloc: 0, regs: [{ reg: e.reg, k: 1n, col: e.col }] };
    case 'sym': {
      const s = env.lookup(e.name);
      if (env.final && !s) throw new AsmFault(e.col, `undefined label '${e.written}'`);
      if (env.final && s?.unknown) throw new AsmFault(e.col, `cannot resolve '${e.written}': its definition is circular`);
      return s ? { ...s, regs: [] } : { value: env.here, reloc: 1, regs: [], unknown: true };
    }
    case 'un': {
      const a = evaluate(e.a, env);
      if (e.op === '+') return a;
      if (e.op === '-') return scale(a, -1n);
      noRegs(a, e.op);
      return { ...plain(e.op === '~' ? ~a.value : a.value === 0n ? 1n : 0n), unknown: a.unknown };
    }
    case 'bin': {
      const a = evaluate(e.a, env);
      const b = evaluate(e.b, env);
      return { ...binary(e, a, b), unknown: a.unknown || b.unknown };
    }
  }
}

function binary(e: Expr & { k: 'bin' }, a: Linear, b: Linear): Linear {
  switch (e.op) {
    case '+':
      return { value: BigInt.asIntN(64, a.value + b.value), reloc: a.reloc + b.reloc, regs: [...a.regs, ...b.regs] };
    case '-':
      return binary({ ...e, op: '+' }, a, scale(b, -1n));
    case '*':
      if (a.regs.length && b.regs.length) throw new AsmFault(e.col, 'registers cannot be multiplied together');
      return a.regs.length ? scale(a, b.value) : scale(b, a.value);
  }
  noRegs(a, e.op);
  noRegs(b, e.op);
  const ua = BigInt.asUintN(64, a.value);
  const ub = BigInt.asUintN(64, b.value);
  if (['/', '//', '%', '%%'].includes(e.op) && b.value === 0n) throw new AsmFault(e.col, 'division by zero');
  switch (e.op) {
    case '/':
      return plain(ua / ub);
    case '%':
      return plain(ua % ub);
    case '//':
      return plain(a.value / b.value);
    case '%%':
      return plain(a.value % b.value);
    case '<<':
      return plain(ub >= 64n ? 0n : ua << ub);
    case '>>':
      return plain(ub >= 64n ? 0n : ua >> ub);
    case '&':
      return plain(a.value & b.value);
    case '|':
      return plain(a.value | b.value);
    default: // '^'
      return plain(a.value ^ b.value);
  }
}

function plain(v: bigint): Linear {
  return { value: BigInt.asIntN(64, v), reloc: 0, regs: [] };
}

function scale(a: Linear, k: bigint): Linear {
  return {
    ...a,
    value: BigInt.asIntN(64, a.value * k),
    reloc: a.reloc * Number(k === 1n || k === -1n ? k : 0n),
    regs: a.regs.map((r) => ({ ...r, k: r.k * k })),
  };
}

function noRegs(a: Linear, op: string): void {
  if (a.regs.length) throw new AsmFault(a.regs[0].col, `register '${a.regs[0].reg.name}' cannot be used with '${op}'`);
}

/** Evaluates an expression that must be a plain number (no registers). */
export function evaluateNumber(e: Expr, env: EvalEnv): Linear {
  const r = evaluate(e, env);
  if (r.regs.length) {
    throw new AsmFault(r.regs[0].col, `register '${r.regs[0].reg.name}' cannot be part of a number; use [ ] for memory`);
  }
  return r;
}

/** True if the expression refers to `$` (so its value changes with the address it is assembled at). */
export function usesHere(e: Expr): boolean {
  switch (e.k) {
    case 'here':
      return true;
    case 'un':
      return usesHere(e.a);
    case 'bin':
      return usesHere(e.a) || usesHere(e.b);
    default:
      return false;
  }
}

export function hex(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** Whether `v` is a value of a `bits`-bit operand: anything from -2^(bits-1) to 2^bits - 1. */
export function fitsOperand(v: bigint, bits: number): boolean {
  return bits >= 64 || (v >= -(1n << BigInt(bits - 1)) && v < 1n << BigInt(bits));
}
