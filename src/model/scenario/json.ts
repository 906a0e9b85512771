// A JSON reader that remembers where every value starts, so that an error about `program[3].fd`
// can also say "line 14, column 12", and a syntax error always has a line and column (V8's
// JSON.parse messages do not reliably carry a position). Strict RFC 8259: no comments, no
// trailing commas.

export interface Pos {
  line: number; // 1-based
  col: number; // 1-based
}

export type JsonPath = (string | number)[];

export class JsonSyntaxError extends Error {
  constructor(readonly reason: string, readonly pos: Pos) {
    super(`line ${pos.line}, column ${pos.col}: ${reason}`);
  }
}

export interface ParsedJson {
  value: unknown;
  /** Where the value at `path` starts in the text. */
  at(path: JsonPath): Pos | undefined;
}

/** `program[3].fd`: the path notation every error message uses. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const k of path) s += typeof k === 'number' ? `[${k}]` : s ? `.${String(k)}` : String(k);
  return s;
}

export function parseJson(text: string): ParsedJson {
  const positions = new Map<string, number>();
  let i = 0;

  const posOf = (offset: number): Pos => {
    let line = 1, start = 0;
    for (let k = 0; k < offset && k < text.length; k++) if (text.charCodeAt(k) === 10) { line++; start = k + 1; }
    return { line, col: offset - start + 1 };
  };
  const fail = (reason: string, at = i): never => { throw new JsonSyntaxError(reason, posOf(at)); };
  const describe = (at: number) => (at >= text.length ? 'end of input' : `'${text[at]}'`);
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const expect = (ch: string, what: string) => {
    ws();
    if (text[i] !== ch) fail(`expected ${what}, found ${describe(i)}`);
    i++;
  };

  const value = (path: JsonPath): unknown => {
    ws();
    positions.set(formatPath(path), i);
    const c = text[i];
    if (c === '{') return object(path);
    if (c === '[') return array(path);
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    return fail(`unexpected ${describe(i)}`);
  };

  const object = (path: JsonPath): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    i++;
    ws();
    if (text[i] === '}') { i++; return out; }
    for (;;) {
      ws();
      if (text[i] !== '"') fail(`expected a property name in double quotes, found ${describe(i)}`);
      const keyAt = i;
      const key = string();
      if (Object.hasOwn(out, key)) fail(`duplicate property "${key}"`, keyAt);
      expect(':', "':' after the property name");
      // Defined, not assigned: a "__proto__" key is data, as JSON.parse keeps it.
      Object.defineProperty(out, key, { value: value([...path, key]), enumerable: true, writable: true, configurable: true });
      ws();
      if (text[i] === ',') { i++; continue; }
      if (text[i] === '}') { i++; return out; }
      fail(`expected ',' or '}' after a property value, found ${describe(i)}`);
    }
  };

  const array = (path: JsonPath): unknown[] => {
    const out: unknown[] = [];
    i++;
    ws();
    if (text[i] === ']') { i++; return out; }
    for (;;) {
      out.push(value([...path, out.length]));
      ws();
      if (text[i] === ',') { i++; continue; }
      if (text[i] === ']') { i++; return out; }
      fail(`expected ',' or ']' after an array element, found ${describe(i)}`);
    }
  };

  const string = (): string => {
    const start = i;
    i++;
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string', start);
      const c = text[i];
      if (c === '"') { i++; return out; }
      if (c < ' ') fail('control character in a string (write it as an escape such as \\n)');
      if (c !== '\\') { out += c; i++; continue; }
      const e = text[i + 1];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e in simple) { out += simple[e]; i += 2; continue; }
      if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      fail(`invalid escape '\\${e ?? ''}' in a string`);
    }
  };

  const number = (): number => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) return fail(`invalid number`);
    i += m[0].length;
    return Number(m[0]);
  };

  if (text.charCodeAt(0) === 0xfeff) i = 1; // a byte-order mark some editors write
  const result = value([]);
  ws();
  if (i < text.length) fail(`unexpected ${describe(i)} after the document`);
  return {
    value: result,
    at: (path) => {
      const offset = positions.get(formatPath(path));
      return offset === undefined ? undefined : posOf(offset);
    },
  };
}
