import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, parseJson } from './json';
import { closest } from './suggest';

describe('parseJson', () => {
  it('reads what JSON.stringify writes, compact or indented', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2, '\t'), (v, indent) => {
        expect(parseJson(JSON.stringify(v, null, indent)).value).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 300 },
    );
  });

  it('accepts and rejects what JSON.parse does (duplicate keys aside)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1)))), (text) => {
        let native = true;
        try { JSON.parse(text); } catch { native = false; }
        let ours = true;
        try { parseJson(text); } catch (e) { expect(e).toBeInstanceOf(JsonSyntaxError); ours = false; }
        expect(ours).toBe(native);
      }),
      { numRuns: 500 },
    );
  });

  it('knows where each value starts', () => {
    const j = parseJson('{\n  "a": [1,\n    {"b": true}]\n}');
    expect(j.at(['a'])).toEqual({ line: 2, col: 8 });
    expect(j.at(['a', 1, 'b'])).toEqual({ line: 3, col: 11 });
    expect(j.at(['nope'])).toBeUndefined();
  });

  it('refuses duplicate keys, which JSON.parse would silently merge', () => {
    expect(() => parseJson('{"a": 1, "a": 2}')).toThrow('line 1, column 10: duplicate property "a"');
  });
});

describe('closest', () => {
  it.each([
    ['HTL', ['MWAIT', 'HLT', 'PAUSE'], 'HLT'],
    ['rpi', ['rsi', 'rip'], 'rip'],
    ['halt_pol_ns', ['halt_poll_ns', 'pcpus'], 'halt_poll_ns'],
    ['xyzzy', ['HLT', 'PAUSE'], undefined],
  ])('%s among %j is %s', (input, candidates, want) => {
    expect(closest(input, candidates)).toBe(want);
  });
});
