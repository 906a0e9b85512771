import { describe, expect, it } from 'vitest';
import type { Json } from '../../model/scenario/document';
import type { Frame, TraceEvent } from '../../model/trace/events';
import { EventBatcher } from '../../model/worker/batch';
import { PROTOCOL_VERSION, type Move } from '../../model/worker/protocol';
import type { Outgoing } from '../worker-client';
import { draftFromDocument } from './draft';
import { createLab } from './lab';
import { labView } from './testing';

const DOC: { [key: string]: Json } = { format: 'exitscope/1', title: 'HLT', kernel: 'rfc-v4', guest: { asm: 'hlt' }, program: [{ op: 'create_vcpu', id: 0 }] };

/** A lab wired to a recording worker and a hand-cranked clock and frame. */
function harness(moves: Move[] = []) {
  const sent: Outgoing[] = [];
  const frames: (() => void)[] = [];
  const timers: (() => void)[] = [];
  let restarts = 0;
  const lab = createLab(
    {
      send: (r) => sent.push(r),
      restart: () => restarts++,
      nextFrame: (fn) => frames.push(fn),
      later: (fn) => {
        timers.push(fn);
        return () => timers.splice(timers.indexOf(fn), 1);
      },
    },
    { draft: draftFromDocument(DOC), moves },
  );
  return {
    lab, sent, frames, timers,
    get restarts() { return restarts; },
    lastSeq: () => sent.length, // seq n is the n-th request sent
    tick: () => frames.splice(0).forEach((f) => f()),
    elapse: () => timers.splice(0).forEach((f) => f()),
  };
}

describe('the lab store', () => {
  it('loads the document (at the link position) when the worker says hello', () => {
    const moves: Move[] = [{ kind: 'step', unit: 'exit' }];
    const h = harness(moves);
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    expect(h.sent).toEqual([{ type: 'load', draft: draftFromDocument(DOC), moves }]);
    expect(h.lab.store.getState().worker).toBe('ready');
  });

  it('reloads once typing pauses, and only for the last edit', () => {
    const h = harness();
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    h.lab.editCode('hl');
    h.lab.editCode('hlt\nhlt');
    expect(h.lab.store.getState().draft.code).toBe('hlt\nhlt'); // the text is the person's at once
    expect(h.timers).toHaveLength(1);
    h.elapse();
    expect(h.sent.at(-1)).toMatchObject({ type: 'load', draft: { code: 'hlt\nhlt' }, moves: [] });
  });

  it('takes text that did not change (another document put into an editor) as no edit', () => {
    const h = harness();
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    h.lab.editCode(h.lab.store.getState().draft.code);
    h.lab.editProgram(h.lab.store.getState().draft.program);
    expect(h.timers).toHaveLength(0);
  });

  it('ignores the answer to a load that a later one replaced', () => {
    const h = harness();
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false }); // seq 1
    h.lab.setVariant('mainline'); // seq 2
    h.lab.reply({ type: 'rejected', seq: 1, problems: [{ where: 'document', path: '', message: 'old' }] });
    expect(h.lab.store.getState().problems).toEqual([]);
    h.lab.reply({ type: 'rejected', seq: 2, problems: [{ where: 'document', path: '', message: 'new' }] });
    expect(h.lab.store.getState().problems[0].message).toBe('new');
  });

  it('shows a running run once per frame, and a step at once', () => {
    const h = harness();
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    h.lab.run();
    expect(h.sent.at(-1)).toEqual({ type: 'move', move: { kind: 'run' } });
    for (let i = 1; i <= 3; i++) h.lab.reply({ type: 'view', seq: 2, view: labView({ next: i }), running: true, moves: [] });
    expect(h.lab.store.getState().view).toBeNull();
    expect(h.frames).toHaveLength(1);
    h.tick();
    expect(h.lab.store.getState().view?.next).toBe(3);
    h.lab.reply({ type: 'view', seq: 3, view: labView({ next: 4 }), running: false, moves: [{ kind: 'run', budget: 9 }] });
    expect(h.lab.store.getState()).toMatchObject({ running: false, moves: [{ kind: 'run', budget: 9 }] });
  });

  it('puts back a recording the worker left out because the page holds it, and restarts a worker that leaves out one it does not', () => {
    const h = harness();
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    const roots: Frame[] = [{ fn: 'kvm_arch_vcpu_ioctl_run', t: 0, calls: [] }];
    const frames = { vcpu: 0, ioctl: 'KVM_RUN', recording: 4, cursor: 2, total: 2 };
    h.lab.reply({ type: 'view', seq: 2, view: labView({ frames: { ...frames, roots } }), running: false, moves: [] });
    h.lab.reply({ type: 'view', seq: 3, view: { ...labView({ next: 1 }), frames }, running: false, moves: [] });
    expect(h.lab.store.getState().view).toMatchObject({ next: 1, frames: { recording: 4 } });
    expect(h.lab.store.getState().view?.frames?.roots).toBe(roots); // the same object: nothing to redraw
    h.lab.reply({ type: 'view', seq: 4, view: { ...labView(), frames: { ...frames, recording: 5 } }, running: false, moves: [] });
    expect(h.restarts).toBe(1);
    expect(h.lab.store.getState().notice?.text).toContain('recording #5');
  });

  it('takes no step while running, and stops the run before loading an edit', () => {
    const h = harness();
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    h.lab.reply({ type: 'view', seq: 1, view: labView(), running: false, moves: [] });
    h.lab.run();
    const sent = h.sent.length;
    h.lab.step('exit');
    h.lab.back();
    expect(h.sent).toHaveLength(sent);
    h.lab.editCode('nop');
    h.elapse();
    expect(h.sent.slice(sent).map((r) => r.type)).toEqual(['pause', 'load']);
  });

  it('steps the vCPU asked for', () => {
    const h = harness();
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    h.lab.step('instruction', 1);
    h.lab.step('exit');
    expect(h.sent.slice(-2)).toEqual([{ type: 'move', move: { kind: 'step', unit: 'instruction', vcpu: 1 } }, { type: 'move', move: { kind: 'step', unit: 'exit' } }]);
  });

  it('compares the selected exit, or else the KVM_RUN on screen', () => {
    const h = harness();
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    h.lab.compare();
    h.lab.select({ vcpu: 1, exit: 7 });
    h.lab.compare();
    expect(h.sent.slice(-2)).toEqual([{ type: 'compare' }, { type: 'compare', vcpu: 1, exit: 7 }]);
  });

  it('tells a move\'s events once its view is here, and never the events of a replay', () => {
    const h = harness();
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    const batcher = new EventBatcher();
    const exit: TraceEvent = { kind: 'kvm_exit', t: 5, vcpu: 0, exit: 0, reason: 12, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 };
    h.lab.reply({ type: 'batch', batch: batcher.take([exit])! }); // the load's replay
    h.lab.reply({ type: 'view', seq: 1, view: labView(), running: false, moves: [] });
    expect(h.lab.narration.tick()).toBeNull();
    const stream = [exit, { ...exit, t: 9, exit: 1 }];
    h.lab.reply({ type: 'batch', batch: batcher.take(stream)! });
    expect(h.lab.narration.pending).toBe(false); // not before its view
    h.lab.reply({ type: 'view', seq: 2, view: labView(), running: false, moves: [] });
    expect(h.lab.narration.tick()).toBe('vCPU 0: HLT exit.');
  });

  it('restarts a crashed worker with the last document that loaded, keeping the text being typed', () => {
    const h = harness();
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false }); // seq 1
    h.lab.reply({ type: 'loaded', seq: 1, title: 'HLT' });
    const at: Move[] = [{ kind: 'step', unit: 'op' }];
    h.lab.reply({ type: 'view', seq: 2, view: labView(), running: false, moves: at });
    h.lab.editCode('mov eax, ['); // typed, not yet loaded
    h.lab.crashed('RuntimeError: unreachable');
    const s = h.lab.store.getState();
    expect(s.notice?.text).toMatch(/stopped: RuntimeError: unreachable\. It was restarted/);
    expect(s.draft.code).toBe('mov eax, [');
    expect(h.restarts).toBe(1);
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    expect(h.sent.at(-1)).toEqual({ type: 'load', draft: draftFromDocument(DOC), moves: at });
    // Crashing again before any view: back to the start of that document.
    h.lab.crashed('again');
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    expect(h.sent.at(-1)).toMatchObject({ type: 'load', moves: [] });
    expect(h.lab.store.getState().draft.code).toBe('mov eax, [');
  });

  it('takes a worker of another protocol version as broken', () => {
    const h = harness();
    h.lab.reply({ type: 'hello', protocol: 99, isolated: false });
    expect(h.lab.store.getState().notice?.text).toMatch(/protocol 99.*reload the page/);
    expect(h.sent).toEqual([]);
  });

  it('stops restarting a worker that keeps crashing, until asked', () => {
    const h = harness();
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    for (let i = 0; i < 4; i++) h.lab.crashed('boom');
    expect(h.restarts).toBe(3);
    expect(h.lab.store.getState()).toMatchObject({ worker: 'failed', notice: { tone: 'error' } });
    h.lab.retry();
    expect(h.restarts).toBe(4);
  });

  it('writes the whole state into a link, and a link gives it back', () => {
    const h = harness();
    h.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    h.lab.setVariant('rfc-v4', 1);
    const moves: Move[] = [{ kind: 'step', unit: 'op' }, { kind: 'ioctl', op: { op: 'create_vcpu', id: 1 } }];
    h.lab.reply({ type: 'view', seq: 2, view: labView({ next: 1 }), running: false, moves });
    h.lab.select({ vcpu: 1, exit: 7 });
    const link = h.lab.linkState();
    expect(link.view).toEqual({ variant: 'rfc-v4/1', vcpu: 1, exit: 7, step: 1, moves });
    expect(link.doc).toEqual({ ...DOC, patches: 1 });

    const other = harness();
    other.lab.openLink(link);
    other.lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    expect(other.sent[0]).toEqual({ type: 'load', draft: h.lab.store.getState().draft, moves });
    expect(other.lab.store.getState().selection).toEqual({ vcpu: 1, exit: 7 });
  });

  it('lets the link variant override the document kernel', () => {
    const h = harness();
    h.lab.openLink({ doc: DOC, view: { variant: 'v5.19' } });
    expect(h.lab.store.getState().draft.doc.kernel).toBe('v5.19');
  });
});
