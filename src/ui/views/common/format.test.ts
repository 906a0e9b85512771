import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { count, formatNs, formatRet, hex, plural } from './format';

describe('formatNs', () => {
  it('picks the unit and keeps about three significant digits', () => {
    expect([0, 950, 1000, 12_500, 999_499, 3_200_000, 1_250_000_000, -2500, NaN].map(formatNs)).toEqual([
      '0 ns', '950 ns', '1.00 µs', '12.5 µs', '999 µs', '3.20 ms', '1.25 s', '-2.50 µs', '—',
    ]);
  });
});

describe('small formats', () => {
  it('writes addresses in hex, return values as recorded, counts with separators', () => {
    expect([hex(0x1000n), hex(255)]).toEqual(['0x1000', '0xff']);
    expect([formatRet(0), formatRet(-4), formatRet('-EINTR'), formatRet(undefined)]).toEqual(['0', '-4', '-EINTR', '?']);
    expect(count(100000)).toBe('100,000');
    const number = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.double({ noNaN: true }).filter((x) => !Object.is(x, -0)));
    fc.assert(fc.property(number, (n) => {
      expect(count(n)).toBe(n.toLocaleString('en-US'));
    }));
    expect([plural(1, 'exit'), plural(0, 'exit'), plural(1234, 'frame')]).toEqual(['1 exit', '0 exits', '1,234 frames']);
  });
});
