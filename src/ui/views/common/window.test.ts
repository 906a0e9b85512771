import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowRange, scrollFor } from './window';

describe('rowRange', () => {
  it('covers every row that shows in the viewport, and stays within the list', () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.nat(2000), fc.integer({ min: 1, max: 40 }), fc.nat(100_000), fc.nat(10), (top, h, rh, count, over) => {
        const [s, e] = rowRange(top, h, rh, count, over);
        expect(0 <= s && s <= e && e <= count).toBe(true);
        for (let i = Math.floor(top / rh); i * rh < top + h && i < count; i++) {
          expect(i >= s && i < e).toBe(true);
        }
        expect(e - s).toBeLessThanOrEqual(Math.ceil(h / rh) + 1 + 2 * over);
      }),
    );
  });

  it('renders nothing for an empty list', () => {
    expect(rowRange(0, 500, 20, 0)).toEqual([0, 0]);
  });
});

describe('scrollFor', () => {
  it('scrolls up or down just enough, and not at all when the row shows', () => {
    expect(scrollFor(0, 100, 200, 20)).toBe(0);
    expect(scrollFor(20, 100, 200, 20)).toBe(220);
    expect(scrollFor(10, 100, 200, 20)).toBeNull();
  });
});
