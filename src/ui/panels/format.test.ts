import { describe, expect, it } from 'vitest';
import { u64Hex } from './format';

describe('register formatting', () => {
  it('writes registers as unsigned 64-bit hex, padded on request', () => {
    expect(u64Hex(0x10002n)).toBe('0x10002');
    expect(u64Hex(-1n)).toBe('0xffffffffffffffff');
    expect(u64Hex(2, 4)).toBe('0x0002');
  });
});
