import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../model/trace/events';
import { EventBatcher } from '../../model/worker/batch';
import { emptySim, foldReplies, isUrgent, statsList, type PageReply } from './replies';
import { labView, vcpuView } from './testing';

const ioctl = (seq: number): TraceEvent => ({ kind: 'ioctl', t: seq, seq, fd: 'vcpu0', ioctl: 'KVM_RUN', args: {}, ret: 0, errno: null });
const exit = (t: number, vcpu: number, n: number): TraceEvent =>
  ({ kind: 'kvm_exit', t, vcpu, exit: n, reason: 12, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 });
const entry = (t: number, vcpu: number): TraceEvent => ({ kind: 'kvm_entry', t, vcpu, rip: 0n });

/** The worker's side: a stream cut into batches where `cuts` say. */
function batches(stream: TraceEvent[], cuts: number[]): PageReply[] {
  const b = new EventBatcher();
  const out: PageReply[] = [];
  for (const cut of [...cuts, stream.length]) {
    const batch = b.take(stream.slice(0, cut));
    if (batch) out.push({ type: 'batch', batch });
  }
  return out;
}

describe('folding replies', () => {
  it('appends the ioctls of each batch, starts them again at a replay, and leaves the old state as it was', () => {
    const a = foldReplies(emptySim(), batches([ioctl(0), ioctl(1), entry(2, 0), ioctl(3)], [2]));
    expect(a.ioctls.map((e) => e.t)).toEqual([0, 1, 3]);
    const replay = new EventBatcher();
    const b = foldReplies(a, [{ type: 'batch', batch: replay.take([ioctl(10)])! }]);
    expect(b.ioctls.map((e) => e.t)).toEqual([10]);
    expect(a.ioctls.map((e) => e.t)).toEqual([0, 1, 3]);
  });

  it('ends with the whole stream\'s ioctls, timeline and statistics, however the batches are cut and grouped', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(2), fc.constantFrom('ioctl', 'exit', 'entry')), { maxLength: 40 }), fc.array(fc.nat(40), { maxLength: 5 }), fc.nat(6),
        (steps, cuts, group) => {
          const n = [0, 0, 0];
          const stream = steps.map(([v, k], t): TraceEvent => (k === 'ioctl' ? ioctl(t) : k === 'exit' ? exit(t, v, n[v]++) : entry(t, v)));
          const replies = batches(stream, [...cuts].sort((x, y) => x - y));
          const together = foldReplies(emptySim(), replies);
          const split = foldReplies(foldReplies(emptySim(), replies.slice(0, group)), replies.slice(group));
          const whole = foldReplies(emptySim(), batches(stream, []));
          for (const s of [together, split]) {
            expect(s.ioctls).toEqual(whole.ioctls);
            expect(s.stats).toEqual(whole.stats);
            expect(s.timeline.exitCount).toBe(stream.filter((e) => e.kind === 'kvm_exit').length);
          }
        }),
    );
  });

  it('lists perf kvm stat for the VM, then each vCPU of the view or that exited, and keeps the tables while nothing changes', () => {
    const s = foldReplies(emptySim(), [...batches([exit(0, 1, 0), entry(500, 1)], []), { type: 'view', seq: 1, view: labView({ vcpus: [vcpuView(0), vcpuView(1)] }), running: true, moves: [] }]);
    expect(s.stats.map((x) => [x.vcpu, x.totalSamples])).toEqual([['all', 1], [0, 0], [1, 1]]);
    const again = foldReplies(s, [{ type: 'view', seq: 1, view: labView({ vcpus: [vcpuView(0), vcpuView(1)] }), running: true, moves: [] }]);
    expect(again.stats).toBe(s.stats);
    expect(statsList(null, [2]).map((x) => x.vcpu)).toEqual(['all', 2]);
  });

  it('takes the latest view and its moves, and clears the refusal of an earlier request', () => {
    const v1 = labView({ next: 1 }), v2 = labView({ next: 2 });
    const s = foldReplies({ ...emptySim(), refusal: { seq: 0, message: 'no' } }, [
      { type: 'view', seq: 1, view: v1, running: true, moves: [{ kind: 'run' }] },
      { type: 'view', seq: 1, view: v2, running: false, moves: [{ kind: 'run', budget: 5 }] },
    ]);
    expect(s).toMatchObject({ view: v2, running: false, moves: [{ kind: 'run', budget: 5 }], refusal: null });
  });

  it('shows a comparison until the view of a later move', () => {
    const compare = { vcpu: 0, left: { label: 'without EXIT_USERSPACE', roots: [] }, right: { label: 'with EXIT_USERSPACE', roots: [] } };
    const s = foldReplies(emptySim(), [{ type: 'compare', seq: 4, compare }]);
    expect(s.compare).toEqual({ seq: 4, view: compare });
    expect(foldReplies(s, [{ type: 'view', seq: 4, view: labView(), running: false, moves: [] }]).compare).not.toBeNull();
    expect(foldReplies(s, [{ type: 'view', seq: 5, view: labView(), running: false, moves: [] }]).compare).toBeNull();
  });

  it('keeps problems until a document loads', () => {
    const problems = [{ where: 'asm' as const, path: 'guest.asm', message: 'unknown mnemonic', line: 2, col: 1 }];
    const s = foldReplies(emptySim(), [{ type: 'rejected', seq: 1, problems }]);
    expect(s.problems).toEqual(problems);
    expect(foldReplies(s, [{ type: 'loaded', seq: 2, title: 't' }]).problems).toEqual([]);
  });

  it('stops showing a run as going when a request is refused, and keeps saying why past its own view', () => {
    const s = foldReplies({ ...emptySim(), running: true }, [
      { type: 'refused', seq: 3, message: 'the program has run' },
      { type: 'view', seq: 3, view: labView(), running: false, moves: [] },
    ]);
    expect(s).toMatchObject({ running: false, refusal: { seq: 3, message: 'the program has run' } });
  });

  it('mirrors the worker\'s timeline from its deltas, with a new version each batch', () => {
    const s = foldReplies(emptySim(), batches([{ kind: 'activity', t: 0, vcpu: 0, activity: 'guest' }, exit(5, 0, 0)], [1]));
    expect(s.timelineVersion).toBe(2);
    expect(s.timeline.exitCount).toBe(1);
  });

  it('shows a step at once, and a running run at the next frame', () => {
    expect(isUrgent({ type: 'view', seq: 1, view: labView(), running: false, moves: [] })).toBe(true);
    expect(isUrgent({ type: 'view', seq: 1, view: labView(), running: true, moves: [] })).toBe(false);
    expect(isUrgent(batches([ioctl(0)], [])[0])).toBe(false);
  });
});
