import { describe, expect, it } from 'vitest';
import { formatNs, formatRet, hex } from './format';

describe('formatting', () => {
  it('scales virtual time to a readable unit', () => {
    expect([0, 812.4, 12345, 2e6, 1.5e9, NaN].map(formatNs)).toEqual(['0 ns', '812 ns', '12.345 µs', '2.000 ms', '1.500 s', '—']);
  });
  it('writes registers as 64-bit hex', () => {
    expect(hex(0x10002n)).toBe('0x10002');
    expect(hex(-1n)).toBe('0xffffffffffffffff');
    expect(hex(2, 4)).toBe('0x0002');
  });
  it('writes a missing return value as a dash', () => {
    expect([formatRet(null), formatRet(-22), formatRet(0)]).toEqual(['—', '-22', '0']);
  });
});
