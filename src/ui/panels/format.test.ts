import { describe, expect, it } from 'vitest';
import type { IoctlEvent } from '../../model/worker/protocol';
import { formatArgs, runAnswer, u64Hex } from './format';

describe('register formatting', () => {
  it('writes registers as unsigned 64-bit hex, padded on request', () => {
    expect(u64Hex(0x10002n)).toBe('0x10002');
    expect(u64Hex(-1n)).toBe('0xffffffffffffffff');
    expect(u64Hex(2, 4)).toBe('0x0002');
  });
});

describe('the ioctl log', () => {
  const run = (extra: object): IoctlEvent => ({ kind: 'ioctl', t: 0, seq: 7, fd: 'vcpu0', ioctl: 'KVM_RUN', args: {}, ret: 0, errno: null, ...extra });

  it('decodes arguments in the model\'s order, masks as names joined by |', () => {
    expect(formatArgs({ cap: 'KVM_CAP_X86_DISABLE_EXITS', args: ['KVM_X86_DISABLE_EXITS_HLT', 'KVM_X86_DISABLE_EXITS_OVERRIDE'], flags: 0 }))
      .toBe('cap = KVM_CAP_X86_DISABLE_EXITS, args = KVM_X86_DISABLE_EXITS_HLT|KVM_X86_DISABLE_EXITS_OVERRIDE, flags = 0');
    expect(formatArgs({ args: [], rip: 0x10000n })).toBe('args = 0, rip = 0x10000');
    expect(formatArgs({})).toBe('');
  });

  it('tells what KVM_RUN returned with: the exit reason by name, and hw_exit_reason when the model logged one', () => {
    expect(runAnswer(run({ run: { exit_reason: 0, hw_exit_reason: 12 } }))).toBe('exit_reason KVM_EXIT_UNKNOWN, hw_exit_reason 12');
    expect(runAnswer(run({ run: { exit_reason: 5 } }))).toBe('exit_reason KVM_EXIT_HLT');
    expect(runAnswer(run({ run: { exit_reason: 999 } }))).toBe('exit_reason 999');
    expect(runAnswer(run({}))).toBe('');
  });
});
