// exitscope's guest assembler and disassembler: NASM-style Intel syntax for 64-bit guest code,
// encoded by iced-x86 (no hand-written opcode tables), and disassembly in four syntaxes.
// Both are async because iced-x86 is loaded lazily (see iced.ts).
export { assemble } from './assemble';
export { disassemble } from './disasm';
export { loadIced } from './iced';

/** A problem in the source: 1-based line and column (both 0 when it concerns the options). */
export interface AsmError {
  line: number;
  col: number;
  message: string;
}

/** One per source line that emits bytes (a `times` line gives one entry with all its copies). */
export interface AsmLine {
  line: number;
  addr: number;
  bytes: Uint8Array;
}

/**
 * `org` is the address of `bytes[0]`: `opts.org`, or the source's own `org` directive.
 * `symbols` maps every label (locals as `parent.local`) and `equ` constant to its value.
 */
export type AsmResult =
  | { ok: true; bytes: Uint8Array; org: number; symbols: Map<string, number>; lines: AsmLine[] }
  | { ok: false; errors: AsmError[] };

export interface DisasmLine {
  addr: number;
  len: number;
  bytes: Uint8Array;
  text: string; // the whole instruction, with prefixes
  mnemonic: string; // without prefixes: `movsb` for `rep movsb`
}

export type Syntax = 'nasm' | 'gas' | 'intel' | 'masm';

/** `line 3, col 5: unknown instruction 'movz'`. */
export function formatAsmError(e: AsmError): string {
  return e.line ? `line ${e.line}, col ${e.col}: ${e.message}` : e.message;
}
