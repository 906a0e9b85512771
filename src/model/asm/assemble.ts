// The assembler's driver: parse every line, pick candidate forms, then lay the program out in
// passes until every label and every size stands still (branches start short and grow; forward
// references read as `$` until their label is seen), and emit in a last pass that reports errors.
import type { Encoder } from 'iced-x86';
import { encodeInsn, type EncodeContext } from './encode';
import { evaluateNumber, fitsOperand, hex, usesHere, type EvalEnv, type SymbolValue } from './expr';
import { AsmFault } from './fault';
import { buildAliases, buildForms } from './forms';
import { loadIced, type Iced } from './iced';
import { Parser, type Body, type Insn, type Stmt } from './parser';
import { buildRegisters } from './registers';
import { selectCandidates, type Candidate, type SelectContext } from './select';
import type { AsmError, AsmLine, AsmResult } from './index';

const MAX_PASSES = 32;
/** After this many passes instructions may only grow, so that a layout that oscillates settles. */
const NO_SHRINK_AFTER = 8;
/** Guest RAM is at most 64 MiB (spec/scenario-format.md), so no program can be larger. */
const MAX_OUTPUT = 64 << 20;
const NOP = 0x90;

interface Tables extends SelectContext {
  iced: Iced;
}

let tables: Promise<Tables> | undefined;

function loadTables(): Promise<Tables> {
  tables ??= loadIced().then((iced) => {
    const forms = buildForms(iced);
    return { iced, forms, aliases: buildAliases(iced, forms), registers: buildRegisters(iced) };
  });
  return tables;
}

type Item = Stmt & {
  candidates?: Candidate[]; // instructions, and `times` of an instruction
  size: number; // bytes in the last pass
  bytes?: Uint8Array; // from the final pass
};

export async function assemble(source: string, opts: { org: number }): Promise<AsmResult> {
  const t = await loadTables();
  const encoder = new t.iced.Encoder(64);
  try {
    return new Assembly(t, encoder).run(source, opts.org);
  } finally {
    encoder.free();
  }
}

class Assembly {
  private errors: AsmError[] = [];
  private items: Item[] = [];
  private symbols = new Map<string, SymbolValue>();
  private org = 0n;
  private readonly ctx: EncodeContext;

  constructor(
    private readonly t: Tables,
    encoder: Encoder,
  ) {
    this.ctx = { iced: t.iced, encoder, registers: t.registers };
  }

  run(source: string, org: number): AsmResult {
    if (!Number.isSafeInteger(org) || org < 0) {
      return { ok: false, errors: [{ line: 0, col: 0, message: `org ${org} is not a non-negative integer address` }] };
    }
    this.org = BigInt(org);
    this.parse(source);
    this.directives();
    this.layout();
    if (this.errors.length) {
      const seen = new Set<string>();
      const errors = this.errors
        .sort((a, b) => a.line - b.line || a.col - b.col)
        .filter((e) => !seen.has(`${e.line}:${e.col}:${e.message}`) && !!seen.add(`${e.line}:${e.col}:${e.message}`));
      return { ok: false, errors };
    }
    return this.result();
  }

  private fault(line: number, e: unknown): void {
    if (!(e instanceof AsmFault)) throw e;
    this.errors.push({ line, col: e.col, message: e.message });
  }

  private parse(source: string): void {
    const parser = new Parser({
      registers: this.t.registers,
      isMnemonic: (m) => this.t.forms.has(this.t.aliases.get(m) ?? m),
    });
    const defined = new Map<string, number>();
    for (const [i, text] of source.split(/\r\n|\r|\n/).entries()) {
      const line = i + 1;
      const stmts: Stmt[] = [];
      try {
        parser.parseLine(text, line, stmts);
      } catch (e) {
        this.fault(line, e);
      }
      for (const stmt of stmts) {
        try {
          if (stmt.k === 'label' || stmt.k === 'equ') {
            const first = defined.get(stmt.name);
            if (first !== undefined) throw new AsmFault(stmt.col, `label '${stmt.name}' is already defined on line ${first}`);
            defined.set(stmt.name, line);
          }
          const insn = stmt.k === 'insn' ? stmt.insn : stmt.k === 'times' && stmt.body.k === 'insn' ? stmt.body.insn : undefined;
          this.items.push({ ...stmt, size: 0, candidates: insn && selectCandidates(insn, this.t) });
        } catch (e) {
          this.fault(line, e);
        }
      }
    }
  }

  /** `org` and `bits` take plain numbers and apply to the whole source, as in NASM. */
  private directives(): void {
    const constant: EvalEnv = { lookup: () => undefined, here: this.org, start: this.org, final: true };
    let orgLine = 0;
    for (const item of this.items) {
      try {
        if (item.k === 'bits' && evaluateNumber(item.expr, constant).value !== 64n) {
          throw new AsmFault(item.col, "only 'bits 64' is supported: the guest runs in 64-bit mode");
        }
        if (item.k === 'org') {
          if (orgLine) throw new AsmFault(item.col, `'org' is already given on line ${orgLine}`);
          orgLine = item.line;
          const v = evaluateNumber(item.expr, constant).value;
          if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new AsmFault(item.col, `org ${v} is not a valid address`);
          this.org = v;
        }
      } catch (e) {
        this.fault(item.line, e);
      }
    }
  }

  private layout(): void {
    for (let pass = 1; pass <= MAX_PASSES; pass++) {
      const unsettled = this.pass(false, pass > NO_SHRINK_AFTER);
      if (unsettled === undefined) {
        this.pass(true, pass > NO_SHRINK_AFTER);
        return;
      }
      if (pass === MAX_PASSES) {
        this.errors.push({ line: unsettled.line, col: unsettled.col, message: `the layout does not settle after ${MAX_PASSES} passes: this line keeps changing` });
      }
    }
  }

  /** One pass over the program. Returns the first item whose size or label moved, if any. */
  private pass(final: boolean, noShrink: boolean): Item | undefined {
    let here = this.org;
    let moved: Item | undefined;
    for (const item of this.items) {
      const env: EvalEnv = { lookup: (n) => this.symbols.get(n), here, start: this.org, final };
      let bytes: Uint8Array | undefined;
      try {
        if (item.k === 'label' || item.k === 'equ') {
          const sym: SymbolValue = item.k === 'label' ? { value: here, reloc: 1 } : evaluateNumber(item.expr, env);
          const old = this.symbols.get(item.name);
          // A placeholder's value means nothing: only its becoming known is progress.
          if (!old || !!old.unknown !== !!sym.unknown || (!sym.unknown && old.value !== sym.value)) moved ??= item;
          this.symbols.set(item.name, { value: sym.value, reloc: sym.reloc, unknown: sym.unknown });
        } else {
          bytes = this.emit(item, env, noShrink ? item.size : 0);
        }
      } catch (e) {
        if (final) this.fault(item.line, e);
      }
      if (!bytes) {
        here += BigInt(item.size); // keep the layout of the last pass that worked
        continue;
      }
      if (bytes.length !== item.size) moved ??= item;
      item.size = bytes.length;
      if (final) item.bytes = bytes;
      here += BigInt(bytes.length);
      if (here - this.org > MAX_OUTPUT) {
        // Stop here; reporting it as settled sends the layout to the final pass, which says why.
        if (final) this.errors.push({ line: item.line, col: item.col, message: `the program grows beyond ${MAX_OUTPUT >> 20} MiB here` });
        return undefined;
      }
    }
    return moved;
  }

  private emit(item: Item, env: EvalEnv, floor: number): Uint8Array | undefined {
    switch (item.k) {
      case 'times': {
        const n = evaluateNumber(item.count, env).value;
        if (n < 0n) throw new AsmFault(item.col, `'times' count ${n} is negative`);
        if (n > BigInt(MAX_OUTPUT)) throw new AsmFault(item.col, `'times ${n}' would exceed ${MAX_OUTPUT >> 20} MiB`);
        return this.repeat(item, Number(n), env);
      }
      case 'align': {
        const n = evaluateNumber(item.n, env).value;
        if (n <= 0n || (n & (n - 1n)) !== 0n) throw new AsmFault(item.col, `'align ${n}': the alignment must be a power of two`);
        // Like NASM, relative to the start of the code ($$), padded with NOPs.
        return new Uint8Array(Number((n - ((env.here - env.start) % n)) % n)).fill(NOP);
      }
      case 'insn':
      case 'data':
      case 'res':
        return this.body(item, item.candidates, env, floor);
      default:
        return undefined; // directives emit nothing
    }
  }

  private body(body: Body, candidates: Candidate[] | undefined, env: EvalEnv, floor: number): Uint8Array {
    switch (body.k) {
      case 'insn':
        return encodeInsn(body.insn, candidates!, env, this.ctx, floor);
      case 'res': {
        const n = evaluateNumber(body.count, env).value;
        if (n < 0n || n * BigInt(body.unit) > BigInt(MAX_OUTPUT)) throw new AsmFault(body.count.col, `reserve count ${n} is out of range`);
        return new Uint8Array(Number(n) * body.unit);
      }
      case 'data':
        return data(body, env);
    }
  }

  /** `times n body`: each copy is assembled at its own address, unless its bytes cannot depend on it. */
  private repeat(item: Item & { k: 'times' }, n: number, env: EvalEnv): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const tooBig = () => new AsmFault(item.col, `'times ${n}' would exceed ${MAX_OUTPUT >> 20} MiB`);
    if (!positionDependent(item.body, item.candidates)) {
      const one = this.body(item.body, item.candidates, env, 0);
      if (one.length * n > MAX_OUTPUT) throw tooBig();
      const out = new Uint8Array(one.length * n);
      out.set(one);
      for (let filled = one.length; filled < out.length; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, out.length - filled));
      return out;
    }
    const parts: Uint8Array[] = [];
    let here = env.here;
    for (let i = 0; i < n; i++) {
      const part = this.body(item.body, item.candidates, { ...env, here }, 0);
      parts.push(part);
      here += BigInt(part.length);
      if (here - env.here > BigInt(MAX_OUTPUT)) throw tooBig();
    }
    return concat(parts);
  }

  private result(): AsmResult {
    const lines: AsmLine[] = [];
    let addr = Number(this.org);
    for (const item of this.items) {
      if (!item.bytes?.length) continue;
      lines.push({ line: item.line, addr, bytes: item.bytes });
      addr += item.bytes.length;
    }
    const bytes = concat(lines.map((l) => l.bytes));
    const symbols = new Map<string, number>();
    for (const [name, s] of this.symbols) {
      if (Number.isSafeInteger(Number(s.value))) symbols.set(name, Number(s.value));
    }
    return { ok: true, bytes, org: Number(this.org), symbols, lines };
  }
}

function positionDependent(body: Body, candidates: Candidate[] | undefined): boolean {
  if (body.k === 'data') return body.items.some((i) => 'expr' in i && usesHere(i.expr));
  if (body.k === 'res') return false;
  const insn: Insn = body.insn;
  return (
    insn.operands.some((o) => (o.t === 'mem' && o.rel) || (o.t !== 'reg' && usesHere(o.expr))) ||
    !!candidates?.some((c) => c.form.slots.some((s) => s.t === 'rel'))
  );
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const UNIT_BITS: Record<number, number> = { 1: 8, 2: 16, 4: 32, 8: 64 };

function data(body: Body & { k: 'data' }, env: EvalEnv): Uint8Array {
  const out: number[] = [];
  const bits = UNIT_BITS[body.unit];
  for (const item of body.items) {
    if ('bytes' in item) {
      // A string fills whole units, zero-padded at the end (NASM's `dw 'abc'` is 'ab','c',0).
      out.push(...item.bytes, ...new Array((body.unit - (item.bytes.length % body.unit)) % body.unit).fill(0));
      continue;
    }
    const v = evaluateNumber(item.expr, env).value;
    if (!fitsOperand(v, bits)) throw new AsmFault(item.col, `value ${hex(v)} does not fit in ${bits} bits`);
    const u = BigInt.asUintN(bits, v);
    for (let i = 0; i < body.unit; i++) out.push(Number((u >> BigInt(8 * i)) & 0xffn));
  }
  return Uint8Array.from(out);
}
