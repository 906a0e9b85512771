// The timeline's data: a DOM-free reducer from the event stream to one lane per vCPU, each lane a
// run of activity spans (what the vCPU thread was doing, KernelShark-style) and a list of exit
// marks, kept as columnar typed arrays. The worker reduces events as the model emits them and
// sends the views only what changed (`drain()` → `TimelineDelta`, whose buffers can be transferred);
// the page applies the deltas (`apply()`) to its own copy. Nothing here is computed from kernel
// rules: every span and mark is an event the model emitted.
import type { TraceEvent, VcpuActivity } from './events';

/** Activity codes, in the order the views stack and list them. */
export const ACTIVITIES: readonly VcpuActivity[] = ['guest', 'guest_halted', 'kvm', 'polling', 'blocked', 'userspace'];
const ACTIVITY_CODE = new Map(ACTIVITIES.map((a, i) => [a, i]));

type Typed = Float64Array | Uint32Array | Uint16Array | Uint8Array | Int16Array | BigUint64Array;
type Schema = Record<string, Typed>;

/** Closed spans [start, end) of one activity; consecutive spans of a lane never share an activity. */
export interface SpanColumns extends Schema {
  start: Float64Array;
  end: Float64Array;
  activity: Uint8Array; // index into ACTIVITIES
}

/** One mark per kvm_exit. Times are virtual ns; NaN where the event has not happened (yet). */
export interface ExitColumns extends Schema {
  t: Float64Array; // kvm_exit
  exit: Uint32Array; // the vCPU's exit number (events.ts), for "exit #7 on vCPU 1"
  reason: Uint16Array; // VMX basic exit reason
  rip: BigUint64Array;
  qual: BigUint64Array; // exit qualification (info1)
  tUser: Float64Array; // kvm_userspace_exit before the next entry: KVM_RUN returned after this exit
  tEntry: Float64Array; // the next kvm_entry of this vCPU
  kvmExit: Int16Array; // run->exit_reason userspace saw, or -1 when KVM_RUN did not return
  errno: Uint16Array; // KVM_RUN's errno when it failed, else 0
}

/** A typed array type, to make one of a size or over a buffer. */
type TypedClass = { new (n: number): Typed; new (buffer: ArrayBuffer): Typed; readonly BYTES_PER_ELEMENT: number };

/** The ES2024 resizable ArrayBuffer (the lib this project builds against predates its types). */
interface Resizable extends ArrayBuffer {
  resize(byteLength: number): void;
  readonly maxByteLength: number;
}
const Growable = ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => Resizable;

/** Rows a column's buffer can first grow to in place; past that it moves to one GROW_STEP times as large. */
const FIRST_MAX_ROWS = 1 << 20;
const GROW_STEP = 16;

/** A typed array of `rows` rows over a resizable buffer with room for `maxRows` (at least `rows`), tracking its length. */
function growable(C: TypedClass, rows: number, maxRows: number): Typed {
  return new C(new Growable(rows * C.BYTES_PER_ELEMENT, { maxByteLength: Math.max(rows, maxRows) * C.BYTES_PER_ELEMENT }));
}

/**
 * A growable struct of typed arrays; `n` rows are valid, the arrays may be longer. Each column views
 * a resizable buffer and tracks its length, so it grows in place (no copy) up to the buffer's
 * maximum, and is copied only when it outgrows that, into a buffer with 16 times the room: a lane
 * of millions of rows is copied twice, not at every doubling (each such copy was a long frame).
 * The room is address space, reserved; only what the rows use is committed.
 */
export class Table<S extends Schema> {
  n = 0;
  constructor(public cols: S) {}

  /** `make` gives the columns' types (their sizes do not matter); `maxRows`: the room first reserved. */
  static of<S extends Schema>(make: (capacity: number) => S, capacity = 64, maxRows = FIRST_MAX_ROWS): Table<S> {
    const cols = {} as Record<string, Typed>;
    const kinds = make(0);
    for (const k in kinds) cols[k] = growable(kinds[k].constructor as unknown as TypedClass, capacity, maxRows);
    return new Table(cols as S);
  }

  get capacity(): number {
    for (const k in this.cols) return this.cols[k].length;
    return 0;
  }

  /** Makes room for `n` rows, at least doubling, so appends are amortised O(1). */
  reserve(n: number): void {
    const cap = this.capacity;
    if (n <= cap) return;
    const next = Math.max(n, cap * 2, 16);
    for (const k in this.cols) {
      const col = this.cols[k];
      const buffer = col.buffer as Resizable;
      const bytes = next * col.BYTES_PER_ELEMENT;
      if (bytes <= buffer.maxByteLength) buffer.resize(bytes);
      else {
        const moved = growable(col.constructor as unknown as TypedClass, next, (buffer.maxByteLength / col.BYTES_PER_ELEMENT) * GROW_STEP);
        (moved as Float64Array).set(col as Float64Array);
        this.cols[k] = moved as S[typeof k];
      }
    }
  }

  /** Forgets rows [0, k): row k becomes row 0. The capacity stays (the next batch reuses it). */
  dropFront(k: number): void {
    if (k <= 0) return;
    for (const key in this.cols) this.cols[key].copyWithin(0, k, this.n);
    this.n -= k;
  }

  /** Copies of rows [from, n): fresh buffers, safe to transfer. */
  slice(from: number): S {
    const out = {} as Record<string, Typed>;
    for (const k in this.cols) out[k] = this.cols[k].slice(from, this.n);
    return out as S;
  }

  /** Drops rows from `from` on and appends `rows` (as made by `slice`) in their place. */
  splice(from: number, rows: S): void {
    if (from > this.n) throw new RangeError(`timeline delta starts at row ${from}, past the ${this.n} rows held`);
    let count = -1;
    for (const k in rows) {
      if (count >= 0 && rows[k].length !== count) throw new RangeError(`timeline delta column ${k} has ${rows[k].length} rows, not ${count}`);
      count = rows[k].length;
    }
    count = Math.max(count, 0);
    this.reserve(from + count);
    for (const k in this.cols) {
      const src = rows[k];
      if (!src) throw new RangeError(`timeline delta lacks column ${k}`);
      (this.cols[k] as Float64Array).set(src as Float64Array, from);
    }
    this.n = from + count;
  }
}

const spanTable = () => Table.of<SpanColumns>((c) => ({ start: new Float64Array(c), end: new Float64Array(c), activity: new Uint8Array(c) }));
const exitTable = () =>
  Table.of<ExitColumns>((c) => ({
    t: new Float64Array(c), exit: new Uint32Array(c), reason: new Uint16Array(c), rip: new BigUint64Array(c),
    qual: new BigUint64Array(c), tUser: new Float64Array(c), tEntry: new Float64Array(c), kvmExit: new Int16Array(c),
    errno: new Uint16Array(c),
  }));

/** First index in sorted `col[0..n)` whose value is ≥ v (or > v when `after`). */
export function lowerBound(col: ArrayLike<number>, n: number, v: number, after = false): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (col[mid] < v || (after && col[mid] === v)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Spans per checkpoint of a lane's running activity totals: a total reads at most this many spans
 *  past one (the timeline's band, per pixel column of a long run seen whole: 8 costs a third of 32). */
const SPAN_BLOCK = 8;

/** The activity a lane is in now, since when: the span still open at the end of the data. */
export interface OpenSpan {
  activity: number;
  since: number;
}

export class Lane {
  readonly spans = spanTable();
  readonly exits = exitTable();
  /** Rows of each table forgotten by a sender (`Timeline({ forgetSent })`): local row i is row base + i of the lane. */
  spansBase = 0;
  exitsBase = 0;
  open: OpenSpan | null = null;
  /** Latest event time on this lane: a vCPU's events never go back in time. */
  last = -Infinity;
  /** Rows below these were sent by drain() in their final form; the rest must be (re)sent. */
  spansFinal = 0;
  exitsFinal = 0;
  /** An event arrived since the previous drain. */
  dirty = true;
  /** Exits per basic reason (the legend's counts), kept as rows come and go. */
  readonly reasons = new Map<number, number>();
  /**
   * Running totals for `activityTime`: checkpoint c holds the time each activity covered in spans
   * [0, c × SPAN_BLOCK), ACTIVITIES.length numbers per checkpoint; the first `checkpoints` are right.
   */
  private readonly totals = Table.of((c) => ({ cum: new Float64Array(c) }), ACTIVITIES.length * 64);
  private checkpoints = 1;
  /** Rows where the exit reason differs from the row before (row 0 included); the first `runCount` are right. */
  private runStarts = new Uint32Array(64);
  private runCount = 0;
  /** Exit rows [0, runsUpTo) are indexed in `runStarts`. */
  private runsUpTo = 0;
  constructor(readonly vcpu: number) {}

  /** Exit rows from `from` on were replaced or added: the reason runs past them are stale. */
  exitsChanged(from: number): void {
    if (from >= this.runsUpTo) return;
    this.runsUpTo = from;
    this.runCount = lowerBound(this.runStarts, this.runCount, from);
  }

  /**
   * Where each run of one exit reason starts (rows, rising; the first `n` of `starts`), indexed as
   * rows come: a busy lane repeats its reasons, so the marks of a long run seen whole are tallied
   * run by run, not exit by exit.
   */
  reasonRuns(): { starts: Uint32Array; n: number } {
    const { reason } = this.exits.cols;
    const n = this.exits.n;
    for (let i = this.runsUpTo; i < n; i++) {
      if (i > 0 && reason[i] === reason[i - 1]) continue;
      if (this.runCount === this.runStarts.length) {
        const grown = new Uint32Array(this.runStarts.length * 2);
        grown.set(this.runStarts);
        this.runStarts = grown;
      }
      this.runStarts[this.runCount++] = i;
    }
    this.runsUpTo = n;
    return { starts: this.runStarts, n: this.runCount };
  }

  /** Span rows from `from` on were replaced or added: the totals past them are stale. */
  spansChanged(from: number): void {
    this.checkpoints = Math.min(this.checkpoints, Math.floor(from / SPAN_BLOCK) + 1);
  }

  /**
   * Time each activity covered before `t`, into `out` (one number per ACTIVITIES entry), the open
   * span running to `tEnd`. Reads at most SPAN_BLOCK spans past a checkpoint, so totals over any
   * window cost about the same however many spans it holds (the timeline's full view of a long run).
   */
  activityTime(t: number, tEnd: number, out: Float64Array): Float64Array {
    const A = ACTIVITIES.length;
    const { start, end, activity } = this.spans.cols;
    const n = this.spans.n;
    const i = lowerBound(end, n, t, true); // spans [0, i) end by t
    const c = Math.floor(i / SPAN_BLOCK);
    this.checkpointTo(c);
    out.set(this.totals.cols.cum.subarray(c * A, c * A + A));
    for (let j = c * SPAN_BLOCK; j < i; j++) out[activity[j]] += end[j] - start[j];
    if (i < n && start[i] < t) out[activity[i]] += t - start[i];
    const open = this.open;
    if (open && Math.min(t, tEnd) > open.since) out[open.activity] += Math.min(t, tEnd) - open.since;
    return out;
  }

  private checkpointTo(c: number): void {
    const A = ACTIVITIES.length;
    if (c < this.checkpoints) return;
    this.totals.reserve((c + 1) * A);
    const cum = this.totals.cols.cum;
    const { start, end, activity } = this.spans.cols;
    for (let k = this.checkpoints; k <= c; k++) {
      cum.copyWithin(k * A, (k - 1) * A, k * A);
      for (let j = (k - 1) * SPAN_BLOCK; j < k * SPAN_BLOCK; j++) cum[k * A + activity[j]] += end[j] - start[j];
    }
    this.checkpoints = c + 1;
  }

  /** Counts rows [from, to) of the exit table into `reasons` (`sign` −1: out of it). */
  tallyReasons(from: number, to: number, sign: 1 | -1): void {
    const col = this.exits.cols.reason;
    // A run of one reason is counted at once: a busy lane repeats its reasons (one map update, not 10,000).
    for (let i = from; i < to; ) {
      const r = col[i];
      let j = i + 1;
      while (j < to && col[j] === r) j++;
      const n = (this.reasons.get(r) ?? 0) + sign * (j - i);
      if (n) this.reasons.set(r, n);
      else this.reasons.delete(r);
      i = j;
    }
  }

  /**
   * Forgets the rows drained in their final form, keeping what the reducer may still read: the
   * last span (an activity that lasts no time rejoins it) and the exit still waiting for its entry.
   */
  forgetSent(): void {
    const spans = Math.max(0, this.spansFinal - 1);
    this.spans.dropFront(spans);
    this.spansBase += spans;
    this.spansFinal -= spans;
    this.spansChanged(0);
    const exits = this.exitsFinal;
    this.exits.dropFront(exits);
    this.exitsBase += exits;
    this.exitsChanged(0);
    this.exitsFinal = 0;
  }

  /** Row of this lane's exit number `exit`, or -1. Exit numbers rise along the lane. */
  findExit(exit: number): number {
    const col = this.exits.cols.exit;
    const lo = lowerBound(col, this.exits.n, exit);
    return lo < this.exits.n && col[lo] === exit ? lo : -1;
  }

  /** Rows that can no longer change: all but the last exit while the vCPU has not re-entered after it. */
  finalExits(): number {
    const n = this.exits.n;
    return n > 0 && Number.isNaN(this.exits.cols.tEntry[n - 1]) ? n - 1 : n;
  }
}

/** What changed on one lane since the previous drain. Rows from `spansFrom`/`exitsFrom` replace the receiver's. */
export interface LaneDelta {
  vcpu: number;
  spansFrom: number;
  spans: SpanColumns;
  exitsFrom: number;
  exits: ExitColumns;
  open: OpenSpan | null;
  last: number;
}

export interface TimelineDelta {
  /** The receiver drops everything it holds first (after `clear()`, e.g. a reset or a step back). */
  reset: boolean;
  t0: number;
  t1: number;
  lanes: LaneDelta[];
}

/** The buffers of a delta, for postMessage's transfer list. */
export function transferables(d: TimelineDelta): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const l of d.lanes) for (const cols of [l.spans, l.exits] as Schema[]) for (const k in cols) out.push(cols[k].buffer as ArrayBuffer);
  return out;
}

export class Timeline {
  /** Lanes in vCPU id order. */
  readonly lanes: Lane[] = [];
  /**
   * A sender (the worker's reducer) forgets each row once drained in its final form, so that its
   * work and memory per batch stay the size of the batch, however long the run: no table of
   * millions of rows to grow. Its lanes then hold only the rows still to send (and the totals,
   * `exitCount` and `activityTime` cover only those); `reasonCounts` stays whole.
   */
  constructor(private readonly opts: { forgetSent?: boolean } = {}) {}
  /** Time of the first and the latest event seen; open spans are drawn up to t1. */
  t0 = Infinity;
  t1 = -Infinity;
  /** Bumped on every change, so a view can tell that it must redraw. */
  version = 0;
  private reset = false;

  get exitCount(): number {
    let n = 0;
    for (const l of this.lanes) n += l.exits.n;
    return n;
  }

  /** Exits per basic reason over all lanes. */
  reasonCounts(): Map<number, number> {
    const out = new Map<number, number>();
    for (const l of this.lanes) for (const [r, n] of l.reasons) out.set(r, (out.get(r) ?? 0) + n);
    return out;
  }

  get empty(): boolean {
    return this.t1 < this.t0;
  }

  lane(vcpu: number): Lane | undefined {
    return this.lanes.find((l) => l.vcpu === vcpu);
  }

  private laneFor(vcpu: number): Lane {
    let i = 0;
    while (i < this.lanes.length && this.lanes[i].vcpu < vcpu) i++;
    if (this.lanes[i]?.vcpu === vcpu) return this.lanes[i];
    const lane = new Lane(vcpu);
    this.lanes.splice(i, 0, lane);
    return lane;
  }

  /** Forgets everything; the next drain tells the receiver to do the same. */
  clear(): void {
    this.lanes.length = 0;
    this.t0 = Infinity;
    this.t1 = -Infinity;
    this.reset = true;
    this.version++;
  }

  /** Reduces a batch of events, in the order the model emitted them. */
  append(events: readonly TraceEvent[]): void {
    for (const e of events) {
      if (e.kind === 'ioctl') continue; // not a vCPU-thread event; the ioctl log shows these
      if (!Number.isFinite(e.t)) throw new RangeError(`timeline: ${e.kind} event with time ${e.t}`);
      const lane = this.laneFor(e.vcpu);
      if (e.t < lane.last) throw new RangeError(`timeline: vCPU ${e.vcpu} ${e.kind} at t=${e.t} ns is before its previous event at t=${lane.last} ns`);
      lane.last = e.t;
      lane.dirty = true;
      if (e.t < this.t0) this.t0 = e.t;
      if (e.t > this.t1) this.t1 = e.t;
      switch (e.kind) {
        case 'activity':
          setActivity(lane, e.t, e.activity);
          break;
        case 'kvm_exit': {
          const x = lane.exits;
          const i = x.n;
          x.reserve(i + 1);
          const c = x.cols;
          c.t[i] = e.t;
          c.exit[i] = e.exit;
          c.reason[i] = e.reason;
          c.rip[i] = e.rip;
          c.qual[i] = e.info1;
          c.tUser[i] = NaN;
          c.tEntry[i] = NaN;
          c.kvmExit[i] = -1;
          c.errno[i] = 0;
          x.n = i + 1;
          lane.tallyReasons(i, i + 1, 1);
          break;
        }
        case 'kvm_userspace_exit': {
          const i = lane.exits.n - 1;
          const c = lane.exits.cols;
          // Only the first return after an exit belongs to it; later KVM_RUNs that return before
          // entering the guest (e.g. a signal) stay off the mark.
          if (i >= 0 && Number.isNaN(c.tEntry[i]) && Number.isNaN(c.tUser[i])) {
            c.tUser[i] = e.t;
            c.kvmExit[i] = e.reason;
            c.errno[i] = e.errno;
          }
          break;
        }
        case 'kvm_entry': {
          const i = lane.exits.n - 1;
          if (i >= 0 && Number.isNaN(lane.exits.cols.tEntry[i])) lane.exits.cols.tEntry[i] = e.t;
          break;
        }
        case 'inj_virq':
        case 'halt_poll':
          break; // shown by narration and the call chain; the activity events already mark polling
      }
    }
    if (events.length) this.version++;
  }

  /** Everything that changed since the previous drain (or all of it after `clear()`). */
  drain(): TimelineDelta {
    const lanes: LaneDelta[] = [];
    for (const l of this.lanes) {
      if (!l.dirty) continue;
      lanes.push({
        vcpu: l.vcpu, spansFrom: l.spansBase + l.spansFinal, spans: l.spans.slice(l.spansFinal), exitsFrom: l.exitsBase + l.exitsFinal,
        exits: l.exits.slice(l.exitsFinal), open: l.open && { ...l.open }, last: l.last,
      });
      l.spansFinal = l.spans.n;
      l.exitsFinal = l.finalExits();
      l.dirty = false;
      if (this.opts.forgetSent) l.forgetSent();
    }
    const d: TimelineDelta = { reset: this.reset, t0: this.t0, t1: this.t1, lanes };
    this.reset = false;
    return d;
  }

  /** Applies a delta drained from another Timeline (the worker's). */
  apply(d: TimelineDelta): void {
    if (d.reset) {
      this.lanes.length = 0;
      this.t0 = Infinity;
      this.t1 = -Infinity;
    }
    for (const ld of d.lanes) {
      const lane = this.laneFor(ld.vcpu);
      lane.spans.splice(ld.spansFrom, ld.spans);
      lane.spansChanged(ld.spansFrom);
      lane.tallyReasons(Math.min(ld.exitsFrom, lane.exits.n), lane.exits.n, -1);
      lane.exits.splice(ld.exitsFrom, ld.exits);
      lane.exitsChanged(ld.exitsFrom);
      lane.tallyReasons(ld.exitsFrom, lane.exits.n, 1);
      lane.open = ld.open;
      lane.last = ld.last;
    }
    this.t0 = d.t0;
    this.t1 = d.t1;
    this.version++;
  }
}

function setActivity(lane: Lane, t: number, activity: VcpuActivity): void {
  const code = ACTIVITY_CODE.get(activity);
  if (code === undefined) throw new RangeError(`timeline: unknown activity ${JSON.stringify(activity)} on vCPU ${lane.vcpu}`);
  const open = lane.open;
  if (open && open.activity === code) return;
  const s = lane.spans;
  const i = s.n;
  if (open && t > open.since) {
    s.reserve(i + 1);
    s.cols.start[i] = open.since;
    s.cols.end[i] = t;
    s.cols.activity[i] = open.activity;
    s.n = i + 1;
  } else if (i > 0 && s.cols.activity[i - 1] === code && s.cols.end[i - 1] === t) {
    // The activity in between lasted no time: reopen the span before it rather than start a twin.
    lane.open = { activity: code, since: s.cols.start[i - 1] };
    s.n = i - 1;
    lane.spansFinal = Math.min(lane.spansFinal, s.n);
    lane.spansChanged(s.n);
    return;
  }
  lane.open = { activity: code, since: t };
}
