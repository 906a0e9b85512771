// Numbers, character constants and operators, checked through `dq`, which stores any 64-bit value.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble, formatAsmError } from './index';

async function value(expr: string, prelude = ''): Promise<bigint> {
  const r = await assemble(`${prelude}\ndq ${expr}`, { org: 0x10000 });
  if (!r.ok) throw new Error(r.errors.map(formatAsmError).join('; '));
  return new DataView(r.bytes.buffer, r.bytes.length - 8).getBigInt64(0, true);
}

async function error(source: string): Promise<string> {
  const r = await assemble(source, { org: 0x10000 });
  if (r.ok) throw new Error(`'${source}' assembled`);
  return r.errors.map(formatAsmError).join('; ');
}

describe('numbers', () => {
  it.each([
    ['123', 123n], ['0x1F', 31n], ['0X1f', 31n], ['1Fh', 31n], ['0ffh', 255n], ['0h1f', 31n], ['0xg', undefined], ['0x', 0n],
    ['0b1010', 10n], ['1010b', 10n], ['0y11', 3n], ['11y', 3n], ['0o17', 15n], ['0q17', 15n], ['17o', 15n], ['17q', 15n],
    ['0d99', 99n], ['0t99', 99n], ['99d', 99n], ['1_000_000', 1000000n], ['0x_ffff_ffff', 0xffffffffn],
    ['0xffffffffffffffff', -1n], ['0x8000000000000000', -(1n << 63n)],
  ] as const)('%s', async (text, expected) => {
    if (expected === undefined) await expect(value(text)).rejects.toThrow(`invalid number '${text}'`);
    else expect(await value(text)).toBe(expected);
  });

  it('rejects numbers beyond 64 bits and malformed ones', async () => {
    expect(await error('dq 0x10000000000000000')).toBe("line 1, col 4: number '0x10000000000000000' does not fit in 64 bits");
    expect(await error('dq 12z')).toBe("line 1, col 4: invalid number '12z'");
    expect(await error('dq 0b102')).toBe("line 1, col 4: invalid number '0b102'");
    expect(await error('dq 19o')).toBe("line 1, col 4: invalid number '19o'");
  });

  it('reads any decimal it printed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt(-(1n << 63n), (1n << 63n) - 1n), async (v) => {
        expect(await value(`${v}`)).toBe(v);
        expect(await value(`${v < 0n ? '-' : ''}0x${(v < 0n ? -v : v).toString(16)}`)).toBe(v);
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});

describe('character constants', () => {
  it('are little-endian, as in NASM', async () => {
    expect(await value("'a'")).toBe(0x61n);
    expect(await value("'ab'")).toBe(0x6261n);
    expect(await value('"abcdefgh"')).toBe(0x6867666564636261n);
    expect(await value("'a'+1")).toBe(0x62n);
    expect(await value('`\\n`')).toBe(10n);
    expect(await value('`\\x41\\101\\0`')).toBe(0x4141n);
  });

  it('reject what does not fit or does not end', async () => {
    expect(await error("dq 'abcdefghi'+0")).toBe("line 1, col 4: character constant 'abcdefghi' is longer than 8 bytes");
    expect(await error("dq 'abc")).toBe("line 1, col 4: unterminated string: missing closing '");
    expect(await error('db `\\q`')).toBe("line 1, col 5: unknown escape '\\q' in string");
  });
});

describe('operators', () => {
  it.each([
    ['1 + 2 * 3', 7n], ['(1 + 2) * 3', 9n], ['10 - 4 - 3', 3n], ['2 * 3 + 4 * 5', 26n],
    ['1 << 4 + 1', 32n], ['0x100 >> 4', 0x10n], ['-16 >> 60', 15n], ['1 << 64', 0n],
    ['7 / 2', 3n], ['7 % 4', 3n], ['-7 // 2', -3n], ['-7 %% 4', -3n], ['-1 / 2', (1n << 63n) - 1n],
    ['0xf0 | 0x0f', 0xffn], ['0xff & 0x3c', 0x3cn], ['0xff ^ 0x0f', 0xf0n], ['1 | 2 ^ 3 & 4', 3n],
    ['~0', -1n], ['-(-5)', 5n], ['+5', 5n], ['!0', 1n], ['!7', 0n], ['- - 1', 1n],
    ['0x7fffffffffffffff + 1', -(1n << 63n)],
  ] as const)('%s = %s', async (text, expected) => {
    expect(await value(text)).toBe(expected);
  });

  it('$ is the address of the line, $$ the start; labels and equ may come later', async () => {
    expect(await value('$')).toBe(0x10000n);
    expect(await value('$ - $$', 'nop\nnop')).toBe(2n);
    expect(await value('end - start', 'start: nop\nnop\nend:')).toBe(2n);
  });

  it('forward references', async () => {
    expect(await value('size', 'dq size\nsize equ end - start\nstart: times 5 nop\nend:')).toBe(5n);
  });

  it('reports what it cannot evaluate', async () => {
    expect(await error('dq 1 / 0')).toBe('line 1, col 6: division by zero');
    expect(await error('dq 1 %% (2 - 2)')).toBe('line 1, col 6: division by zero');
    expect(await error('dq nowhere + 1')).toBe("line 1, col 4: undefined label 'nowhere'");
    expect(await error('dq (1 + 2')).toBe("line 1, col 10: expected ')' to close the parenthesis, got the end of the line");
    expect(await error('dq 1 +')).toBe('line 1, col 7: expected a number, label or \'(\', got the end of the line');
    expect(await error('dq 1 # 2')).toBe("line 1, col 6: unexpected character '#'");
    expect(await error('mov eax, ebx + 1')).toBe("line 1, col 10: register 'ebx' cannot be part of a number; use [ ] for memory");
    expect(await error('mov eax, [rbx * rcx]')).toBe('line 1, col 15: registers cannot be multiplied together');
    expect(await error('mov eax, [rbx << 1]')).toBe("line 1, col 11: register 'rbx' cannot be used with '<<'");
  });
});
