// The compact event log gives back exactly the events recorded, as TraceEvent objects, in order,
// whether it keeps them as objects (list) or as records read from a position (read), and a mark put
// back gives the events and counts of its moment.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { TraceEvent } from './events';
import { ACTIVITIES, EventLog } from './log';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const t = fc.double({ min: 0, max: 1e12, noNaN: true });
const vcpu = fc.integer({ min: 0, max: 63 });

/** One recording call, and the objects it must come back as. */
type Rec = { call: (log: EventLog) => void; events: TraceEvent[] };
const rec: fc.Arbitrary<Rec> = fc.oneof(
  fc.tuple(t, vcpu, u32, u32).map(([t, v, lo, hi]): Rec => ({
    call: (l) => l.kvmEntry(t, v, lo, hi), events: [{ kind: 'kvm_entry', t, vcpu: v, rip: (BigInt(hi) << 32n) | BigInt(lo) }],
  })),
  fc.tuple(t, vcpu, u32).map(([t, v, lo]): Rec => ({
    call: (l) => l.kvmEntry(t, v, lo, 0, true),
    events: [{ kind: 'kvm_entry', t, vcpu: v, rip: BigInt(lo) }, { kind: 'activity', t, vcpu: v, activity: 'guest' }],
  })),
  fc.tuple(t, vcpu, fc.nat(), fc.integer({ min: 0, max: 0xffff }), u32, u32, fc.maxSafeNat(), u32, u32, fc.boolean()).map(([t, v, exit, reason, lo, hi, q, ii, ec, kvm]): Rec => ({
    call: (l) => l.kvmExit(t, v, exit, reason, lo, hi, q, ii, ec, kvm),
    events: [
      { kind: 'kvm_exit', t, vcpu: v, exit, reason, rip: (BigInt(hi) << 32n) | BigInt(lo), info1: BigInt(q), info2: BigInt(ii), intrInfo: ii, errorCode: ec },
      ...(kvm ? [{ kind: 'activity' as const, t, vcpu: v, activity: 'kvm' as const }] : []),
    ],
  })),
  fc.tuple(t, vcpu, fc.constantFrom(...ACTIVITIES)).map(([t, v, a]): Rec => ({ call: (l) => l.activity(t, v, a), events: [{ kind: 'activity', t, vcpu: v, activity: a }] })),
  fc.tuple(t, vcpu, fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([t, v, vector, soft]): Rec => ({
    call: (l) => l.injVirq(t, v, vector, soft), events: [{ kind: 'inj_virq', t, vcpu: v, vector, soft }],
  })),
  fc.tuple(t, vcpu, t, fc.boolean(), fc.nat()).map(([t, v, polled, success, grow]): Rec => ({
    call: (l) => l.haltPoll(t, v, polled, success, grow), events: [{ kind: 'halt_poll', t, vcpu: v, polled_ns: polled, success, grow }],
  })),
  fc.tuple(t, vcpu, fc.nat(40), fc.nat(133)).map(([t, v, reason, errno]): Rec => ({
    call: (l) => l.userspaceExit(t, v, reason, errno), events: [{ kind: 'kvm_userspace_exit', t, vcpu: v, reason, errno }],
  })),
  fc.tuple(t, fc.nat()).map(([t, seq]): Rec => {
    const event: TraceEvent = { kind: 'ioctl', t, seq, fd: 'vm', ioctl: 'KVM_CHECK_EXTENSION', args: { cap: 143 }, ret: 15, errno: null };
    return { call: (l) => l.emit(event), events: [event] };
  }),
);

describe('EventLog', () => {
  test('property: reading the list between any recordings gives every event, in order, as its object', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(rec, fc.nat(9).map((k) => k === 0)), { maxLength: 40 }), (recs) => {
        const log = new EventLog(true, 1, 2); // small chunks: the recordings cross several
        const seen: TraceEvent[] = [];
        for (const [r, read] of recs) {
          r.call(log);
          seen.push(...r.events);
          if (read) expect(log.list).toEqual(seen);
        }
        expect(log.list).toEqual(seen);
      }),
      { numRuns: 100 },
    );
  });

  test('one array throughout, growing past its first buffer; RIPs below 2^53 share their BigInt', () => {
    const log = new EventLog(true);
    const list = log.list;
    for (let i = 0; i < 5000; i++) log.kvmEntry(i, 0, 0x10000 + (i % 3), 0);
    expect(log.list).toBe(list);
    expect(list.map((e) => e.t)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(list[3]).toMatchObject({ kind: 'kvm_entry', t: 3, rip: 0x10000n });
    expect((list[0] as { rip: bigint }).rip).toBe((list[3] as { rip: bigint }).rip);
  });

  test('the exit path\'s clocks (cycles) read as ns, as vcpu.t computes them; an object keeps its own t', () => {
    const ghz = 2.6;
    const log = new EventLog(true, ghz);
    log.kvmEntry(1001, 0, 0x1000, 0);
    log.haltPoll(5003, 1, 777, true, 10_000);
    const ioctl: TraceEvent = { kind: 'ioctl', t: 12.5, seq: 1, fd: 'vm', ioctl: 'KVM_CHECK_EXTENSION', args: {}, ret: 0, errno: null };
    log.emit(ioctl);
    expect(log.list).toEqual([
      { kind: 'kvm_entry', t: 1001 / ghz, vcpu: 0, rip: 0x1000n },
      { kind: 'halt_poll', t: 5003 / ghz, vcpu: 1, polled_ns: 777 / ghz, success: true, grow: 10_000 },
      ioctl,
    ]);
  });

  test('property: a log keeping records gives every event from any position, in pieces of any size, as the list does', () => {
    fc.assert(
      fc.property(fc.array(rec, { maxLength: 40 }), fc.integer({ min: 1, max: 30 }), (recs, limit) => {
        const records = new EventLog(true, 1, 2, 'records');
        const objects = new EventLog(true, 1, 2);
        const positions: number[] = [];
        for (const r of recs) {
          positions.push(records.position);
          r.call(records);
          r.call(objects);
        }
        const read: TraceEvent[] = [];
        for (let at = 0, pieces = 0; at < records.position; pieces++) {
          const piece = records.read(at, limit);
          expect(piece.next).toBeGreaterThan(at); // a record begun before the limit is read whole
          read.push(...piece.events);
          at = piece.next;
          expect(pieces).toBeLessThan(recs.length);
        }
        expect(read).toEqual(objects.list);
        // From the position of any recording: its events and those after it.
        recs.forEach((_, i) => expect(records.read(positions[i]).events).toEqual(recs.slice(i).flatMap((r) => r.events)));
        expect(records.read(records.position)).toEqual({ events: [], next: records.position });
      }),
      { numRuns: 100 },
    );
  });

  test('property: a mark restored, into its own log or another, gives the events and counts of its moment, for either keeping', () => {
    const counts = (l: EventLog, vcpus: number[]) => ({ latest: l.latestToExit(vcpus), returns: vcpus.map((v) => l.returnsOf(v)) });
    const events = (l: EventLog) => (l.keeping === 'objects' ? l.list : l.read(0).events);
    fc.assert(
      fc.property(fc.array(rec, { maxLength: 30 }), fc.array(rec, { maxLength: 30 }), fc.array(rec, { maxLength: 10 }), fc.constantFrom('objects' as const, 'records' as const), (before, after, again, keeping) => {
        const vcpus = Array.from({ length: 64 }, (_, i) => i);
        const log = new EventLog(true, 1, 2, keeping);
        before.forEach((r) => r.call(log));
        const mark = log.mark();
        const at = { events: [...events(log)], counts: counts(log, vcpus) };
        after.forEach((r) => r.call(log));
        const other = new EventLog(true, 1, 2, keeping);
        other.restore(mark);
        log.restore(mark);
        for (const l of [log, other]) expect({ events: events(l), counts: counts(l, vcpus) }).toEqual(at);
        // Recording goes on from the mark, and the mark stays good for another restore.
        again.forEach((r) => r.call(log));
        other.restore(mark);
        expect(events(other)).toEqual(at.events);
      }),
      { numRuns: 100 },
    );
  });

  test('property: a log in chunks of any size gives, from each position, the events of a log in one chunk (no growth crosses a chunk)', () => {
    fc.assert(
      fc.property(fc.array(rec, { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), (recs, chunk) => {
        const chunked = new EventLog(true, 1, chunk, 'records');
        const whole = new EventLog(true, 1, 1 << 20, 'records');
        const at: [number, number][] = [];
        for (const r of recs) {
          at.push([chunked.position, whole.position]);
          r.call(chunked);
          r.call(whole);
        }
        for (const [c, w] of at) expect(chunked.read(c).events).toEqual(whole.read(w).events);
      }),
      { numRuns: 100 },
    );
  });

  test('a mark is restored only into a log of chunks of its size', () => {
    expect(() => new EventLog(true, 1, 3, 'records').restore(new EventLog(true, 1, 2, 'records').mark())).toThrow(/24-word chunks restored into one of 36/);
  });

  test('the latest vCPU to exit among some, and the KVM_RUN returns of each', () => {
    const log = new EventLog(true, 1, 2, 'records');
    expect(log.latestToExit([0, 1])).toBeUndefined();
    log.kvmExit(1, 1, 0, 30, 0, 0, 0, 0, 0);
    log.kvmExit(2, 0, 0, 30, 0, 0, 0, 0, 0);
    log.userspaceExit(3, 0, 2, 0);
    log.kvmExit(4, 2, 0, 12, 0, 0, 0, 0, 0);
    expect([log.latestToExit([0, 1]), log.latestToExit([1]), log.latestToExit([0, 1, 2]), log.latestToExit([3])]).toEqual([0, 1, 2, undefined]);
    expect([0, 1, 2].map((v) => log.returnsOf(v))).toEqual([1, 0, 0]);
  });

  test('each keeping is read its own way only', () => {
    expect(() => new EventLog(true, 1, 2, 'records').list).toThrow(/read\(\)/);
    expect(() => new EventLog(true).read(0)).toThrow(/list/);
    expect(() => new EventLog(true).restore(new EventLog(true, 1, 2, 'records').mark())).toThrow(/keeping records restored into one keeping objects/);
  });
});
