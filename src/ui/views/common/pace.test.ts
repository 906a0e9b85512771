import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Pace, STREAMING_GAP_MS } from './pace';

/** Changes at the given times, shown as a view does (now, or by a timer at the wait): the times shown. */
function simulate(every: number, changes: number[]): number[] {
  let t = 0;
  const pace = new Pace(every, () => t);
  const shown: number[] = [];
  let due: number | null = null;
  const show = (at: number) => {
    t = at;
    pace.shown();
    shown.push(at);
    due = null;
  };
  for (const c of changes) {
    if (due !== null && due <= c) show(due);
    t = c;
    const wait = pace.change();
    if (!wait) show(c);
    else due ??= c + wait;
  }
  if (due !== null) show(due);
  return shown;
}

describe('Pace', () => {
  it('shows a step at once, and a run\'s frames at most every so often, the last one too', () => {
    const frames = Array.from({ length: 63 }, (_, i) => 1000 + i * 16); // a run: a change every frame for a second
    expect(simulate(500, [0, ...frames, 3000])).toEqual([0, 1000, 1500, 2000, 3000]);
  });

  it('never shows two changes of a stream closer than its pace, and shows the last change no later than a pace after it', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 * STREAMING_GAP_MS }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 20, max: 400 }), (gaps, every) => {
        let t = 0;
        const changes = gaps.map((g) => (t += g));
        const shown = simulate(every, changes);
        for (let i = 1; i < shown.length; i++) {
          const streaming = changes.some((c, k) => k > 0 && c === shown[i] && c - changes[k - 1] < STREAMING_GAP_MS);
          if (streaming) expect(shown[i] - shown[i - 1]).toBeGreaterThanOrEqual(every);
        }
        expect(shown.at(-1)! - changes.at(-1)!).toBeLessThanOrEqual(every);
        expect(shown.at(-1)).toBeGreaterThanOrEqual(changes.at(-1)!);
      }),
    );
  });
});
