import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Frame, TraceEvent, VcpuActivity } from '../../../model/trace/events';
import { vcpuEventColumns } from '../../../model/worker/batch';
import { exitHandler, exitSentence, NarrationFeed } from './feed';

const exit = (t: number, vcpu: number, reason: number, n = 0): TraceEvent =>
  ({ kind: 'kvm_exit', t, vcpu, exit: n, reason, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 });
const entry = (t: number, vcpu: number): TraceEvent => ({ kind: 'kvm_entry', t, vcpu, rip: 0n });
const act = (t: number, vcpu: number, activity: VcpuActivity): TraceEvent => ({ kind: 'activity', t, vcpu, activity });
const f = (fn: string, ret: Frame['ret'], args?: Frame['args'], ...calls: Frame[]): Frame => ({ fn, ret, args, t: 0, calls });
/** The frame, marked as the model marks the one that handled exit number `n`. */
const handles = (n: number, frame: Frame): Frame => ({ ...frame, handles_exit: n });

/** Events as the worker sends them. */
const feedOf = (feed: NarrationFeed, events: TraceEvent[]) => feed.push(vcpuEventColumns(events));

/** KVM_RUN's frames for one HLT exit (the vCPU's exit #0) handled by kvm_emulate_halt, returning `ret`. */
const hltFrames = (ret: number): Frame[] => [
  f('kvm_arch_vcpu_ioctl_run', ret, undefined, f('vcpu_run', ret, undefined, f('vcpu_enter_guest', ret, undefined, { ...f('vmx_vcpu_run', 'EXIT_FASTPATH_NONE'), exit: 0 },
    f('vmx_handle_exit', ret, undefined, f('__vmx_handle_exit', ret, { exit_reason: 'EXIT_REASON_HLT' }, handles(0, f('kvm_emulate_halt', ret))))))),
];

/**
 * A KVM_RUN as the model records it, at the point a step stopped: one vcpu_enter_guest per VM entry
 * (vmx_vcpu_run ended by exit k, then __vmx_handle_exit and the handler of exit k). The first
 * `handled` exits have been handled; the next one (if any) has not (its vmx_vcpu_run still open).
 */
function kvmRun(reasons: [string, string][], handled: number): Frame[] {
  const loops = reasons.slice(0, Math.min(reasons.length, handled + 1)).map(([reason, handler], k) => {
    const done = k < handled;
    const calls: Frame[] = [{ ...f('vmx_vcpu_run', done ? 'EXIT_FASTPATH_NONE' : undefined), exit: k }];
    if (done) calls.push(f('vmx_handle_exit', 1, undefined, f('__vmx_handle_exit', 1, { exit_reason: `EXIT_REASON_${reason}` }, handles(k, f(handler, 1)))));
    return f('vcpu_enter_guest', done ? 1 : undefined, undefined, ...calls);
  });
  return [f('kvm_arch_vcpu_ioctl_run', undefined, undefined, f('vcpu_run', undefined, undefined, ...loops))];
}

describe('NarrationFeed, stepping', () => {
  it('tells an exit with its handler and how KVM_RUN ended', () => {
    const feed = new NarrationFeed();
    feed.setFrames(hltFrames(0), 1);
    feedOf(feed, [exit(10, 1, 12), act(10, 1, 'kvm'), { kind: 'kvm_userspace_exit', t: 20, vcpu: 1, reason: 0, errno: 0 }, act(20, 1, 'userspace')]);
    expect(feed.tick()).toBe('vCPU 1: HLT exit, kvm_emulate_halt returned 0, KVM_RUN returned to userspace with exit_reason KVM_EXIT_UNKNOWN.');
    expect(feed.tick()).toBeNull();
  });

  it('says where the vCPU went when KVM_RUN did not return', () => {
    const feed = new NarrationFeed();
    feed.setFrames(hltFrames(1), 0);
    feedOf(feed, [exit(10, 0, 12), act(10, 0, 'kvm'), act(11, 0, 'polling'), act(50, 0, 'blocked')]);
    expect(feed.tick()).toBe('vCPU 0: HLT exit, kvm_emulate_halt returned 1, blocked in kvm_vcpu_block.');
    feedOf(feed, [exit(60, 1, 30), entry(70, 1)]);
    expect(feed.tick()).toBe('vCPU 1: IO_INSTRUCTION exit, back in the guest.'); // frames are of vCPU 0: no handler named
  });

  it('tells an exit stepped to without a handler, and again with its own when the next step handles it', () => {
    const feed = new NarrationFeed();
    const io: [string, string] = ['IO_INSTRUCTION', 'handle_io'];
    feedOf(feed, [entry(0, 0), act(0, 0, 'guest')]);
    feed.tick();
    feed.setFrames(kvmRun([io], 0), 0);
    feedOf(feed, [exit(50, 0, 30, 0), act(50, 0, 'kvm')]);
    expect(feed.tick()).toBe('vCPU 0: IO_INSTRUCTION exit, still in KVM.');
    feed.setFrames(kvmRun([io, io], 1), 0);
    feedOf(feed, [entry(100, 0), act(100, 0, 'guest'), exit(150, 0, 30, 1), act(150, 0, 'kvm')]);
    expect(feed.tick()).toBe('vCPU 0: IO_INSTRUCTION exit, handle_io returned 1, back in the guest. vCPU 0: IO_INSTRUCTION exit, still in KVM.');
    feed.setFrames(kvmRun([io, io, ['HLT', 'kvm_emulate_halt']], 2), 0);
    feedOf(feed, [entry(200, 0), act(200, 0, 'guest'), exit(250, 0, 12, 2), act(250, 0, 'kvm')]);
    expect(feed.tick()).toBe('vCPU 0: IO_INSTRUCTION exit, handle_io returned 1, back in the guest. vCPU 0: HLT exit, still in KVM.');
    feed.setFrames(kvmRun([io, io, ['HLT', 'kvm_emulate_halt']], 3), 0);
    feedOf(feed, [act(300, 0, 'blocked')]);
    expect(feed.tick()).toBe('vCPU 0: HLT exit, kvm_emulate_halt returned 1, blocked in kvm_vcpu_block.');
    feedOf(feed, [act(400, 0, 'blocked')]);
    expect(feed.tick()).toBeNull(); // nothing new became of it
  });

  it('tells a KVM_RUN that returned without an exit, and an errno', () => {
    const feed = new NarrationFeed();
    feedOf(feed, [{ kind: 'kvm_userspace_exit', t: 5, vcpu: 0, reason: 10, errno: 4 }]);
    expect(feed.tick()).toBe('vCPU 0: KVM_RUN returned -EINTR (KVM_EXIT_INTR).');
  });

  it('clears what was not told, and the exits it followed', () => {
    const feed = new NarrationFeed();
    feedOf(feed, [exit(1, 0, 12)]);
    feed.clear();
    expect([feed.pending, feed.tick()]).toEqual([false, null]);
    feedOf(feed, [entry(2, 0)]);
    expect(feed.tick()).toBeNull();
  });
});

describe('NarrationFeed, running', () => {
  it('sums up many exits per vCPU, at most once a second of frames', () => {
    const feed = new NarrationFeed();
    const burst = (t: number) => Array.from({ length: 10 }, (_, i) => exit(t + i, i % 2, i < 7 ? 1 : 12, i));
    feedOf(feed, burst(0));
    expect(feed.tick()).toBe('vCPU 0: 5 exits (EXTERNAL_INTERRUPT 4, HLT 1). vCPU 1: 5 exits (EXTERNAL_INTERRUPT 3, HLT 2).');
    feedOf(feed, burst(100));
    const said = Array.from({ length: 60 }, () => feed.tick());
    expect(said.slice(0, 59).every((x) => x === null)).toBe(true);
    expect(said[59]).toContain('vCPU 0: 5 exits');
  });

  it('counts the returns to userspace in a summary', () => {
    const feed = new NarrationFeed();
    const ret = (t: number): TraceEvent => ({ kind: 'kvm_userspace_exit', t, vcpu: 0, reason: 2, errno: 0 });
    feedOf(feed, [exit(0, 0, 30), ret(1), ret(2), exit(3, 0, 30), ret(4), exit(5, 0, 30)]);
    expect(feed.tick()).toBe('vCPU 0: 3 exits (IO_INSTRUCTION 3), KVM_RUN returned 3 times.');
  });

  it('tells every exit, at most twice (when it happens, and when KVM lets go of it), however the events come', () => {
    const stepArb = fc.tuple(fc.nat(2), fc.constantFrom('exit', 'exit', 'entry', 'blocked'), fc.constantFrom(1, 12, 30));
    fc.assert(
      fc.property(fc.array(fc.array(stepArb, { maxLength: 8 }), { maxLength: 10 }), (batches) => {
        const feed = new NarrationFeed();
        const told: string[] = [];
        let t = 0, exits = 0;
        for (const b of batches) {
          exits += b.filter(([, k]) => k === 'exit').length;
          feedOf(feed, b.map(([vcpu, k, reason]) => (k === 'exit' ? exit(t++, vcpu, reason) : k === 'entry' ? entry(t++, vcpu) : act(t++, vcpu, 'blocked'))));
          const s = feed.tick();
          if (s) told.push(s);
        }
        for (let i = 0; i < 100 && feed.pending; i++) {
          const s = feed.tick();
          if (s) told.push(s);
        }
        const text = told.join(' ');
        const summed = [...text.matchAll(/(\d+) exits? \(/g)].reduce((n, m) => n + Number(m[1]), 0);
        const sentences = (text.match(/ exit[,.]/g) ?? []).length;
        expect(summed + sentences).toBeGreaterThanOrEqual(exits);
        expect(summed + sentences).toBeLessThanOrEqual(2 * exits);
        expect(feed.pending).toBe(false);
      }),
    );
  });
});

describe('exitHandler', () => {
  const io: [string, string] = ['IO_INSTRUCTION', 'handle_io'];
  it('finds the frame marked as the handler of that exit, once it has returned', () => {
    const roots = kvmRun([io, ['HLT', 'kvm_emulate_halt'], io], 2);
    expect(exitHandler(roots, 1)?.fn).toBe('kvm_emulate_halt');
    expect(exitHandler(roots, 0)?.fn).toBe('handle_io');
    expect(exitHandler(roots, 2)).toBeUndefined(); // not handled yet
    expect(exitHandler(roots, 7)).toBeUndefined(); // not in this recording
    expect(exitHandler([handles(3, f('handle_fastpath_hlt', undefined))], 3)).toBeUndefined(); // still running
    expect(exitHandler([handles(3, f('handle_fastpath_hlt', 'EXIT_FASTPATH_REENTER_GUEST'))], 3)).toMatchObject({ ret: 'EXIT_FASTPATH_REENTER_GUEST' });
  });

  it('writes the sentence from its parts', () => {
    expect(exitSentence({ vcpu: 1, reason: 'HLT', handler: { fn: 'kvm_emulate_halt', ret: '0' }, returned: { exitReason: 'KVM_EXIT_HLT', errno: null } }))
      .toBe('vCPU 1: HLT exit, kvm_emulate_halt returned 0, KVM_RUN returned to userspace with exit_reason KVM_EXIT_HLT');
  });
});
