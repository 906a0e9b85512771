// From timeline lanes to pixels, without the DOM: which activity covers how much of each pixel
// column, which exits fall in each column, and which exit is under the pointer. The work per frame
// is bounded by what is visible plus the width in pixels, however many exits the run has, so that
// panning 100,000 exits costs about what panning 100 does.
import { ACTIVITIES, lowerBound, type Lane } from '../../../model/trace/timeline';

export { lowerBound };

const A = ACTIVITIES.length;

/** Visible time [t0, t1) spread over `width` pixel columns. */
export interface Viewport {
  t0: number;
  t1: number;
  width: number;
}

const pxPerNs = (vp: Viewport) => vp.width / (vp.t1 - vp.t0);

/**
 * How much of each pixel column each activity covers, as a fraction of the column:
 * `out[x * ACTIVITIES.length + a]`. The open span runs to `tEnd` (the timeline's latest event).
 * Few spans per column: each span is spread over its columns. Many (a long run seen whole): each
 * column is the difference of the lane's running totals at its edges, so the cost follows the
 * width, not the number of spans.
 */
export function activityCoverage(lane: Lane, tEnd: number, vp: Viewport, out: Float32Array = new Float32Array(vp.width * A)): Float32Array {
  out.fill(0, 0, vp.width * A);
  if (!(vp.t1 > vp.t0) || vp.width <= 0) return out;
  const { start, end, activity } = lane.spans.cols;
  const n = lane.spans.n;
  // Spans are ordered and disjoint, so those ending after t0 start at the lower bound of their ends.
  const first = lowerBound(end, n, vp.t0, true);
  if (lowerBound(start, n, vp.t1) - first <= vp.width * SPANS_PER_COLUMN) {
    for (let i = first; i < n && start[i] < vp.t1; i++) addSpan(out, vp, start[i], end[i], activity[i]);
    if (lane.open) addSpan(out, vp, lane.open.since, tEnd, lane.open.activity);
    return out;
  }
  const k = pxPerNs(vp);
  let before: Float64Array = lane.activityTime(vp.t0, tEnd, new Float64Array(A));
  let after: Float64Array = new Float64Array(A);
  for (let x = 0; x < vp.width; x++) {
    lane.activityTime(vp.t0 + (x + 1) / k, tEnd, after);
    for (let a = 0; a < A; a++) out[x * A + a] = (after[a] - before[a]) * k;
    [before, after] = [after, before];
  }
  return out;
}

/** Past this many spans per pixel column, coverage is read from running totals rather than span by span. */
const SPANS_PER_COLUMN = 8;

function addSpan(out: Float32Array, vp: Viewport, s: number, e: number, a: number): void {
  const k = pxPerNs(vp);
  const x0 = Math.max(0, (s - vp.t0) * k);
  const x1 = Math.min(vp.width, (e - vp.t0) * k);
  if (!(x1 > x0)) return;
  const c0 = Math.floor(x0);
  const c1 = Math.min(vp.width - 1, Math.floor(x1));
  if (c0 === c1) {
    out[c0 * A + a] += x1 - x0;
    return;
  }
  out[c0 * A + a] += c0 + 1 - x0;
  for (let c = c0 + 1; c < c1; c++) out[c * A + a] += 1;
  if (c1 * A + a < out.length) out[c1 * A + a] += x1 - c1;
}

/** Exits per pixel column, and the reason most of them had (the latest on a tie). */
export interface MarkColumns {
  count: Uint32Array;
  reason: Int32Array; // -1 where count is 0
}

/** Distinct reasons tallied per column; a column rarely holds more than a few. */
const TALLY = 16;

export function markColumns(lane: Lane, vp: Viewport, out?: MarkColumns): MarkColumns {
  const cols = out ?? { count: new Uint32Array(vp.width), reason: new Int32Array(vp.width) };
  cols.count.fill(0, 0, vp.width);
  cols.reason.fill(-1, 0, vp.width);
  if (!(vp.t1 > vp.t0) || vp.width <= 0) return cols;
  const { t, reason } = lane.exits.cols;
  const k = pxPerNs(vp);
  const column = (i: number) => Math.min(vp.width - 1, Math.floor((t[i] - vp.t0) * k));
  const end = lowerBound(t, lane.exits.n, vp.t1);
  const runs = lane.reasonRuns();
  // A linear tally beats a Map here: this loop runs for every column with exits, every frame.
  const tr = new Int32Array(TALLY);
  const tc = new Uint32Array(TALLY);
  // Column by column: its rows found by a binary search (the column of a row rises with it), then
  // tallied a run of one reason at a time, so a long run seen whole costs its columns and its
  // reason changes, not its exits. A run counts as its exits one by one would: the latest reason
  // to reach the highest count wins.
  const first = lowerBound(t, lane.exits.n, vp.t0);
  let run = lowerBound(runs.starts, runs.n, first, true) - 1; // the run holding row `first`
  for (let i = first; i < end; ) {
    const c = column(i);
    // Galloping first, so a column of few exits costs few steps.
    let lo = i + 1;
    let hi = lo;
    for (let step = 1; hi < end && column(hi) <= c; step *= 2) {
      lo = hi + 1;
      hi = Math.min(end, hi + step);
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (column(mid) > c) hi = mid;
      else lo = mid + 1;
    }
    cols.count[c] = lo - i;
    let kinds = 0;
    let best = 0;
    for (let at = i; at < lo; ) {
      while (run + 1 < runs.n && runs.starts[run + 1] <= at) run++;
      const until = Math.min(lo, run + 1 < runs.n ? runs.starts[run + 1] : lo);
      const r = reason[at];
      let j = 0;
      while (j < kinds && tr[j] !== r) j++;
      if (j === kinds && kinds < TALLY) {
        tr[kinds] = r;
        tc[kinds++] = 0;
      }
      if (j < kinds && (tc[j] += until - at) >= best) {
        best = tc[j];
        cols.reason[c] = r;
      }
      at = until;
    }
    i = lo;
  }
  return cols;
}

/** Exit rows of a lane at times in [t0, t1), or in [t0, t1] with `withEnd` (what a window shows). */
export function exitRange(lane: Lane, t0: number, t1: number, withEnd = false): [number, number] {
  const { t } = lane.exits.cols;
  const n = lane.exits.n;
  return [lowerBound(t, n, t0), lowerBound(t, n, t1, withEnd)];
}

/** The exit of this lane nearest to pixel x, if one is within `slop` pixels; else -1. */
export function nearestExit(lane: Lane, vp: Viewport, x: number, slop: number): number {
  if (!(vp.t1 > vp.t0)) return -1;
  const k = pxPerNs(vp);
  const t = vp.t0 + x / k;
  const col = lane.exits.cols.t;
  const i = lowerBound(col, lane.exits.n, t);
  let best = -1;
  let dist = slop;
  for (const j of [i - 1, i]) {
    if (j < 0 || j >= lane.exits.n) continue;
    const d = Math.abs((col[j] - t) * k);
    if (d <= dist) {
      best = j;
      dist = d;
    }
  }
  return best;
}

/** Time each activity covers in [t0, t1), in ns (for the text summary). */
export function activityTotals(lane: Lane, tEnd: number, t0: number, t1: number): Float64Array {
  const out = lane.activityTime(t1, tEnd, new Float64Array(A));
  const before = lane.activityTime(t0, tEnd, new Float64Array(A));
  for (let a = 0; a < A; a++) out[a] -= before[a];
  return out;
}

/**
 * Paints one lane's activity band into RGBA pixels (row-major, `stride` pixels per row): each
 * column stacks the activities in ACTIVITIES order, each as tall as its share of the column.
 */
export function paintBand(
  px: Uint32Array, stride: number, y0: number, height: number, cover: Float32Array, width: number, colours: Uint32Array,
): void {
  for (let x = 0; x < width; x++) {
    let acc = 0;
    let row = 0;
    for (let a = 0; a < A; a++) {
      const f = cover[x * A + a];
      if (f <= 0) continue;
      acc += f;
      const to = Math.min(height, Math.round(Math.min(1, acc) * height));
      const c = colours[a];
      for (let y = row; y < to; y++) px[(y0 + height - 1 - y) * stride + x] = c;
      row = to;
    }
  }
}
