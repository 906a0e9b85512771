import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Frame, TraceEvent } from '../../../model/trace/events';
import { exitSentence, handlerFrame, NarrationFeed } from './feed';

const exit = (t: number, vcpu: number, reason: number, n = 0): TraceEvent =>
  ({ kind: 'kvm_exit', t, vcpu, exit: n, reason, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 });
const f = (fn: string, ret: Frame['ret'], args?: Frame['args'], ...calls: Frame[]): Frame => ({ fn, ret, args, t: 0, calls });

/** KVM_RUN's frames for one HLT exit handled by kvm_emulate_halt, returning `ret`. */
const hltFrames = (ret: number): Frame[] => [
  f('kvm_arch_vcpu_ioctl_run', ret, undefined, f('vcpu_run', ret, undefined, f('vcpu_enter_guest', ret, undefined,
    f('vmx_handle_exit', ret, undefined, f('__vmx_handle_exit', ret, { exit_reason: 'EXIT_REASON_HLT' }, f('kvm_emulate_halt', ret)))))),
];

describe('NarrationFeed, stepping', () => {
  it('tells an exit with its handler and how KVM_RUN ended', () => {
    const feed = new NarrationFeed();
    feed.setFrames(hltFrames(0), 1);
    feed.push([
      exit(10, 1, 12), { kind: 'activity', t: 10, vcpu: 1, activity: 'kvm' },
      { kind: 'kvm_userspace_exit', t: 20, vcpu: 1, reason: 0, errno: 0 }, { kind: 'activity', t: 20, vcpu: 1, activity: 'userspace' },
    ]);
    expect(feed.tick()).toBe('vCPU 1: HLT exit, kvm_emulate_halt returned 0, KVM_RUN returned to userspace with exit_reason KVM_EXIT_UNKNOWN.');
    expect(feed.tick()).toBeNull();
  });

  it('says where the vCPU went when KVM_RUN did not return', () => {
    const feed = new NarrationFeed();
    feed.setFrames(hltFrames(1), 0);
    feed.push([exit(10, 0, 12), { kind: 'activity', t: 10, vcpu: 0, activity: 'kvm' }, { kind: 'activity', t: 11, vcpu: 0, activity: 'polling' },
      { kind: 'activity', t: 50, vcpu: 0, activity: 'blocked' }]);
    expect(feed.tick()).toBe('vCPU 0: HLT exit, kvm_emulate_halt returned 1, blocked in kvm_vcpu_block.');
    feed.push([exit(60, 1, 30), { kind: 'kvm_entry', t: 70, vcpu: 1, rip: 0n }]);
    expect(feed.tick()).toBe('vCPU 1: IO_INSTRUCTION exit, back in the guest.'); // frames are of vCPU 0: no handler named
  });

  it('tells a KVM_RUN that returned without an exit, and an errno', () => {
    const feed = new NarrationFeed();
    feed.push([{ kind: 'kvm_userspace_exit', t: 5, vcpu: 0, reason: 10, errno: 4 }]);
    expect(feed.tick()).toBe('vCPU 0: KVM_RUN returned -EINTR (KVM_EXIT_INTR).');
  });

  it('clears what was not told', () => {
    const feed = new NarrationFeed();
    feed.push([exit(1, 0, 12)]);
    feed.clear();
    expect([feed.pending, feed.tick()]).toEqual([false, null]);
  });
});

describe('NarrationFeed, running', () => {
  it('sums up many exits per vCPU, at most once a second of frames', () => {
    const feed = new NarrationFeed();
    const burst = (t: number) => Array.from({ length: 10 }, (_, i) => exit(t + i, i % 2, i < 7 ? 1 : 12, i));
    feed.push(burst(0));
    expect(feed.tick()).toBe('vCPU 0: 5 exits (EXTERNAL_INTERRUPT 4, HLT 1). vCPU 1: 5 exits (EXTERNAL_INTERRUPT 3, HLT 2).');
    feed.push(burst(100));
    const said = Array.from({ length: 60 }, () => feed.tick());
    expect(said.slice(0, 59).every((x) => x === null)).toBe(true);
    expect(said[59]).toContain('vCPU 0: 5 exits');
  });

  it('accounts for every exit exactly once, however the events come', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.tuple(fc.nat(2), fc.constantFrom(1, 12, 30)), { maxLength: 30 }), { maxLength: 10 }), (batches) => {
        const feed = new NarrationFeed();
        const told: string[] = [];
        let t = 0;
        for (const b of batches) {
          feed.push(b.map(([vcpu, reason]) => exit(t++, vcpu, reason)));
          const s = feed.tick();
          if (s) told.push(s);
        }
        for (let i = 0; i < 100 && feed.pending; i++) {
          const s = feed.tick();
          if (s) told.push(s);
        }
        const text = told.join(' ');
        const mentioned = [...text.matchAll(/(\d+) exits? \(/g)].reduce((n, m) => n + Number(m[1]), 0) + (text.match(/ exit,| exit\./g) ?? []).length;
        expect(mentioned).toBe(batches.flat().length);
        expect(feed.pending).toBe(false);
      }),
    );
  });
});

describe('handlerFrame', () => {
  it('finds the handler of the latest exit of a reason, or the fastpath that took it', () => {
    expect(handlerFrame(hltFrames(0), 'HLT')?.fn).toBe('kvm_emulate_halt');
    expect(handlerFrame(hltFrames(0), 'PAUSE_INSTRUCTION')).toBeUndefined();
    const fast = [f('vcpu_enter_guest', 1, undefined, f('vmx_vcpu_run', 1, undefined, f('handle_fastpath_hlt', 'EXIT_FASTPATH_REENTER_GUEST')),
      f('vmx_handle_exit', 1, undefined, f('__vmx_handle_exit', 1, { exit_reason: 'EXIT_REASON_HLT' })))];
    expect(handlerFrame(fast, 'HLT')).toMatchObject({ fn: 'handle_fastpath_hlt', ret: 'EXIT_FASTPATH_REENTER_GUEST' });
  });

  it('writes the sentence from its parts', () => {
    expect(exitSentence({ vcpu: 1, reason: 'HLT', handler: { fn: 'kvm_emulate_halt', ret: '0' }, returned: { exitReason: 'KVM_EXIT_HLT', errno: null } }))
      .toBe('vCPU 1: HLT exit, kvm_emulate_halt returned 0, KVM_RUN returned to userspace with exit_reason KVM_EXIT_HLT');
  });
});
