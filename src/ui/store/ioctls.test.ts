import { describe, expect, it } from 'vitest';
import type { Move } from '../../model/worker/protocol';
import { draftFromDocument } from './draft';
import { ioctlForExitToggle, ioctlForGuestDebug, toggledFlags, withoutVcpu } from './ioctls';
import { labView, NO_EXITS_DISABLED, vcpuView } from './testing';

describe('ioctls for clicks', () => {
  const view = labView({
    vm: { ...labView().vm, disabled: { ...NO_EXITS_DISABLED, hlt: true, pause: true } },
    vcpus: [vcpuView(0), vcpuView(1, { disabled: { ...NO_EXITS_DISABLED, mwait: true, hlt: true } })],
  });

  it('disables one exit with its bit alone, as a VMM would', () => {
    expect(ioctlForExitToggle(view, 'vcpu0', 'hlt', true)).toEqual({ op: 'enable_cap', fd: 'vcpu0', cap: 'KVM_CAP_X86_DISABLE_EXITS', args: ['HLT'] });
  });

  it('without OVERRIDE in the kernel, asks again for the exits that should stay disabled', () => {
    const old = { ...view, vm: { ...view.vm, override: false } };
    expect(ioctlForExitToggle(old, 'vm', 'hlt', false)).toMatchObject({ fd: 'vm', args: ['PAUSE'] });
    expect(ioctlForExitToggle(old, 'vcpu0', 'hlt', false)).toMatchObject({ args: [] });
  });

  it('re-enables with OVERRIDE and the exits that stay disabled in that scope', () => {
    expect(ioctlForExitToggle(view, 'vm', 'hlt', false)).toMatchObject({ fd: 'vm', args: ['OVERRIDE', 'PAUSE'] });
    expect(ioctlForExitToggle(view, 'vcpu1', 'hlt', false)).toMatchObject({ fd: 'vcpu1', args: ['OVERRIDE', 'MWAIT'] });
    expect(ioctlForExitToggle(view, 'vcpu0', 'cstate', false)).toMatchObject({ args: ['OVERRIDE'] });
  });

  it('sets guest debug by flag names, keeping flags it does not show', () => {
    expect(ioctlForGuestDebug('vcpu0', ['ENABLE'])).toEqual({ op: 'set_guest_debug', fd: 'vcpu0', control: ['ENABLE'] });
    expect(toggledFlags(['KVM_GUESTDBG_ENABLE', 'KVM_GUESTDBG_USE_SW_BP'], 'EXIT_USERSPACE', true)).toEqual(['ENABLE', 'USE_SW_BP', 'EXIT_USERSPACE']);
    expect(toggledFlags(['KVM_GUESTDBG_ENABLE', 'KVM_GUESTDBG_SINGLESTEP'], 'SINGLESTEP', false)).toEqual(['ENABLE']);
  });
});

describe('removing a vCPU', () => {
  const draft = draftFromDocument({
    format: 'exitscope/1', guest: { asm: 'hlt' },
    program: [
      { op: 'create_vcpu', id: 0 }, { op: 'create_vcpu', id: 1 }, { op: 'run', fd: 'vcpu1' },
      { op: 'run_threads', fds: ['vcpu0', 'vcpu1'], for_ns: 1000 }, { op: 'run_threads', fds: ['vcpu1'], for_ns: 5 }, { op: 'stats', fd: 'vcpu0' },
    ],
  });
  const moves: Move[] = [
    { kind: 'step', unit: 'op' },
    { kind: 'ioctl', op: { op: 'create_vcpu', id: 2 } },
    { kind: 'ioctl', op: { op: 'set_guest_debug', fd: 'vcpu1', control: ['ENABLE'] } },
  ];

  it('takes its creation and every operation on it out of the program and the page ioctls', () => {
    const r = withoutVcpu(draft, moves, 1);
    expect(JSON.parse(r.draft.program)).toEqual([
      { op: 'create_vcpu', id: 0 }, { op: 'run_threads', fds: ['vcpu0'], for_ns: 1000 }, { op: 'stats', fd: 'vcpu0' },
    ]);
    expect(r.moves).toEqual([{ kind: 'ioctl', op: { op: 'create_vcpu', id: 2 } }]);
  });

  it('removes a vCPU the page created, leaving the program alone', () => {
    const r = withoutVcpu(draft, moves, 2);
    expect(r.draft.program).toBe(draft.program);
    expect(r.moves).toEqual([moves[2]]);
  });

  it('leaves a program that is being edited as it is', () => {
    const editing = { ...draft, program: '[{"op": ' };
    expect(withoutVcpu(editing, moves, 1).draft).toBe(editing);
  });
});
