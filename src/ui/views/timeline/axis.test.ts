import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timeTickFormat } from './axis';

describe('timeTickFormat', () => {
  it('picks the unit from the values and the decimals from the step', () => {
    expect([0, 2e8, 4e8].map(timeTickFormat(2e8, 1e9))).toEqual(['0.0 s', '0.2 s', '0.4 s']);
    expect([1000, 2000].map(timeTickFormat(1000, 5000))).toEqual(['1 µs', '2 µs']);
    expect([1e9 + 10, 1e9 + 20].map(timeTickFormat(10, 1e9 + 20))).toEqual(['1.00000001 s', '1.00000002 s']);
    expect([0, 5].map(timeTickFormat(5, 20))).toEqual(['0 ns', '5 ns']);
  });

  it('never labels two ticks of one step alike', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9 }), fc.constantFrom(1, 2, 5), fc.integer({ min: 0, max: 1e6 }), (exp, m, i) => {
        const step = m * 10 ** exp;
        const v = i * step;
        const fmt = timeTickFormat(step, v + step);
        expect(fmt(v)).not.toBe(fmt(v + step));
      }),
    );
  });
});
