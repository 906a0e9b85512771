import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../trace/events';
import { ACTIVITIES } from '../trace/timeline';
import { batchTransferables, EventBatcher, VCPU_EVENT_KINDS, vcpuEventColumns } from './batch';

const exit = (t: number, vcpu: number, n: number, reason = 30): TraceEvent =>
  ({ kind: 'kvm_exit', t, vcpu, exit: n, reason, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 });
const entry = (t: number, vcpu: number): TraceEvent => ({ kind: 'kvm_entry', t, vcpu, rip: 0n });
const ioctl = (t: number): TraceEvent => ({ kind: 'ioctl', t, seq: t, fd: 'vcpu0', ioctl: 'KVM_RUN', args: {}, ret: 0, errno: null });

describe('vcpuEventColumns', () => {
  it('keeps exits, entries, returns to userspace and activity changes, a row each, and leaves the rest out', () => {
    const c = vcpuEventColumns([
      ioctl(0), exit(10, 1, 7, 0x8000_000c), { kind: 'activity', t: 10, vcpu: 1, activity: 'blocked' },
      { kind: 'inj_virq', t: 11, vcpu: 1, vector: 32, soft: false }, { kind: 'halt_poll', t: 12, vcpu: 1, polled_ns: 5, success: false, grow: 0 },
      { kind: 'kvm_userspace_exit', t: 20, vcpu: 2, reason: 10, errno: 4 }, entry(30, 1),
    ]);
    const rows = Array.from({ length: c.n }, (_, i) => [VCPU_EVENT_KINDS[c.kind[i]], c.vcpu[i], c.t[i], c.code[i], c.detail[i]]);
    expect(rows).toEqual([
      ['kvm_exit', 1, 10, 12, 7], // the basic reason, and the vCPU's exit number
      ['activity', 1, 10, ACTIVITIES.indexOf('blocked'), 0],
      ['kvm_userspace_exit', 2, 20, 10, 4],
      ['kvm_entry', 1, 30, 0, 0],
    ]);
  });
});

describe('EventBatcher', () => {
  it('cuts the stream into batches of what is new, and starts again (a replay) after a restart', () => {
    const b = new EventBatcher();
    const stream = [ioctl(0), exit(1, 0, 0)];
    const first = b.take(stream)!;
    expect(first).toMatchObject({ replay: true, ioctls: [{ t: 0 }], vcpuEvents: { n: 1 }, stats: { vm: { unfinished: 1 } } });
    expect(b.take(stream)).toBeNull();
    stream.push(entry(501, 0));
    expect(b.take(stream)).toMatchObject({ replay: false, ioctls: [], stats: { vm: { totalSamples: 1 }, vcpus: [{ vcpu: 0, totalSamples: 1 }] } });
    stream.push(ioctl(600));
    expect(b.take(stream)).toMatchObject({ replay: false, stats: null }); // no exit or entry: the tables stand
    b.restart();
    const again = b.take([])!;
    expect(again).toMatchObject({ replay: true, ioctls: [], stats: { vm: { totalSamples: 0 }, vcpus: [] }, timeline: { reset: true } });
  });

  it('makes the same batch of a stream absorbed in pieces (its next events each time) as of it taken at once', () => {
    const stream = [ioctl(0), exit(1, 0, 0), entry(2, 0), exit(3, 1, 0), ioctl(4), entry(5, 1), exit(6, 0, 1)];
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length }), { maxLength: 4 }), (cuts) => {
        const whole = new EventBatcher();
        const pieces = new EventBatcher();
        whole.take(stream.slice(0, 1));
        pieces.take(stream.slice(0, 1));
        let at = 1;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          pieces.absorb(stream.slice(at, Math.max(at, cut)));
          at = Math.max(at, cut);
        }
        pieces.absorb(stream.slice(at)); // the rest, from a reader that holds no stream
        expect(pieces.take()).toEqual(whole.take(stream));
      }),
    );
  });

  it('lists every buffer of a batch for the transfer, each once', () => {
    const batch = new EventBatcher().take([exit(1, 0, 0), entry(2, 0), exit(3, 1, 0)])!;
    const buffers = batchTransferables(batch);
    expect(new Set(buffers).size).toBe(buffers.length);
    expect(buffers).toContain(batch.vcpuEvents.t.buffer);
    expect(buffers).toContain(batch.timeline.lanes[1].exits.t.buffer);
  });
});
