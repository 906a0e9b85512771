// One source line to one statement: labels, directives, data and instructions with their
// operands, NASM syntax. Nothing here needs symbol values; the layout passes evaluate later.
import { Cursor, describe, parseExpr, type Expr, type ExprContext } from './expr';
import { AsmFault } from './fault';
import { tokenize, type Token } from './lexer';
import type { RegInfo, RegTable } from './registers';

const SIZE_KEYWORDS: Record<string, number> = { byte: 1, word: 2, dword: 4, qword: 8, tword: 10, oword: 16 };
const DATA_UNITS: Record<string, number> = { db: 1, dw: 2, dd: 4, dq: 8 };
const RES_UNITS: Record<string, number> = { resb: 1, resw: 2, resd: 4, resq: 8 };
const PREFIXES: Record<string, 'rep' | 'repe' | 'repne' | 'lock'> = {
  rep: 'rep', repe: 'repe', repz: 'repe', repne: 'repne', repnz: 'repne', lock: 'lock',
};
const UNSUPPORTED_DIRECTIVES = new Set(['section', 'segment', 'global', 'extern', 'common', 'cpu', 'incbin', '%include', 'struc']);

export type OperandKind =
  | { t: 'reg'; reg: RegInfo }
  | {
      t: 'mem';
      size?: number; // `dword [..]`
      expr: Expr;
      seg?: RegInfo;
      rel: boolean; // RIP-relative: `[rel x]`, or `default rel` for a plain address
      disp?: 'byte' | 'dword' | 'qword'; // `[dword rbx+8]`, `[qword 0x1000]` (64-bit moffs)
      hasRegs: boolean;
    }
  | { t: 'imm'; size?: number; strict: boolean; jump?: 'short' | 'near'; expr: Expr };

export type Operand = OperandKind & { col: number; text: string };

export interface Insn {
  mnemonic: string; // lower case, as written (aliases are resolved when matching)
  col: number;
  rep?: 'rep' | 'repe' | 'repne';
  lock: boolean;
  osize?: number; // `o16 push 5`: an explicit operand size, in bits
  seg?: RegInfo; // a segment prefix written before the mnemonic (`fs movsb`)
  operands: Operand[];
}

type DataItem = { bytes: number[]; col: number } | { expr: Expr; col: number };

export type Body =
  | { k: 'insn'; insn: Insn }
  | { k: 'data'; unit: number; items: DataItem[] }
  | { k: 'res'; unit: number; count: Expr };

export type StmtKind =
  | Body
  | { k: 'label'; name: string }
  | { k: 'equ'; name: string; expr: Expr }
  | { k: 'times'; count: Expr; body: Body }
  | { k: 'align'; n: Expr }
  | { k: 'org'; expr: Expr }
  | { k: 'bits'; expr: Expr }
  | { k: 'default'; rel: boolean };

export type Stmt = StmtKind & { line: number; col: number };

export interface ParseContext {
  registers: RegTable;
  isMnemonic(name: string): boolean;
}

/** Parses a whole source; `scope` (the last non-local label) and `default rel` carry across lines. */
export class Parser {
  private scope = '';
  private defaultRel = false;
  constructor(private readonly ctx: ParseContext) {}

  /**
   * Adds the statements of one line (a label and what follows it) to `out`. Throws AsmFault on the
   * first problem; a label before it is kept, so later lines can still refer to it.
   */
  parseLine(text: string, line: number, out: Stmt[]): void {
    const cur = new Cursor(tokenize(text), text);
    const first = cur.peek();
    if (first.kind === 'eol') return;
    if (first.kind === 'ident' && (cur.isOp(':', 1) || this.isBareLabel(cur))) {
      const name = this.defineLabel(first);
      cur.next();
      if (cur.isOp(':')) cur.next();
      if (cur.takeWord('equ')) {
        const expr = this.expr(cur);
        this.expectEnd(cur);
        out.push({ k: 'equ', name, expr, line, col: first.col });
        return;
      }
      out.push({ k: 'label', name, line, col: first.col });
    }
    if (cur.peek().kind === 'eol') return;
    const col = cur.peek().col;
    const stmt = this.statement(cur);
    this.expectEnd(cur);
    out.push({ ...stmt, line, col });
  }

  private exprCtx: ExprContext = {
    register: (name) => this.ctx.registers.get(name),
    qualify: (name) => this.qualify(name),
  };

  private qualify(name: string): string {
    return name.startsWith('.') && !name.startsWith('..') ? this.scope + name : name;
  }

  private defineLabel(t: Token): string {
    if (!t.escaped && this.ctx.registers.has(t.text.toLowerCase())) {
      throw new AsmFault(t.col, `'${t.text}' is a register and cannot be a label`);
    }
    const name = this.qualify(t.text);
    if (!t.text.startsWith('.')) this.scope = t.text;
    return name;
  }

  /** `name equ 5`, `name db 1`, `name times 4 db 0`: NASM lets these labels go without a colon. */
  private isBareLabel(cur: Cursor): boolean {
    const a = cur.peek();
    const b = cur.peek(1);
    if (b.kind !== 'ident') return false;
    const next = b.text.toLowerCase();
    const labelish = a.escaped || !(this.ctx.isMnemonic(a.text.toLowerCase()) || a.text.toLowerCase() in PREFIXES);
    return labelish && (next === 'equ' || next === 'times' || next in DATA_UNITS || next in RES_UNITS);
  }

  private expr(cur: Cursor): Expr {
    return parseExpr(cur, this.exprCtx);
  }

  private expectEnd(cur: Cursor): void {
    const t = cur.peek();
    if (t.kind !== 'eol') throw new AsmFault(t.col, `expected the end of the line, got ${describe(t)}`);
  }

  private statement(cur: Cursor): StmtKind {
    if (cur.isOp('[')) {
      // `[bits 64]`: NASM's primitive form of a directive.
      cur.next();
      const at = cur.peek();
      const d = this.directive(cur);
      if (!d) throw new AsmFault(at.col, `expected a directive inside [ ], got ${describe(at)}`);
      cur.expectOp(']', 'to close the directive');
      return d;
    }
    const t = cur.peek();
    if (t.kind !== 'ident') throw new AsmFault(t.col, `expected an instruction or directive, got ${describe(t)}`);
    const word = t.text.toLowerCase();
    if (word === 'times') {
      cur.next();
      const count = this.expr(cur);
      const body = this.statement(cur);
      if (body.k !== 'insn' && body.k !== 'data' && body.k !== 'res') {
        throw new AsmFault(t.col, `'times' repeats an instruction or data, not '${body.k}'`);
      }
      return { k: 'times', count, body: body as Body };
    }
    if (word === 'equ') throw new AsmFault(t.col, "'equ' needs a label before it: 'name equ value'");
    return this.directive(cur) ?? this.data(cur) ?? { k: 'insn', insn: this.insn(cur) };
  }

  private directive(cur: Cursor): StmtKind | undefined {
    const t = cur.peek();
    const word = t.text.toLowerCase();
    if (t.kind !== 'ident' || t.escaped) return undefined;
    if (UNSUPPORTED_DIRECTIVES.has(word)) {
      throw new AsmFault(t.col, `'${word}' is not supported: guest code is one flat block of 64-bit code at 'org'`);
    }
    switch (word) {
      case 'bits':
        cur.next();
        return { k: 'bits', expr: this.expr(cur) };
      case 'use64':
        cur.next();
        return { k: 'bits', expr: { k: 'num', v: 64n, col: t.col } };
      case 'org':
        cur.next();
        return { k: 'org', expr: this.expr(cur) };
      case 'align':
        cur.next();
        return { k: 'align', n: this.expr(cur) };
      case 'default': {
        cur.next();
        const mode = cur.takeWord('rel', 'abs');
        if (!mode) throw new AsmFault(cur.peek().col, `expected 'rel' or 'abs' after 'default', got ${describe(cur.peek())}`);
        this.defaultRel = mode === 'rel';
        return { k: 'default', rel: this.defaultRel };
      }
    }
    return undefined;
  }

  private data(cur: Cursor): Body | undefined {
    const word = cur.peek().text.toLowerCase();
    if (word in RES_UNITS) {
      cur.next();
      return { k: 'res', unit: RES_UNITS[word], count: this.expr(cur) };
    }
    if (!(word in DATA_UNITS)) return undefined;
    const directive = cur.next();
    const items: DataItem[] = [];
    do {
      const t = cur.peek();
      if (t.kind === 'eol') throw new AsmFault(t.col, `expected a value after '${items.length ? ',' : directive.text}'`);
      const next = cur.peek(1);
      if (t.kind === 'string' && (next.kind === 'eol' || (next.kind === 'op' && next.text === ','))) {
        cur.next();
        items.push({ bytes: t.bytes!, col: t.col });
      } else {
        items.push({ expr: this.expr(cur), col: t.col });
      }
    } while (cur.isOp(',') && cur.next());
    return { k: 'data', unit: DATA_UNITS[word], items };
  }

  private insn(cur: Cursor): Insn {
    const insn: Insn = { mnemonic: '', col: 0, lock: false, operands: [] };
    for (;;) {
      const t = cur.next();
      if (t.kind !== 'ident') throw new AsmFault(t.col, `expected an instruction, got ${describe(t)}`);
      const word = t.text.toLowerCase();
      const reg = this.ctx.registers.get(word);
      if (/^o(16|32|64)$/.test(word)) {
        insn.osize = Number(word.slice(1));
      } else if (word in PREFIXES) {
        const p = PREFIXES[word];
        if (p === 'lock') insn.lock = true;
        else insn.rep = p;
      } else if (reg?.cls === 'sreg') {
        insn.seg = reg;
      } else {
        insn.mnemonic = word;
        insn.col = t.col;
        break;
      }
      if (cur.peek().kind === 'eol') throw new AsmFault(cur.peek().col, `expected an instruction after the prefix '${word}'`);
    }
    if (cur.peek().kind === 'eol') return insn;
    let after = insn.mnemonic;
    do {
      insn.operands.push(this.operand(cur, after));
      after = ',';
    } while (cur.isOp(',') && cur.next());
    return insn;
  }

  private operand(cur: Cursor, after: string): Operand {
    const start = cur.peek();
    const strict = !!cur.takeWord('strict');
    const sizeWord = cur.takeWord(...Object.keys(SIZE_KEYWORDS));
    if (sizeWord) cur.takeWord('ptr');
    const size = sizeWord ? SIZE_KEYWORDS[sizeWord] : undefined;
    const jump = cur.takeWord('short', 'near', 'far');
    if (jump === 'far') throw new AsmFault(start.col, 'far jumps and calls are not supported in a flat 64-bit guest');
    let seg: RegInfo | undefined;
    const t = cur.peek();
    const reg = t.kind === 'ident' && !t.escaped ? this.ctx.registers.get(t.text.toLowerCase()) : undefined;
    if (reg?.cls === 'sreg' && cur.isOp(':', 1)) {
      seg = reg;
      cur.next();
      cur.next();
    }
    let op: OperandKind;
    if (cur.isOp('[')) {
      op = this.memory(cur, size, seg);
      if (jump || strict) throw new AsmFault(start.col, `'${jump ?? 'strict'}' does not apply to a memory operand`);
    } else if (seg) {
      throw new AsmFault(cur.peek().col, `expected '[' after '${seg.name}:', got ${describe(cur.peek())}`);
    } else if (reg && (cur.peek(1).kind === 'eol' || cur.isOp(',', 1))) {
      cur.next();
      if (reg.cls === 'other') throw new AsmFault(t.col, `register '${reg.name}' is not supported (general-purpose, segment, control and debug registers are)`);
      if (size || jump || strict) throw new AsmFault(start.col, `a size or jump keyword does not apply to register '${reg.name}'`);
      op = { t: 'reg', reg };
    } else {
      if (t.kind === 'eol' || cur.isOp(',')) {
        throw new AsmFault(t.col, `expected an operand after '${after}', got ${describe(t)}`);
      }
      op = { t: 'imm', size, strict, jump: jump as 'short' | 'near' | undefined, expr: this.expr(cur) };
    }
    return { ...op, col: start.col, text: sourceText(cur, start) };
  }

  private memory(cur: Cursor, size: number | undefined, seg: RegInfo | undefined): OperandKind {
    const open = cur.expectOp('[', 'to start a memory operand');
    let rel: boolean | undefined;
    let disp: 'byte' | 'dword' | 'qword' | undefined;
    for (;;) {
      const t = cur.peek();
      const reg = t.kind === 'ident' && !t.escaped ? this.ctx.registers.get(t.text.toLowerCase()) : undefined;
      if (reg?.cls === 'sreg' && cur.isOp(':', 1)) {
        if (seg) throw new AsmFault(t.col, 'a memory operand takes one segment override');
        seg = reg;
        cur.next();
        cur.next();
        continue;
      }
      const mode = cur.takeWord('rel', 'abs');
      if (mode) {
        rel = mode === 'rel';
        continue;
      }
      const d = cur.takeWord('byte', 'word', 'dword', 'qword');
      if (d) {
        if (d === 'word') throw new AsmFault(t.col, "16-bit addresses are not available in 64-bit mode");
        disp = d as 'byte' | 'dword' | 'qword';
        continue;
      }
      break;
    }
    if (cur.isOp(']')) throw new AsmFault(cur.peek().col, 'expected an address inside [ ]');
    const expr = this.expr(cur);
    cur.expectOp(']', 'to close the memory operand');
    const hasRegs = containsRegister(expr);
    if (rel && hasRegs) throw new AsmFault(open.col, "'rel' addresses relative to RIP and cannot add registers");
    if (disp === 'qword' && hasRegs) throw new AsmFault(open.col, "a 64-bit address ('qword') cannot use registers");
    // NASM's `default rel` leaves FS/GS-relative and explicitly absolute addresses alone.
    const impliedRel = this.defaultRel && rel === undefined && !hasRegs && disp !== 'qword' && !(seg && /^[fg]s$/.test(seg.name));
    return { t: 'mem', size, expr, seg, rel: rel ?? impliedRel, disp, hasRegs };
  }
}

function containsRegister(e: Expr): boolean {
  return e.k === 'reg' || (e.k === 'un' && containsRegister(e.a)) || (e.k === 'bin' && (containsRegister(e.a) || containsRegister(e.b)));
}

function sourceText(cur: Cursor, start: Token): string {
  return cur.source.slice(start.col - 1, cur.peek().col - 1).trim();
}
