import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMismatch, matchExpect } from './expect';

const RESULT = {
  index: 4, op: 'run', ret: 0, errno: null,
  run: { exit_reason: 'KVM_EXIT_UNKNOWN', exit_reason_code: 0, hw_exit_reason: 12, rip: '0x10002', mp_state: 'HALTED', io: { port: 128 } },
  frames: [{ fn: 'kvm_arch_vcpu_ioctl_run', ret: 0 }],
};

describe('matchExpect', () => {
  it.each([
    [{ ret: 0 }],
    [{ run: { hw_exit_reason: 12 } }],
    [{ run: { exit_reason: 'UNKNOWN', rip: 65538, io: { port: '0x80' } } }],
    [{ run: { hw_exit_reason: '0xc', mp_state: 'HALTED' } }],
    [{ errno: null }],
    [{ frames: [{ fn: 'kvm_arch_vcpu_ioctl_run' }] }],
    [{}],
  ])('meets %j', (e) => expect(matchExpect(e, RESULT)).toEqual([]));

  it.each([
    [{ ret: -1 }, 'ret: expected -1, got 0'],
    [{ run: { exit_reason: 'KVM_EXIT_HLT' } }, 'run.exit_reason: expected "KVM_EXIT_HLT", got "KVM_EXIT_UNKNOWN"'],
    [{ run: { exit_reason: 'EXIT_UNKNOWN' } }, 'run.exit_reason: expected "EXIT_UNKNOWN", got "KVM_EXIT_UNKNOWN"'],
    [{ run: { debug: { exception: 1 } } }, 'run.debug: expected {"exception":1}, got nothing'],
    [{ blocked: true }, 'blocked: expected true, got nothing'],
    [{ frames: [] }, 'frames: expected [], got [{"fn":"kvm_arch_vcpu_ioctl_run","ret":0}]'],
    [{ errno: 'EINVAL' }, 'errno: expected "EINVAL", got null'],
  ])('reports %j', (e, message) => expect(matchExpect(e, RESULT).map(formatMismatch)).toEqual([message]));

  it('meets any result with the result itself', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => { expect(matchExpect(v, v)).toEqual([]); }), { numRuns: 300 });
  });
});
