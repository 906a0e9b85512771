import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reply } from '../../model/worker/protocol';
import type { TraceEvent } from '../../model/trace/events';
import { Timeline } from '../../model/trace/timeline';
import { emptySim, foldReplies, isUrgent } from './replies';
import { labView } from './testing';

const ev = (t: number): TraceEvent => ({ kind: 'kvm_entry', t, vcpu: 0, rip: BigInt(t) });

describe('folding replies', () => {
  it('appends event batches and rewrites from `from` after a replay', () => {
    const a = foldReplies(emptySim(), [{ type: 'events', from: 0, events: [ev(0), ev(1)] }, { type: 'events', from: 2, events: [ev(2)] }]);
    expect(a.events.map((e) => e.t)).toEqual([0, 1, 2]);
    const b = foldReplies(a, [{ type: 'events', from: 1, events: [ev(10)] }]);
    expect(b.events.map((e) => e.t)).toEqual([0, 10]);
    expect(a.events.map((e) => e.t)).toEqual([0, 1, 2]); // the old state is untouched
  });

  it('equals the stream cut and extended batch by batch, however the batches are grouped', () => {
    const batch = fc.record({ from: fc.nat(30), n: fc.nat(5) });
    fc.assert(
      fc.property(fc.array(batch, { maxLength: 12 }), fc.nat(12), (batches, cut) => {
        let t = 0;
        const replies: Reply[] = batches.map(({ from, n }) => ({ type: 'events', from, events: Array.from({ length: n }, () => ev(t++)) }));
        const model: number[] = [];
        for (const r of replies) if (r.type === 'events') model.splice(r.from, Infinity, ...r.events.map((e) => e.t));
        const together = foldReplies(emptySim(), replies);
        const split = foldReplies(foldReplies(emptySim(), replies.slice(0, cut)), replies.slice(cut));
        expect(together.events.map((e) => e.t)).toEqual(model);
        expect(split.events.map((e) => e.t)).toEqual(model);
      }),
    );
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

  it('mirrors the worker\'s timeline from its deltas, with a new version each time', () => {
    const worker = new Timeline();
    worker.append([{ kind: 'activity', t: 0, vcpu: 0, activity: 'guest' }, { kind: 'kvm_exit', t: 5, vcpu: 0, exit: 0, reason: 12, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 }]);
    const s = foldReplies(emptySim(), [{ type: 'timeline', delta: worker.drain() }]);
    expect(s.timelineVersion).toBe(1);
    expect(s.timeline.exitCount).toBe(1);
    expect(isUrgent({ type: 'timeline', delta: worker.drain() })).toBe(false);
  });

  it('shows a step at once, and a running run at the next frame', () => {
    expect(isUrgent({ type: 'view', seq: 1, view: labView(), running: false, moves: [] })).toBe(true);
    expect(isUrgent({ type: 'view', seq: 1, view: labView(), running: true, moves: [] })).toBe(false);
    expect(isUrgent({ type: 'events', from: 0, events: [] })).toBe(false);
  });
});
