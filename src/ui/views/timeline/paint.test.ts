import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Timeline } from '../../../model/trace/timeline';
import { pixel, reasonColour } from './colours';
import { BAND_H, BAND_Y, LANE, MARK_H, MARK_Y, paintLanes } from './paint';
import { tilesFor } from './tiles';

describe('paintLanes', () => {
  it('puts each exit tick above its lane\'s activity band, in its reason\'s colour', () => {
    const tl = new Timeline();
    tl.append([
      { kind: 'activity', t: 0, vcpu: 0, activity: 'guest' },
      { kind: 'activity', t: 0, vcpu: 1, activity: 'guest' },
      { kind: 'kvm_exit', t: 50, vcpu: 1, exit: 0, reason: 12, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 },
      { kind: 'activity', t: 50, vcpu: 1, activity: 'kvm' },
    ]);
    const width = 100;
    const px = new Uint32Array(width * 2 * LANE);
    const colours = Uint32Array.from([1, 2, 3, 4, 5, 6]);
    paintLanes(px, tl, 100, { t0: 0, t1: 100, width }, 1, colours, {});
    const at = (x: number, y: number) => px[y * width + x];
    const hlt = pixel(reasonColour(12));
    // vCPU 1 is the second lane: ticks at columns 50 and 51 (2 px wide), none elsewhere.
    expect([at(50, LANE + MARK_Y), at(51, LANE + MARK_Y + MARK_H - 1), at(49, LANE + MARK_Y), at(52, LANE + MARK_Y)]).toEqual([hlt, hlt, 0, 0]);
    expect(at(50, MARK_Y)).toBe(0); // no exit on vCPU 0
    // Bands: guest (1) before the exit, kvm (3) after it on vCPU 1; guest throughout on vCPU 0.
    const band = (lane: number) => LANE * lane + BAND_Y + BAND_H - 1;
    expect([at(10, band(1)), at(60, band(1)), at(60, band(0)), at(60, BAND_Y - 1)]).toEqual([1, 3, 1, 0]);
  });
});

describe('tilesFor', () => {
  it('covers the view with whole tiles, no more', () => {
    fc.assert(
      fc.property(fc.integer({ min: -5000, max: 100_000 }), fc.integer({ min: 1, max: 4000 }), fc.integer({ min: 1, max: 1024 }), (x0, w, tile) => {
        const t = tilesFor(x0, w, tile);
        expect(t[0] * tile).toBeLessThanOrEqual(x0);
        expect((t[t.length - 1] + 1) * tile).toBeGreaterThanOrEqual(x0 + w);
        expect((t[0] + 1) * tile).toBeGreaterThan(x0);
        expect(t[t.length - 1] * tile).toBeLessThan(x0 + w);
        t.forEach((v, i) => i && expect(v).toBe(t[i - 1] + 1));
      }),
    );
    expect(tilesFor(0, 0)).toEqual([]);
  });
});
