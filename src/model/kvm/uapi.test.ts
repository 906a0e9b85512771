// The UAPI tables resolve both ways, with or without their prefix.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { ERRNO, KVM_CAP, KVM_EXIT, KVM_GUESTDBG, KVM_MP_STATE, KVM_X86_DISABLE_EXITS, KVM_X86_QUIRK, VMX_EXIT_REASON } from './uapi';

const TABLES = { KVM_CAP, KVM_EXIT, KVM_GUESTDBG, KVM_MP_STATE, ERRNO, KVM_X86_QUIRK, VMX_EXIT_REASON };

test.each(Object.entries(TABLES))('%s: every name maps to its value and back', (_, table) => {
  for (const [short, v] of table.byName) {
    expect(table.value(short)).toBe(v);
    expect(table.value(table.prefix + short)).toBe(v);
    expect(table.value(table.name(v)!)).toBe(v);
  }
});

test('the numbers the spec names', () => {
  expect(KVM_CAP.value('X86_DISABLE_EXITS')).toBe(143);
  expect(KVM_X86_DISABLE_EXITS.value('KVM_X86_DISABLE_EXITS_OVERRIDE')).toBe(1n << 63n);
  expect(KVM_X86_DISABLE_EXITS.value('APERFMPERF')).toBe(0x10n);
  expect(KVM_GUESTDBG.value('EXIT_USERSPACE')).toBe(4);
  expect(KVM_EXIT.name(5)).toBe('KVM_EXIT_HLT');
  expect(VMX_EXIT_REASON.name(12)).toBe('EXIT_REASON_HLT');
  expect(KVM_MP_STATE.name(3)).toBe('KVM_MP_STATE_HALTED');
});

test('flag masks decompose into names and back', () => {
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (mask) => {
    const names = KVM_X86_DISABLE_EXITS.flagNames(mask);
    const back = names.reduce((m, n) => m | (KVM_X86_DISABLE_EXITS.value(n) ?? BigInt(n)), 0n);
    expect(back).toBe(mask);
  }));
});
