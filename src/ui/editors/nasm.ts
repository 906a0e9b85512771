// A small stream mode for the guest code: Intel syntax, NASM style, as src/model/asm accepts it.
// legacy-modes' `gas` mode expects AT&T conventions (`#` comments, `%` registers), so this one is
// written for `;` comments, `label:` definitions, NASM directives and bare register names.
import type { StreamParser, StringStream } from '@codemirror/language';

const DIRECTIVES = new Set([
  'db', 'dw', 'dd', 'dq', 'times', 'org', 'bits', 'align', 'equ', 'resb', 'resw', 'resd', 'resq', 'section', 'global',
]);
const PREFIXES = new Set(['rep', 'repe', 'repz', 'repne', 'repnz', 'lock']);
const SIZES = new Set(['byte', 'word', 'dword', 'qword', 'ptr', 'short', 'near', 'far', 'rel', 'abs']);
const REGISTER = new RegExp(
  '^(?:[re]?(?:ax|bx|cx|dx|si|di|sp|bp|ip)|[abcd][lh]|(?:si|di|sp|bp)l|r(?:[89]|1[0-5])[bwd]?' +
    '|[c-gs]s|cr[0-8]|dr[0-7]|[xyz]mm(?:[12]?\\d|3[01])|rflags|eflags)$',
  'i',
);

export interface NasmState {
  /** Still at the first word of the line: a label or a mnemonic. */
  lineStart: boolean;
}

export const nasm: StreamParser<NasmState> = {
  name: 'nasm',
  startState: () => ({ lineStart: true }),
  token(stream: StringStream, state: NasmState): string | null {
    if (stream.sol()) state.lineStart = true;
    if (stream.eatSpace()) return null;
    if (stream.match(';')) {
      stream.skipToEnd();
      return 'comment';
    }
    const quote = stream.peek();
    if (quote === '"' || quote === "'" || quote === '`') {
      stream.next();
      while (!stream.eol()) {
        const ch = stream.next();
        if (ch === '\\') stream.next();
        else if (ch === quote) break;
      }
      return 'string';
    }
    if (stream.match(/^(?:0x[\da-f_]+|0b[01_]+|[\da-f_]+h\b|\d[\d_]*)/i)) return 'number';
    const word = stream.match(/^[A-Za-z_.$@?][\w.$@?#]*/) as RegExpMatchArray | null;
    if (word) {
      const w = word[0];
      const first = state.lineStart;
      const lower = w.toLowerCase();
      const label = first && stream.peek() === ':';
      // A label or a prefix keeps the next word in mnemonic position (`start: mov …`, `rep movsb`).
      state.lineStart = label || (first && PREFIXES.has(lower));
      if (label) return 'labelName';
      if (DIRECTIVES.has(lower)) return 'meta';
      if (SIZES.has(lower)) return 'typeName';
      if (REGISTER.test(w)) return 'variableName.special';
      if (first) return 'keyword'; // the mnemonic
      return 'variableName'; // a label used as an operand
    }
    stream.next();
    return 'punctuation';
  },
  languageData: { commentTokens: { line: ';' } },
};
