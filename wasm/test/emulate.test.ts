// emulate(): one instruction the way KVM's emulator runs it, with accesses outside RAM completed by
// MMIO fragments (the n-th access by fragment n), and a stop describing the access when none is left.
import { beforeEach, describe, expect, it } from 'vitest';
import * as abi from '../src/abi';
import type { Core } from '../../src/model/cpu/core';
import { machine, load, hex } from '../../src/model/cpu/testkit';

let core: Core;
beforeEach(async () => { core = await machine(); });

function addFragment(gpa: bigint, size: number, write: boolean, data: bigint): void {
  const n = core.u32(0, abi.S_MMIO_COUNT), at = abi.S_MMIO_FRAGS + n * abi.MMIO_FRAG_SIZE;
  core.setU64(0, at + abi.F_GPA, gpa);
  core.setU32(0, at + abi.F_SIZE, size);
  core.setU32(0, at + abi.F_WRITE, write ? 1 : 0);
  core.setU64(0, at + abi.F_DATA, data);
  core.setU32(0, abi.S_MMIO_COUNT, n + 1);
}
const access = () => ({
  gpa: core.u64(0, abi.S_EXIT_GPA), size: core.u32(0, abi.S_ACCESS_SIZE),
  write: core.u32(0, abi.S_ACCESS_WRITE), data: core.u64(0, abi.S_ACCESS_DATA),
});

describe('emulate()', () => {
  it('a load from MMIO stops with the access, then completes from the fragment', () => {
    load(core, hex`8b 03`); // mov eax, [rbx]
    core.setReg(0, 'rbx', 0xfed0_0000n);
    core.setReg(0, 'rax', 0xffff_ffff_ffff_ffffn);
    expect(core.emulate(0)).toBe(abi.EMUL_MMIO);
    expect(access()).toEqual({ gpa: 0xfed0_0000n, size: 4, write: 0, data: 0n });
    expect(core.reg(0, 'rip')).toBe(0x1000n); // state unchanged
    expect(core.reg(0, 'rax')).toBe(0xffff_ffff_ffff_ffffn);
    addFragment(0xfed0_0000n, 4, false, 0x1234_5678_9abc_def0n);
    expect(core.emulate(0)).toBe(abi.EMUL_DONE);
    expect(core.reg(0, 'rax')).toBe(0x9abc_def0n);
    expect(core.reg(0, 'rip')).toBe(0x1002n);
    expect(core.u32(0, abi.S_MMIO_COUNT)).toBe(0);
  });

  it('a read-modify-write takes two fragments; flags are as before until it completes', () => {
    load(core, hex`01 03`); // add [rbx], eax
    core.setReg(0, 'rbx', 0xfee0_0300n);
    core.setReg(0, 'rax', 5n);
    core.setReg(0, 'rflags', 0x2n);
    expect(core.emulate(0)).toBe(abi.EMUL_MMIO);
    addFragment(0xfee0_0300n, 4, false, 0xffff_ffffn);
    expect(core.emulate(0)).toBe(abi.EMUL_MMIO);
    expect(access()).toEqual({ gpa: 0xfee0_0300n, size: 4, write: 1, data: 4n });
    expect(core.reg(0, 'rflags')).toBe(0x2n);
    addFragment(0xfee0_0300n, 4, true, 4n);
    expect(core.emulate(0)).toBe(abi.EMUL_DONE);
    expect(core.reg(0, 'rflags') & 1n).toBe(1n); // the carry out of 0xffffffff + 5
  });

  it('MOVS from RAM to MMIO, one REP iteration per call', () => {
    core.writeU64(0x2000, 0x1122334455667788n);
    load(core, hex`f3 a4`); // rep movsb
    core.setReg(0, 'rsi', 0x2000n);
    core.setReg(0, 'rdi', 0xc000_0000n);
    core.setReg(0, 'rcx', 2n);
    expect(core.emulate(0)).toBe(abi.EMUL_MMIO);
    expect(access()).toEqual({ gpa: 0xc000_0000n, size: 1, write: 1, data: 0x88n });
    addFragment(0xc000_0000n, 1, true, 0x88n);
    expect(core.emulate(0)).toBe(abi.EMUL_DONE);
    expect([core.reg(0, 'rcx'), core.reg(0, 'rip'), core.reg(0, 'rdi')]).toEqual([1n, 0x1000n, 0xc000_0001n]);
    expect(core.emulate(0)).toBe(abi.EMUL_MMIO);
    addFragment(0xc000_0001n, 1, true, 0x77n);
    expect(core.emulate(0)).toBe(abi.EMUL_DONE);
    expect([core.reg(0, 'rcx'), core.reg(0, 'rip')]).toEqual([0n, 0x1002n]);
  });

  it('ignores the VMX controls: no exits', () => {
    load(core, hex`48 8b 03`, { procControls: 0xffffffff });
    core.setReg(0, 'rbx', 0x2000n);
    core.writeU64(0x2000, 42n);
    expect(core.emulate(0)).toBe(abi.EMUL_DONE);
    expect(core.reg(0, 'rax')).toBe(42n);
  });

  it('reports exceptions without delivering them', () => {
    load(core, hex`0f 0b`); // ud2
    expect(core.emulate(0)).toBe(abi.EMUL_EXCEPTION);
    expect(core.u32(0, abi.S_EXIT_INTR_INFO)).toBe((abi.INTR_INFO_VALID | (abi.INTR_TYPE_HARD_EXCEPTION << 8) | abi.UD_VECTOR) >>> 0);
    expect(core.reg(0, 'rip')).toBe(0x1000n);
    load(core, hex`48 8b 03`);
    core.setReg(0, 'rbx', 0x8000_0000_0000_0000n);
    expect(core.emulate(0)).toBe(abi.EMUL_EXCEPTION);
    expect(core.u32(0, abi.S_EXIT_INTR_INFO) & 0xff).toBe(abi.GP_VECTOR);
  });

  it('leaves IO, HLT, CPUID, MSRs and software interrupts to the model', () => {
    for (const code of [hex`e6 80`, hex`f4`, hex`0f a2`, hex`0f 32`, hex`cd 80`, hex`0f 01 c9`, hex`f3 6e`]) {
      load(core, code);
      expect(core.emulate(0)).toBe(abi.EMUL_UNHANDLED);
      expect(core.reg(0, 'rip')).toBe(0x1000n);
    }
  });
});
