import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../../model/trace/events';
import { ACTIVITIES, Timeline, type Lane } from '../../../model/trace/timeline';
import { activityCoverage, activityTotals, exitRange, lowerBound, markColumns, nearestExit, paintBand, type Viewport } from './raster';

const A = ACTIVITIES.length;

/** A lane from a random run: activity changes and exits at rising times. */
const laneArb = fc
  .array(fc.tuple(fc.nat(400), fc.nat(ACTIVITIES.length - 1), fc.boolean(), fc.constantFrom(1, 12, 30, 40)), { minLength: 1, maxLength: 80 })
  .map((steps) => {
    let t = 0;
    let n = 0;
    const events: TraceEvent[] = [];
    for (const [dt, a, isExit, reason] of steps) {
      t += dt;
      events.push(isExit
        ? { kind: 'kvm_exit', t, vcpu: 0, exit: n++, reason, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 }
        : { kind: 'activity', t, vcpu: 0, activity: ACTIVITIES[a] });
    }
    const tl = new Timeline();
    tl.append(events);
    return { lane: tl.lanes[0], tEnd: tl.t1 };
  });
const vpArb = fc.tuple(fc.integer({ min: -200, max: 20_000 }), fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 1, max: 300 }))
  .map(([t0, span, width]): Viewport => ({ t0, t1: t0 + span, width }));

const close = (a: number, b: number, eps = 1e-3) => expect(Math.abs(a - b)).toBeLessThan(eps * Math.max(1, Math.abs(b)));

function laneOf(events: TraceEvent[]): Lane {
  const tl = new Timeline();
  tl.append(events);
  return tl.lanes[0];
}

describe('activityCoverage', () => {
  it('spreads spans over pixel columns by how much of each column they cover', () => {
    const lane = laneOf([
      { kind: 'activity', t: 0, vcpu: 0, activity: 'guest' },
      { kind: 'activity', t: 25, vcpu: 0, activity: 'kvm' },
      { kind: 'activity', t: 30, vcpu: 0, activity: 'blocked' },
    ]);
    const cover = activityCoverage(lane, 40, { t0: 0, t1: 40, width: 4 });
    const row = (x: number) => Array.from(cover.subarray(x * A, x * A + A), (v) => Math.round(v * 100) / 100);
    //          guest halted kvm polling blocked userspace
    expect(row(0)).toEqual([1, 0, 0, 0, 0, 0]);
    expect(row(2)).toEqual([0.5, 0, 0.5, 0, 0, 0]);
    expect(row(3)).toEqual([0, 0, 0, 0, 1, 0]); // the open span runs to tEnd
  });

  it('gives each column the share the spans cover, as a span-by-span reading does, however many spans a column holds', () => {
    // Up to 300 activity changes into as few as one column: the running-totals path.
    const manyArb = fc.array(fc.tuple(fc.nat(50), fc.nat(A - 1)), { minLength: 1, maxLength: 300 }).map((steps) => {
      let t = 0;
      return laneOf(steps.map(([dt, a]): TraceEvent => ({ kind: 'activity', t: (t += dt), vcpu: 0, activity: ACTIVITIES[a] })));
    });
    fc.assert(
      fc.property(manyArb, fc.integer({ min: -100, max: 8000 }), fc.integer({ min: 1, max: 16000 }), fc.integer({ min: 1, max: 40 }), (lane, t0, span, width) => {
        const vp = { t0, t1: t0 + span, width };
        const tEnd = lane.last + 7;
        const cover = activityCoverage(lane, tEnd, vp);
        const k = width / span;
        const { start, end, activity } = lane.spans.cols;
        const spans = Array.from({ length: lane.spans.n }, (_, i) => [start[i], end[i], activity[i]]);
        if (lane.open) spans.push([lane.open.since, tEnd, lane.open.activity]);
        for (let x = 0; x < width; x++) {
          const [c0, c1] = [t0 + x / k, t0 + (x + 1) / k];
          for (let a = 0; a < A; a++) {
            const want = spans.filter((s) => s[2] === a).reduce((sum, [s0, s1]) => sum + Math.max(0, Math.min(s1, c1) - Math.max(s0, c0)), 0) * k;
            expect(Math.abs(cover[x * A + a] - want)).toBeLessThan(1e-3);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('conserves each activity\'s time, and never fills a column more than once', () => {
    fc.assert(
      fc.property(laneArb, vpArb, ({ lane, tEnd }, vp) => {
        const cover = activityCoverage(lane, tEnd, vp);
        const totals = activityTotals(lane, tEnd, vp.t0, vp.t1);
        const k = vp.width / (vp.t1 - vp.t0);
        for (let a = 0; a < A; a++) {
          let sum = 0;
          for (let x = 0; x < vp.width; x++) sum += cover[x * A + a];
          close(sum, totals[a] * k);
        }
        for (let x = 0; x < vp.width; x++) {
          let col = 0;
          for (let a = 0; a < A; a++) col += cover[x * A + a];
          expect(col).toBeLessThanOrEqual(1.0001);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('markColumns', () => {
  it('counts every visible exit once, colouring a column by its most common reason', () => {
    fc.assert(
      fc.property(laneArb, vpArb, ({ lane }, vp) => {
        const cols = markColumns(lane, vp);
        const [i0, i1] = exitRange(lane, vp.t0, vp.t1);
        expect(cols.count.reduce((s, c) => s + c, 0)).toBe(i1 - i0);
        const k = vp.width / (vp.t1 - vp.t0);
        const byCol = new Map<number, number[]>();
        for (let i = i0; i < i1; i++) {
          const c = Math.min(vp.width - 1, Math.floor((lane.exits.cols.t[i] - vp.t0) * k));
          byCol.set(c, [...(byCol.get(c) ?? []), lane.exits.cols.reason[i]]);
        }
        for (let x = 0; x < vp.width; x++) {
          const rs = byCol.get(x) ?? [];
          if (!rs.length) expect(cols.reason[x]).toBe(-1);
          else {
            const freq = (r: number) => rs.filter((q) => q === r).length;
            expect(freq(cols.reason[x])).toBe(Math.max(...rs.map(freq)));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

/** The plain reading of markColumns: every exit in view, one by one; the latest reason to reach a column's highest count wins. */
function naiveMarks(lane: Lane, vp: Viewport) {
  const count = new Uint32Array(vp.width);
  const reason = new Int32Array(vp.width).fill(-1);
  if (!(vp.t1 > vp.t0)) return { count, reason };
  const k = vp.width / (vp.t1 - vp.t0);
  const tallies = new Map<number, Map<number, number>>();
  for (let i = 0; i < lane.exits.n; i++) {
    const t = lane.exits.cols.t[i];
    if (t < vp.t0 || t >= vp.t1) continue;
    const c = Math.min(vp.width - 1, Math.floor((t - vp.t0) * k));
    const tally = tallies.get(c) ?? new Map<number, number>();
    tallies.set(c, tally);
    const r = lane.exits.cols.reason[i];
    count[c]++;
    if (!tally.has(r) && tally.size === 16) continue; // 16 reasons a column at most are told apart
    tally.set(r, (tally.get(r) ?? 0) + 1);
    if (tally.get(r)! >= Math.max(...tally.values())) reason[c] = r;
  }
  return { count, reason };
}

describe('markColumns on long runs of one reason, applied in batches as the page does', () => {
  it('gives what a scan of every exit gives', () => {
    // Reasons in runs (a busy vCPU repeats its exit), at times with many exits per column.
    const runArb = fc.array(fc.tuple(fc.constantFrom(1, 12, 30, 40, 48), fc.integer({ min: 1, max: 40 }), fc.nat(3)), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(runArb, fc.array(fc.nat(400), { maxLength: 6 }), fc.integer({ min: 1, max: 40 }), fc.nat(50), fc.nat(200), (runs, cuts, width, from, span) => {
        const events: TraceEvent[] = [];
        let t = 0;
        for (const [reason, length, dt] of runs) {
          for (let i = 0; i < length; i++) events.push({ kind: 'kvm_exit', t: (t += dt), vcpu: 0, exit: events.length, reason, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 });
        }
        const worker = new Timeline({ forgetSent: true });
        const page = new Timeline();
        const at = [...new Set(cuts.map((c) => c % (events.length + 1)))].sort((a, b) => a - b);
        const vp: Viewport = { t0: from, t1: from + span + 1, width };
        for (const [i, end] of [...at, events.length].entries()) {
          worker.append(events.slice(i ? at[i - 1] : 0, end));
          page.apply(worker.drain());
          const lane = page.lane(0);
          if (lane) expect(markColumns(lane, vp)).toEqual(naiveMarks(lane, vp));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('nearestExit', () => {
  it('finds the closest exit within reach of the pointer, as a scan would', () => {
    fc.assert(
      fc.property(laneArb, vpArb, fc.double({ min: 0, max: 300, noNaN: true }), fc.nat(8), ({ lane }, vp, x, slop) => {
        const k = vp.width / (vp.t1 - vp.t0);
        const t = vp.t0 + x / k;
        const got = nearestExit(lane, vp, x, slop);
        const dists = Array.from(lane.exits.cols.t.subarray(0, lane.exits.n), (te) => Math.abs((te - t) * k));
        const min = Math.min(...dists, Infinity);
        if (min <= slop) close(dists[got], min, 1e-9);
        else expect(got).toBe(-1);
      }),
      { numRuns: 300 },
    );
  });
});

describe('lowerBound', () => {
  it('finds the first element not below (or above) a value', () => {
    const col = Float64Array.from([1, 2, 2, 5]);
    expect([0, 1, 2, 3, 6].map((v) => lowerBound(col, 4, v))).toEqual([0, 0, 1, 3, 4]);
    expect([0, 1, 2, 5].map((v) => lowerBound(col, 4, v, true))).toEqual([0, 1, 3, 4]);
  });
});

describe('paintBand', () => {
  it('stacks each column\'s activities from the bottom, each as tall as its share', () => {
    const width = 2;
    const height = 10;
    const cover = new Float32Array(width * A);
    cover.set([0.3, 0, 0.7, 0, 0, 0], 0); // guest 30%, kvm 70%
    cover.set([0, 0, 0, 0, 0.5, 0], A); // half blocked, half nothing yet
    const colours = Uint32Array.from(ACTIVITIES, (_, i) => i + 1);
    const px = new Uint32Array(width * (height + 2));
    paintBand(px, width, 1, height, cover, width, colours);
    const column = (x: number) => Array.from({ length: height }, (_, y) => px[(1 + y) * width + x]);
    expect(column(0)).toEqual([3, 3, 3, 3, 3, 3, 3, 1, 1, 1]); // top to bottom: kvm over guest
    expect(column(1)).toEqual([0, 0, 0, 0, 0, 5, 5, 5, 5, 5]);
    expect([px[0], px[1], px[px.length - 1]]).toEqual([0, 0, 0]); // nothing outside the band
  });
});
