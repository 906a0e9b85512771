// Splits one source line into tokens, NASM's way: numbers in every NASM radix notation, the three
// quote styles (backquotes take C escapes), `;` comments, identifiers with NASM's extra characters.
import { AsmFault } from './fault';

type TokenKind = 'ident' | 'number' | 'string' | 'op' | 'eol';

export interface Token {
  kind: TokenKind;
  text: string; // as written
  col: number; // 1-based
  value?: bigint; // numbers
  bytes?: number[]; // strings, after escapes
  escaped?: boolean; // `$name`: a symbol even if `name` is a keyword or register
}

const IDENT_START = /[A-Za-z_.?@]/;
const IDENT_PART = /[A-Za-z0-9_.?@$#~]/;
const OPERATORS = ['<<', '>>', '//', '%%', '+', '-', '*', '/', '%', '&', '|', '^', '~', '!', '(', ')', '[', ']', ',', ':', '$$', '$'];

export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ';') break;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    const col = i + 1;
    if (/[0-9]/.test(c)) {
      let j = i;
      while (j < line.length && /[0-9A-Za-z_]/.test(line[j])) j++;
      const text = line.slice(i, j);
      tokens.push({ kind: 'number', text, col, value: parseNumber(text, col) });
      i = j;
    } else if (c === '$' && i + 1 < line.length && IDENT_START.test(line[i + 1])) {
      // `$name` names a symbol even when `name` is a keyword or register.
      let j = i + 1;
      while (j < line.length && IDENT_PART.test(line[j])) j++;
      tokens.push({ kind: 'ident', text: line.slice(i + 1, j), col, escaped: true });
      i = j;
    } else if (IDENT_START.test(c)) {
      let j = i;
      while (j < line.length && IDENT_PART.test(line[j])) j++;
      tokens.push({ kind: 'ident', text: line.slice(i, j), col });
      i = j;
    } else if (c === "'" || c === '"' || c === '`') {
      const { bytes, end } = readString(line, i);
      tokens.push({ kind: 'string', text: line.slice(i, end), col, bytes });
      i = end;
    } else {
      const op = OPERATORS.find((o) => line.startsWith(o, i));
      if (!op) throw new AsmFault(col, `unexpected character '${c}'`);
      tokens.push({ kind: 'op', text: op, col });
      i += op.length;
    }
  }
  tokens.push({ kind: 'eol', text: '', col: i + 1 });
  return tokens;
}

/** NASM's numeric constants: 0x/0h, 0b/0y, 0o/0q, 0d/0t prefixes, h/x, b/y, o/q, d/t suffixes, `_` separators. */
function parseNumber(text: string, col: number): bigint {
  const t = text.toLowerCase().replace(/_/g, '');
  const radix: Record<string, [number, RegExp]> = {
    x: [16, /^[0-9a-f]+$/], h: [16, /^[0-9a-f]+$/],
    b: [2, /^[01]+$/], y: [2, /^[01]+$/],
    o: [8, /^[0-7]+$/], q: [8, /^[0-7]+$/],
    d: [10, /^[0-9]+$/], t: [10, /^[0-9]+$/],
  };
  const attempt = (digits: string, r: [number, RegExp] | undefined): bigint | undefined => {
    if (!r || digits === '' || !r[1].test(digits)) return undefined;
    return [...digits].reduce((acc, d) => acc * BigInt(r[0]) + BigInt(parseInt(d, 16)), 0n);
  };
  const value =
    (/^[0-9]+$/.test(t) ? BigInt(t) : undefined) ??
    (t[0] === '0' && t.length > 2 ? attempt(t.slice(2), radix[t[1]]) : undefined) ??
    attempt(t.slice(0, -1), radix[t[t.length - 1]]);
  if (value === undefined) throw new AsmFault(col, `invalid number '${text}'`);
  return value;
}

const ESCAPES: Record<string, number> = {
  n: 10, t: 9, r: 13, a: 7, b: 8, e: 27, f: 12, v: 11, '\\': 92, "'": 39, '"': 34, '`': 96, '?': 63,
};

function readString(line: string, start: number): { bytes: number[]; end: number } {
  const quote = line[start];
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  let i = start + 1;
  while (i < line.length && line[i] !== quote) {
    if (quote === '`' && line[i] === '\\' && i + 1 < line.length) {
      const rest = line.slice(i + 1);
      const hex = /^x([0-9a-fA-F]{1,2})/.exec(rest);
      const oct = /^[0-7]{1,3}/.exec(rest);
      if (hex) {
        bytes.push(parseInt(hex[1], 16));
        i += 1 + hex[0].length;
      } else if (oct) {
        bytes.push(parseInt(oct[0], 8) & 0xff);
        i += 1 + oct[0].length;
      } else if (rest[0] in ESCAPES) {
        bytes.push(ESCAPES[rest[0]]);
        i += 2;
      } else {
        throw new AsmFault(i + 1, `unknown escape '\\${rest[0]}' in string`);
      }
      continue;
    }
    const ch = String.fromCodePoint(line.codePointAt(i)!);
    bytes.push(...encoder.encode(ch));
    i += ch.length;
  }
  if (i >= line.length) throw new AsmFault(start + 1, `unterminated string: missing closing ${quote}`);
  return { bytes, end: i + 1 };
}
