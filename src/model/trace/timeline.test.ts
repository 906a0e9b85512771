import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TraceEvent, VcpuActivity } from './events';
import { ACTIVITIES, Table, Timeline, transferables, type Lane } from './timeline';

const act = (t: number, vcpu: number, activity: VcpuActivity): TraceEvent => ({ kind: 'activity', t, vcpu, activity });
const exit = (t: number, vcpu: number, n: number, reason = 12, rip = 0x1000n): TraceEvent =>
  ({ kind: 'kvm_exit', t, vcpu, exit: n, reason, rip, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 });
const entry = (t: number, vcpu: number): TraceEvent => ({ kind: 'kvm_entry', t, vcpu, rip: 0x1000n });
const uexit = (t: number, vcpu: number, reason: number, errno = 0): TraceEvent => ({ kind: 'kvm_userspace_exit', t, vcpu, reason, errno });

const code = (a: VcpuActivity) => ACTIVITIES.indexOf(a);
function spans(l: Lane) {
  const c = l.spans.cols;
  return Array.from({ length: l.spans.n }, (_, i) => [c.start[i], c.end[i], ACTIVITIES[c.activity[i]]]);
}
function marks(l: Lane) {
  const c = l.exits.cols;
  return Array.from({ length: l.exits.n }, (_, i) => ({
    t: c.t[i], exit: c.exit[i], reason: c.reason[i], rip: c.rip[i], qual: c.qual[i],
    tUser: c.tUser[i], tEntry: c.tEntry[i], kvmExit: c.kvmExit[i], errno: c.errno[i],
  }));
}
const sortedCounts = (m: Map<number, number>) => [...m].sort((a, b) => a[0] - b[0]);
function snapshot(tl: Timeline) {
  return {
    t0: tl.t0, t1: tl.t1,
    lanes: tl.lanes.map((l) => ({ vcpu: l.vcpu, spans: spans(l), marks: marks(l), open: l.open, last: l.last, reasons: sortedCounts(l.reasons) })),
  };
}

describe('Table', () => {
  it('keeps every row as it grows in place and past the room first reserved', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.double({ noNaN: true }), { maxLength: 40 }), { maxLength: 12 }), fc.integer({ min: 1, max: 8 }), (pieces, maxRows) => {
        const table = Table.of((c) => ({ x: new Float64Array(c), y: new Uint8Array(c) }), 2, maxRows);
        const want: number[] = [];
        for (const p of pieces) {
          table.splice(table.n, { x: Float64Array.from(p), y: Uint8Array.from(p, (v) => v & 0xff) });
          want.push(...p);
          expect([...table.cols.x.subarray(0, table.n)]).toEqual(want);
          expect([...table.cols.y.subarray(0, table.n)]).toEqual(want.map((v) => v & 0xff));
          expect(table.capacity).toBeGreaterThanOrEqual(table.n);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('Timeline reducer', () => {
  it('turns activity changes into spans and kvm_exit into marks with their times', () => {
    const tl = new Timeline();
    tl.append([
      act(0, 1, 'guest'), exit(100, 1, 0), act(100, 1, 'kvm'), act(130, 1, 'polling'), act(330, 1, 'blocked'),
      act(900, 1, 'kvm'), entry(950, 1), act(950, 1, 'guest'), exit(1000, 1, 1, 30, 0x2000n), act(1000, 1, 'kvm'),
      uexit(1040, 1, 2), act(1040, 1, 'userspace'),
    ]);
    const lane = tl.lane(1)!;
    expect(spans(lane)).toEqual([
      [0, 100, 'guest'], [100, 130, 'kvm'], [130, 330, 'polling'], [330, 900, 'blocked'], [900, 950, 'kvm'],
      [950, 1000, 'guest'], [1000, 1040, 'kvm'],
    ]);
    expect(lane.open).toEqual({ activity: code('userspace'), since: 1040 });
    expect(marks(lane)).toEqual([
      { t: 100, exit: 0, reason: 12, rip: 0x1000n, qual: 0n, tUser: NaN, tEntry: 950, kvmExit: -1, errno: 0 },
      { t: 1000, exit: 1, reason: 30, rip: 0x2000n, qual: 0n, tUser: 1040, tEntry: NaN, kvmExit: 2, errno: 0 },
    ]);
    expect([tl.t0, tl.t1, tl.exitCount]).toEqual([0, 1040, 2]);
    expect(lane.findExit(1)).toBe(1);
    expect(lane.findExit(2)).toBe(-1);
  });

  it('keeps lanes in vCPU order and ignores ioctl events', () => {
    const tl = new Timeline();
    tl.append([
      { kind: 'ioctl', t: 0, seq: 0, fd: 'vm', ioctl: 'KVM_CREATE_VCPU', args: {}, ret: 0, errno: null },
      act(0, 2, 'guest'), act(0, 0, 'guest'), act(5, 1, 'guest'),
    ]);
    expect(tl.lanes.map((l) => l.vcpu)).toEqual([0, 1, 2]);
  });

  it('joins the two sides of an activity that lasted no time', () => {
    const tl = new Timeline();
    tl.append([act(0, 0, 'guest'), act(10, 0, 'kvm'), act(20, 0, 'guest'), act(20, 0, 'kvm'), act(30, 0, 'guest')]);
    expect(spans(tl.lane(0)!)).toEqual([[0, 10, 'guest'], [10, 30, 'kvm']]);
  });

  it('ties only the first return to userspace to an exit', () => {
    const tl = new Timeline();
    tl.append([exit(10, 0, 0), uexit(20, 0, 5), uexit(30, 0, 10, 4)]);
    expect(marks(tl.lane(0)!)[0]).toMatchObject({ tUser: 20, kvmExit: 5, errno: 0, tEntry: NaN });
  });

  it('refuses a vCPU going back in time, and an unknown activity, with a clear message', () => {
    const tl = new Timeline();
    tl.append([act(10, 0, 'guest'), act(5, 1, 'guest')]); // another vCPU may be behind
    expect(() => tl.append([exit(9, 0, 0)])).toThrow('vCPU 0 kvm_exit at t=9 ns is before its previous event at t=10 ns');
    expect(() => tl.append([act(20, 0, 'napping' as VcpuActivity)])).toThrow('unknown activity "napping" on vCPU 0');
    expect(() => tl.append([act(NaN, 0, 'guest')])).toThrow('activity event with time NaN');
  });

  it('sends a reset after clear()', () => {
    const a = new Timeline();
    const b = new Timeline();
    a.append([act(0, 0, 'guest'), exit(5, 0, 0)]);
    b.apply(a.drain());
    a.clear();
    a.append([act(100, 3, 'kvm')]);
    b.apply(a.drain());
    expect(snapshot(b)).toEqual(snapshot(a));
    expect(b.lanes.map((l) => l.vcpu)).toEqual([3]);
  });

  it('rejects a delta that does not fit', () => {
    const a = new Timeline();
    a.append([act(0, 0, 'guest'), act(5, 0, 'kvm')]);
    const d = a.drain();
    d.lanes[0].spansFrom = 3;
    expect(() => new Timeline().apply(d)).toThrow('starts at row 3, past the 0 rows held');
  });

  it('lists every buffer of a delta for transfer, none shared with the reducer', () => {
    const a = new Timeline();
    a.append([act(0, 0, 'guest'), exit(5, 0, 0), act(5, 0, 'kvm'), act(0, 1, 'guest')]);
    const d = a.drain();
    const bufs = transferables(d);
    expect(bufs).toHaveLength(2 * (3 + 9));
    expect(new Set(bufs).size).toBe(bufs.length);
    expect(bufs).not.toContain(a.lanes[0].spans.cols.start.buffer);
  });
});

// A random but well-formed stream: each vCPU's events in time order, vCPUs interleaved at random.
const KINDS = ['activity', 'kvm_exit', 'kvm_entry', 'kvm_userspace_exit', 'inj_virq', 'halt_poll'] as const;
const laneArb = (vcpu: number) =>
  // Many steps take no time, so that zero-length activities (and their joins) are common.
  fc.array(fc.tuple(fc.constantFrom(...KINDS), fc.nat(60), fc.constantFrom(...ACTIVITIES.slice(0, 3), ...ACTIVITIES), fc.nat(64)), { maxLength: 60 }).map((steps) => {
    let t = 0;
    let n = 0;
    return steps.map(([kind, step, activity, reason]): TraceEvent => {
      const dt = Math.max(0, step - 20);
      t += dt;
      switch (kind) {
        case 'activity': return act(t, vcpu, activity);
        case 'kvm_exit': return exit(t, vcpu, n++, reason, BigInt(t) << 32n);
        case 'kvm_entry': return entry(t, vcpu);
        case 'kvm_userspace_exit': return uexit(t, vcpu, reason, reason & 1);
        case 'inj_virq': return { kind, t, vcpu, vector: reason, soft: false };
        case 'halt_poll': return { kind, t, vcpu, polled_ns: dt, success: true, grow: 0 };
      }
    });
  });
const streamArb = fc
  .tuple(laneArb(0), laneArb(1), laneArb(5), fc.array(fc.nat(2), { maxLength: 200 }))
  .map(([a, b, c, picks]) => {
    const queues = [a, b, c];
    const out: TraceEvent[] = [];
    let k = 0;
    while (queues.some((q) => q.length)) {
      const q = queues.filter((x) => x.length);
      out.push(q[(picks[k++] ?? 0) % q.length].shift()!);
    }
    return out;
  });
const cutsArb = fc.array(fc.nat(300), { maxLength: 12 });

/** The obvious, slow reading of the stream, for comparison. */
function reference(events: TraceEvent[]) {
  const byVcpu = new Map<number, TraceEvent[]>();
  for (const e of events) if (e.kind !== 'ioctl') byVcpu.set(e.vcpu, [...(byVcpu.get(e.vcpu) ?? []), e]);
  return [...byVcpu.keys()].sort((x, y) => x - y).map((vcpu) => {
    const evs = byVcpu.get(vcpu)!;
    const changes: [number, VcpuActivity][] = [];
    for (const e of evs) if (e.kind === 'activity' && changes.at(-1)?.[1] !== e.activity) changes.push([e.t, e.activity]);
    let sp: [number, number, VcpuActivity][] = [];
    changes.forEach(([t, a], i) => {
      if (i + 1 < changes.length && changes[i + 1][0] > t) sp.push([t, changes[i + 1][0], a]);
    });
    sp = sp.reduce<typeof sp>((acc, s) => {
      const p = acc.at(-1);
      if (p && p[2] === s[2] && p[1] === s[0]) p[1] = s[1];
      else acc.push([...s]);
      return acc;
    }, []);
    const last = changes.at(-1);
    // The open span starts where the last span of its activity ended, if that is where it begins.
    const openSince = last && sp.at(-1)?.[2] === last[1] && sp.at(-1)![1] === last[0] ? sp.pop()![0] : last?.[0];
    const mk: Record<string, unknown>[] = [];
    for (const e of evs) {
      const m = mk.at(-1) as { tUser: number; tEntry: number } | undefined;
      if (e.kind === 'kvm_exit') mk.push({ t: e.t, exit: e.exit, reason: e.reason, rip: e.rip, qual: e.info1, tUser: NaN, tEntry: NaN, kvmExit: -1, errno: 0 });
      else if (e.kind === 'kvm_entry' && m && Number.isNaN(m.tEntry)) m.tEntry = e.t;
      else if (e.kind === 'kvm_userspace_exit' && m && Number.isNaN(m.tEntry) && Number.isNaN(m.tUser)) Object.assign(m, { tUser: e.t, kvmExit: e.reason, errno: e.errno });
    }
    const reasons = new Map<number, number>();
    for (const m of mk) reasons.set(m.reason as number, (reasons.get(m.reason as number) ?? 0) + 1);
    return { vcpu, spans: sp, marks: mk, open: last ? { activity: code(last[1]), since: openSince } : null, last: evs.at(-1)!.t, reasons: sortedCounts(reasons) };
  });
}

function batches<T>(xs: T[], cuts: number[]): T[][] {
  const at = [...new Set(cuts.map((c) => c % (xs.length + 1)))].sort((a, b) => a - b);
  return [...at, xs.length].map((end, i) => xs.slice(i ? at[i - 1] : 0, end));
}

describe('Timeline reducer, on random streams', () => {
  it('agrees with a plain reading of the stream, however it is batched', () => {
    fc.assert(
      fc.property(streamArb, cutsArb, (events, cuts) => {
        const tl = new Timeline();
        for (const b of batches(events, cuts)) tl.append(b);
        const ts = events.map((e) => e.t);
        const snap = snapshot(tl);
        expect(snap.lanes).toEqual(reference(events));
        const all = new Map<number, number>();
        for (const e of events) if (e.kind === 'kvm_exit') all.set(e.reason, (all.get(e.reason) ?? 0) + 1);
        expect(sortedCounts(tl.reasonCounts())).toEqual(sortedCounts(all));
        expect([snap.t0, snap.t1]).toEqual(events.length ? [Math.min(...ts), Math.max(...ts)] : [Infinity, -Infinity]);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps spans ordered, contiguous and free of twins', () => {
    fc.assert(
      fc.property(streamArb, (events) => {
        const tl = new Timeline();
        tl.append(events);
        for (const l of tl.lanes) {
          const s = spans(l);
          s.forEach(([a, b, x], i) => {
            expect(b).toBeGreaterThan(a as number);
            if (i) expect([s[i - 1][1], s[i - 1][2] !== x]).toEqual([a, true]);
          });
          if (l.open && s.length) expect(s.at(-1)![1]).toBe(l.open.since);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('keeps each lane\'s running activity time right as its spans grow and are rewritten', () => {
    // Long lanes (past several checkpoints), batched, applied on a receiving side as the page does.
    const longArb = fc.array(fc.tuple(fc.nat(30), fc.constantFrom(...ACTIVITIES)), { maxLength: 400 }).map((steps) => {
      let t = 0;
      return steps.map(([dt, a]) => act((t += Math.max(0, dt - 10)), 0, a));
    });
    fc.assert(
      fc.property(longArb, cutsArb, fc.array(fc.nat(12_000), { minLength: 1, maxLength: 5 }), (events, cuts, times) => {
        const worker = new Timeline();
        const page = new Timeline();
        for (const b of batches(events, cuts)) {
          worker.append(b);
          page.apply(worker.drain());
          for (const tl of [worker, page]) {
            const lane = tl.lane(0);
            if (!lane) continue;
            const tEnd = tl.t1 + 5;
            for (const t of times) {
              const want = new Array(ACTIVITIES.length).fill(0);
              for (const [s0, s1, a] of spans(lane)) want[code(a as VcpuActivity)] += Math.max(0, Math.min(s1 as number, t) - (s0 as number));
              if (lane.open) want[lane.open.activity] += Math.max(0, Math.min(t, tEnd) - lane.open.since);
              expect([...lane.activityTime(t, tEnd, new Float64Array(ACTIVITIES.length))]).toEqual(want);
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('takes a span rejoined after an activity that lasted no time out of the running totals', () => {
    // 32 spans (a whole number of checkpoints' worth), read; the last one rejoined with the open span; then more.
    const flips = Array.from({ length: 33 }, (_, i) => act(i * 10, 0, i % 2 ? 'kvm' : 'guest'));
    for (const side of ['worker', 'page'] as const) {
      const worker = new Timeline();
      const page = new Timeline();
      const tl = side === 'worker' ? worker : page;
      worker.append(flips);
      page.apply(worker.drain());
      const total = () => [...tl.lane(0)!.activityTime(1000, 1000, new Float64Array(ACTIVITIES.length))].slice(0, 3);
      expect(total()).toEqual([160 + 680, 0, 160]); // guest 16 × 10 ns and open since 320; kvm 16 × 10 ns
      worker.append([act(320, 0, 'kvm')]); // guest for no time: kvm since 310 again
      page.apply(worker.drain());
      expect(total()).toEqual([160, 0, 150 + 690]);
      worker.append([act(400, 0, 'guest'), act(410, 0, 'kvm')]); // past the checkpoint again
      page.apply(worker.drain());
      expect(total()).toEqual([170, 0, 150 + 90 + 590]);
    }
  });

  it('rebuilds the same timeline on the receiving side from its deltas', () => {
    fc.assert(
      fc.property(streamArb, cutsArb, (events, cuts) => {
        const worker = new Timeline();
        const forgetful = new Timeline({ forgetSent: true });
        const page = new Timeline();
        const fromForgetful = new Timeline();
        for (const b of batches(events, cuts)) {
          worker.append(b);
          forgetful.append(b);
          const d = worker.drain();
          const copy = structuredClone(d, { transfer: transferables(d) }); // as postMessage does
          page.apply(copy);
          expect(snapshot(page)).toEqual(snapshot(worker));
          fromForgetful.apply(forgetful.drain());
          expect(snapshot(fromForgetful)).toEqual(snapshot(worker));
          // It holds the last span and an exit still waiting for its entry, no more.
          for (const l of forgetful.lanes) expect([l.spans.n <= 1, l.exits.n <= 1]).toEqual([true, true]);
        }
        expect(sortedCounts(forgetful.reasonCounts())).toEqual(sortedCounts(worker.reasonCounts()));
      }),
      { numRuns: 200 },
    );
  });
});
