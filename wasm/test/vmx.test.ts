// VMX execution controls, each set and clear: the exit, its basic reason and qualification, RIP left
// at the exiting instruction with nothing of it retired; and the instructions that exit always.
import { beforeEach, describe, expect, it } from 'vitest';
import * as abi from '../src/abi';
import type { Core } from '../../src/model/cpu/core';
import { machine, load, exitInfo, hex, runUntil } from '../../src/model/cpu/testkit';

let core: Core;
beforeEach(async () => { core = await machine({ ram: 1 << 20, vcpus: 2 }); });

const SECONDARY = abi.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
function controls(primary: number, secondary = 0, pin = 0, vcpu = 0): void {
  core.setU32(vcpu, abi.S_PROC_CONTROLS, (primary | (secondary ? SECONDARY : 0)) >>> 0);
  core.setU32(vcpu, abi.S_PROC_CONTROLS2, secondary);
  core.setU32(vcpu, abi.S_PIN_CONTROLS, pin);
}
/** Expects an exit with this reason at RIP (and, for an instruction's exit, its length). */
function expectExit(reason: number, rip: number, len?: number): ReturnType<typeof exitInfo> {
  expect(core.run(0, 100_000)).toBe(abi.RUN_EXIT);
  const x = exitInfo(core);
  expect(x.reason).toBe(reason);
  expect(core.reg(0, 'rip')).toBe(BigInt(rip));
  if (len !== undefined) {
    expect(x.len).toBe(len);
    expect(core.u64(0, abi.S_LAST_RIP)).toBe(BigInt(rip));
  }
  return x;
}

describe('HLT', () => {
  it('HLT_EXITING: exit 12 at the HLT, length 1', () => {
    load(core, hex`90 f4`); // nop; hlt
    expectExit(abi.EXIT_REASON_HLT, 0x1001, 1);
    expect(core.u64(0, abi.S_INSNS)).toBe(1n);
  });

  it('without it: the HLT activity state, RIP past the HLT, RUN_HALTED at once and on every later call', () => {
    load(core, hex`90 f4 90`, { procControls: 0 });
    core.setReg(0, 'rflags', 0x202n);
    expect(core.run(0, 100_000)).toBe(abi.RUN_HALTED);
    expect(core.reg(0, 'rip')).toBe(0x1002n);
    expect(core.u32(0, abi.S_ACTIVITY)).toBe(abi.ACTIVITY_HLT);
    const tsc = core.u64(0, abi.S_TSC), insns = core.u64(0, abi.S_INSNS);
    expect(insns).toBe(2n);
    expect(core.run(0, 100_000)).toBe(abi.RUN_HALTED);
    expect(core.u64(0, abi.S_TSC)).toBe(tsc); // waiting uses no cycles
    expect(core.u64(0, abi.S_INSNS)).toBe(insns);
  });

  it('a host interrupt with external-interrupt exiting exits from HLT and the state stays HLT', () => {
    load(core, hex`f4 90`, { procControls: 0 });
    controls(0, 0, abi.PIN_EXT_INTR_EXITING);
    expect(core.run(0, 1000)).toBe(abi.RUN_HALTED);
    core.setU32(0, abi.S_HOST_IRQ, 0xec);
    expect(core.run(0, 1000)).toBe(abi.RUN_EXIT);
    const x = exitInfo(core);
    expect(x.reason).toBe(abi.EXIT_REASON_EXTERNAL_INTERRUPT);
    expect(x.intrInfo).toBe((abi.INTR_INFO_VALID | 0xec) >>> 0);
    expect(core.u32(0, abi.S_HOST_IRQ)).toBe(0);
    expect(core.u32(0, abi.S_ACTIVITY)).toBe(abi.ACTIVITY_HLT);
    expect(core.run(0, 1000)).toBe(abi.RUN_HALTED);
  });
});

it('without external-interrupt exiting a host interrupt goes to the guest through its IDT', () => {
  const g = new Uint8Array(16), dv = new DataView(g.buffer);
  dv.setUint16(0, 0x3000, true); dv.setUint16(2, 8, true); dv.setUint8(5, 0x8e);
  core.writeMem(0x9000 + 0x20 * 16, g);
  core.setU64(0, abi.S_IDTR_BASE, 0x9000n);
  core.setU32(0, abi.S_IDTR_LIMIT, 0xfff);
  core.writeMem(0x3000, hex`f4`);
  load(core, hex`90 90`);
  core.setReg(0, 'rflags', 0x202n);
  core.setU32(0, abi.S_HOST_IRQ, 0x20);
  expectExit(abi.EXIT_REASON_HLT, 0x3000);
  expect(core.readU64(0x8000 - 40)).toBe(0x1000n);
});

describe('PAUSE and pause-loop exiting', () => {
  // f3 90 ; l: pause
  // eb fc ; jmp l
  const spin = hex`f3 90 eb fc`;

  it('PAUSE_EXITING: every PAUSE exits (40)', () => {
    load(core, spin);
    controls(abi.CPU_BASED_PAUSE_EXITING);
    expectExit(abi.EXIT_REASON_PAUSE_INSTRUCTION, 0x1000, 2);
  });

  it('without PAUSE controls the loop spins until the budget', () => {
    load(core, spin);
    controls(0);
    expect(core.run(0, 100_000)).toBe(abi.RUN_BUDGET);
  });

  it('PLE: exits once the loop has spun longer than PLE_WINDOW cycles (with gaps under PLE_GAP)', () => {
    load(core, spin);
    controls(0, abi.SECONDARY_EXEC_PAUSE_LOOP_EXITING);
    core.setU32(0, abi.S_PLE_GAP, 128);
    core.setU32(0, abi.S_PLE_WINDOW, 4096);
    const t0 = core.u64(0, abi.S_TSC);
    expectExit(abi.EXIT_REASON_PAUSE_INSTRUCTION, 0x1000);
    // Each iteration is PAUSE (40 cycles) + JMP (1): the first PAUSE > 4096 cycles after the loop's first.
    const spun = core.u64(0, abi.S_TSC) - t0;
    expect(spun).toBeGreaterThan(4096n);
    expect(spun).toBeLessThanOrEqual(4096n + 41n);
    expect(core.u32(0, abi.S_PLE_ACTIVE)).toBe(0); // the next PAUSE after the entry starts a new loop
  });

  it('PLE: PAUSEs further apart than PLE_GAP never exit', () => {
    // f3 90          ; l: pause
    // b9 40 00 00 00 ; mov ecx, 64
    // e2 fe          ; loop $ (64 iterations: ~64 cycles)
    // e2 ... no: 48 ff c9 / 75 fd ; dec rcx; jnz $-1
    load(core, hex`f3 90 b9 40 00 00 00 ff c9 75 fc eb f3`);
    controls(0, abi.SECONDARY_EXEC_PAUSE_LOOP_EXITING);
    core.setU32(0, abi.S_PLE_GAP, 32);
    core.setU32(0, abi.S_PLE_WINDOW, 4096);
    expect(core.run(0, 200_000)).toBe(abi.RUN_BUDGET);
  });

  it('secondary controls count only when the primary controls activate them', () => {
    load(core, spin);
    core.setU32(0, abi.S_PROC_CONTROLS, 0);
    core.setU32(0, abi.S_PROC_CONTROLS2, abi.SECONDARY_EXEC_PAUSE_LOOP_EXITING);
    core.setU32(0, abi.S_PLE_WINDOW, 100);
    expect(core.run(0, 100_000)).toBe(abi.RUN_BUDGET);
  });
});

describe('time stamp counter', () => {
  it('RDTSC reads the TSC at the instruction, plus TSC_OFFSET with offsetting', () => {
    load(core, hex`90 90 0f 31 f4`); // nop; nop; rdtsc; hlt
    core.setU64(0, abi.S_TSC, 1000n);
    controls(abi.CPU_BASED_HLT_EXITING);
    expectExit(abi.EXIT_REASON_HLT, 0x1004);
    expect((core.reg(0, 'rdx') << 32n) | core.reg(0, 'rax')).toBe(1002n);
    load(core, hex`0f 31 f4`);
    core.setU64(0, abi.S_TSC_OFFSET, BigInt.asUintN(64, -500n));
    controls(abi.CPU_BASED_HLT_EXITING | abi.CPU_BASED_USE_TSC_OFFSETTING);
    const tsc = core.u64(0, abi.S_TSC);
    expectExit(abi.EXIT_REASON_HLT, 0x1002);
    expect((core.reg(0, 'rdx') << 32n) | core.reg(0, 'rax')).toBe(tsc - 500n);
  });

  it('RDTSC_EXITING: exit 16; RDTSCP exits 51, and is #UD without ENABLE_RDTSCP', () => {
    load(core, hex`0f 31`);
    controls(abi.CPU_BASED_RDTSC_EXITING);
    expectExit(abi.EXIT_REASON_RDTSC, 0x1000, 2);
    load(core, hex`0f 01 f9`);
    controls(abi.CPU_BASED_RDTSC_EXITING, abi.SECONDARY_EXEC_ENABLE_RDTSCP);
    expectExit(abi.EXIT_REASON_RDTSCP, 0x1000, 3);
    load(core, hex`0f 01 f9`);
    controls(0);
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.UD_VECTOR);
    expect(expectExit(abi.EXIT_REASON_EXCEPTION_NMI, 0x1000).intrInfo & 0xff).toBe(abi.UD_VECTOR);
  });

  it('RDTSCP loads TSC_AUX into ECX', () => {
    load(core, hex`0f 01 f9 f4`);
    controls(abi.CPU_BASED_HLT_EXITING, abi.SECONDARY_EXEC_ENABLE_RDTSCP);
    core.setU64(0, abi.S_MSR_TSC_AUX, 0x1234n);
    core.setReg(0, 'rcx', 0xffff_ffff_ffff_ffffn);
    expectExit(abi.EXIT_REASON_HLT, 0x1003);
    expect(core.reg(0, 'rcx')).toBe(0x1234n);
  });
});

describe('MSRs', () => {
  const rdmsr = hex`0f 32 f4`, wrmsr = hex`0f 30 f4`;

  it('without MSR bitmaps every RDMSR and WRMSR exits (31, 32)', () => {
    load(core, rdmsr);
    core.setReg(0, 'rcx', BigInt(abi.MSR_EFER));
    expectExit(abi.EXIT_REASON_MSR_READ, 0x1000, 2);
    load(core, wrmsr);
    expectExit(abi.EXIT_REASON_MSR_WRITE, 0x1000, 2);
  });

  it('with bitmaps: intercepted bits exit, others run in the core, MSRs outside both ranges always exit', () => {
    controls(abi.CPU_BASED_HLT_EXITING | abi.CPU_BASED_USE_MSR_BITMAPS);
    core.setMsrIntercept(0, abi.MSR_TSC_AUX, false, true);
    load(core, wrmsr, { procControls: abi.CPU_BASED_HLT_EXITING | abi.CPU_BASED_USE_MSR_BITMAPS });
    core.setReg(0, 'rcx', BigInt(abi.MSR_TSC_AUX));
    expectExit(abi.EXIT_REASON_MSR_WRITE, 0x1000);
    load(core, rdmsr, { procControls: abi.CPU_BASED_HLT_EXITING | abi.CPU_BASED_USE_MSR_BITMAPS });
    core.setU64(0, abi.S_MSR_TSC_AUX, 0x55n);
    core.setReg(0, 'rcx', BigInt(abi.MSR_TSC_AUX));
    expectExit(abi.EXIT_REASON_HLT, 0x1002);
    expect(core.reg(0, 'rax')).toBe(0x55n);
    load(core, rdmsr, { procControls: abi.CPU_BASED_HLT_EXITING | abi.CPU_BASED_USE_MSR_BITMAPS });
    core.setReg(0, 'rcx', 0x4000_0000n);
    expectExit(abi.EXIT_REASON_MSR_READ, 0x1000);
  });

  it('the core\'s MSRs: FS base feeds FS: addressing; residency counters read through; unknown MSRs #GP(0)', () => {
    const pc = abi.CPU_BASED_HLT_EXITING | abi.CPU_BASED_USE_MSR_BITMAPS;
    // b9 00 01 00 c0 ; mov ecx, 0xc0000100 (FS_BASE)
    // 0f 30          ; wrmsr
    // 64 8b 03       ; mov eax, fs:[rbx]
    // f4             ; hlt
    load(core, hex`b9 00 01 00 c0 0f 30 64 8b 03 f4`, { procControls: pc });
    core.writeU64(0x2010, 0xabcdn);
    core.setReg(0, 'rax', 0x2000n);
    core.setReg(0, 'rdx', 0n);
    core.setReg(0, 'rbx', 0x10n);
    expectExit(abi.EXIT_REASON_HLT, 0x100a);
    expect(core.reg(0, 'rax')).toBe(0xabcdn);
    expect(core.u64(0, abi.S_MSR_FS_BASE)).toBe(0x2000n);
    load(core, rdmsr, { procControls: pc });
    core.setU64(0, abi.S_MSR_C6_RES, 0x1_0000_0002n);
    core.setReg(0, 'rcx', BigInt(abi.MSR_CORE_C6_RESIDENCY));
    expectExit(abi.EXIT_REASON_HLT, 0x1002);
    expect([core.reg(0, 'rax'), core.reg(0, 'rdx')]).toEqual([2n, 1n]);
    load(core, rdmsr, { procControls: pc });
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.GP_VECTOR);
    core.setReg(0, 'rcx', 0x123n);
    const x = expectExit(abi.EXIT_REASON_EXCEPTION_NMI, 0x1000);
    expect([x.intrInfo & 0xff, x.intrErr]).toEqual([abi.GP_VECTOR, 0]);
  });

  it('APERF and MPERF advance with the cycles run', () => {
    const pc = abi.CPU_BASED_HLT_EXITING | abi.CPU_BASED_USE_MSR_BITMAPS;
    // 90 x 10, then b9 e8 00 00 00 ; mov ecx, 0xe8 (APERF) ; 0f 32 ; rdmsr ; f4
    load(core, [...Array(10).fill(0x90), ...hex`b9 e8 00 00 00 0f 32 f4`], { procControls: pc });
    core.setU64(0, abi.S_MSR_APERF, 100n);
    expectExit(abi.EXIT_REASON_HLT, 0x1011);
    expect(core.reg(0, 'rax')).toBe(111n);
    expect(core.u64(0, abi.S_MSR_APERF)).toBe(112n);
  });
});

describe('unconditional exits', () => {
  it.each([
    ['CPUID', hex`0f a2`, abi.EXIT_REASON_CPUID],
    ['INVD', hex`0f 08`, abi.EXIT_REASON_INVD],
    ['VMCALL', hex`0f 01 c1`, abi.EXIT_REASON_VMCALL],
  ])('%s exits (reason %#s)', (_n, code, reason) => {
    load(core, code);
    controls(0);
    expectExit(reason as number, 0x1000, (code as number[]).length);
  });

  it('WBINVD exits only with WBINVD_EXITING', () => {
    load(core, hex`0f 09`);
    controls(0, abi.SECONDARY_EXEC_WBINVD_EXITING);
    expectExit(abi.EXIT_REASON_WBINVD, 0x1000, 2);
    load(core, hex`0f 09 f4`);
    expectExit(abi.EXIT_REASON_HLT, 0x1002);
  });

  it('IN/OUT: size, direction, operand encoding and port in the qualification', () => {
    load(core, hex`e4 71`); // in al, 0x71
    let x = expectExit(abi.EXIT_REASON_IO_INSTRUCTION, 0x1000, 2);
    expect(x.qual).toBe(BigInt(0 | abi.IOQ_IN | abi.IOQ_IMM | (0x71 << 16)));
    load(core, hex`66 ef`); // out dx, ax
    core.setReg(0, 'rdx', 0x3f8n);
    x = expectExit(abi.EXIT_REASON_IO_INSTRUCTION, 0x1000, 2);
    expect(x.qual).toBe(BigInt(1 | (0x3f8 << 16)));
    load(core, hex`ed`); // in eax, dx
    x = expectExit(abi.EXIT_REASON_IO_INSTRUCTION, 0x1000, 1);
    expect(x.qual).toBe(BigInt(3 | abi.IOQ_IN | (0x3f8 << 16)));
  });

  it('INS/OUTS: string and REP bits, linear address and instruction information', () => {
    load(core, hex`f3 6e`); // rep outsb
    core.setReg(0, 'rdx', 0x80n);
    core.setReg(0, 'rsi', 0x2000n);
    const x = expectExit(abi.EXIT_REASON_IO_INSTRUCTION, 0x1000, 2);
    expect(x.qual).toBe(BigInt(abi.IOQ_STRING | abi.IOQ_REP | (0x80 << 16)));
    expect(x.gla).toBe(0x2000n);
    expect(x.insnInfo).toBe((2 << 7) | (3 << 15)); // 64-bit addresses, DS
  });
});

describe('memory outside RAM', () => {
  it('EPT violation: read/write/fetch bits, the GPA, and the access', () => {
    load(core, hex`48 8b 0b`); // mov rcx, [rbx]
    core.setReg(0, 'rbx', 0xd000_0000n);
    let x = expectExit(abi.EXIT_REASON_EPT_VIOLATION, 0x1000);
    expect(x.qual).toBe(BigInt(abi.EPTQ_READ | abi.EPTQ_GLA_VALID | abi.EPTQ_GLA_TRANSLATED));
    expect([x.gpa, x.gla, x.accessSize, x.accessWrite]).toEqual([0xd000_0000n, 0xd000_0000n, 8, 0]);
    load(core, hex`87 0b`); // xchg [rbx], ecx: the read comes first
    x = expectExit(abi.EXIT_REASON_EPT_VIOLATION, 0x1000);
    expect(Number(x.qual) & 7).toBe(abi.EPTQ_READ);
    load(core, hex`89 0b`); // mov [rbx], ecx
    core.setReg(0, 'rcx', 0x1_2345_6789n);
    x = expectExit(abi.EXIT_REASON_EPT_VIOLATION, 0x1000);
    expect(Number(x.qual) & 7).toBe(abi.EPTQ_WRITE);
    expect([x.accessSize, x.accessWrite, x.accessData]).toEqual([4, 1, 0x2345_6789n]);
    load(core, hex`ff e3`); // jmp rbx
    x = expectExit(abi.EXIT_REASON_EPT_VIOLATION, 0xd000_0000);
    expect(Number(x.qual) & 7).toBe(abi.EPTQ_FETCH);
  });

  it('an access straddling the end of RAM faults on the first byte outside it', () => {
    load(core, hex`48 8b 0b`);
    core.setReg(0, 'rbx', BigInt((1 << 20) - 4));
    expect(expectExit(abi.EXIT_REASON_EPT_VIOLATION, 0x1000).gpa).toBe(BigInt(1 << 20));
  });

  it('the APIC page: exit 44 with the offset and access type', () => {
    load(core, hex`8b 83 00 03 00 00`); // mov eax, [rbx+0x300]
    core.setReg(0, 'rbx', BigInt(abi.APIC_BASE_GPA));
    let x = expectExit(abi.EXIT_REASON_APIC_ACCESS, 0x1000);
    expect(x.qual).toBe(0x300n | BigInt(abi.APIC_ACCESS_LINEAR_READ << 12));
    load(core, hex`89 83 b0 00 00 00`); // mov [rbx+0xb0], eax
    core.setReg(0, 'rax', 0n);
    x = expectExit(abi.EXIT_REASON_APIC_ACCESS, 0x1000);
    expect(x.qual).toBe(0xb0n | BigInt(abi.APIC_ACCESS_LINEAR_WRITE << 12));
    expect([x.accessSize, x.accessWrite]).toEqual([4, 1]);
  });
});

describe('events into the guest', () => {
  const HANDLER = 0x3000;
  function idtAt(vector: number, handler = HANDLER): void {
    const g = new Uint8Array(16), dv = new DataView(g.buffer);
    dv.setUint16(0, handler & 0xffff, true); dv.setUint16(2, 8, true); dv.setUint8(5, 0x8e); dv.setUint16(6, handler >>> 16, true);
    core.writeMem(0x9000 + vector * 16, g);
    core.setU64(0, abi.S_IDTR_BASE, 0x9000n);
    core.setU32(0, abi.S_IDTR_LIMIT, 0xfff);
  }

  it('VM-entry injection: delivered before any instruction, wakes HLT, clears the valid bit', () => {
    idtAt(0x30);
    core.writeMem(HANDLER, hex`f4`);
    load(core, hex`f4`, { procControls: 0 });
    expect(core.run(0, 1000)).toBe(abi.RUN_HALTED);
    core.setU32(0, abi.S_ENTRY_INTR_INFO, (abi.INTR_INFO_VALID | 0x30) >>> 0);
    controls(abi.CPU_BASED_HLT_EXITING);
    expectExit(abi.EXIT_REASON_HLT, HANDLER);
    expect(core.u32(0, abi.S_ENTRY_INTR_INFO) & abi.INTR_INFO_VALID).toBe(0);
    expect(core.readU64(0x8000 - 40)).toBe(0x1001n); // the interrupted RIP: past the HLT
  });

  it('injected software interrupts push RIP + the VM-entry instruction length', () => {
    idtAt(0x80);
    core.writeMem(HANDLER, hex`f4`);
    load(core, hex`cd 80`);
    core.setU32(0, abi.S_ENTRY_INTR_INFO, (abi.INTR_INFO_VALID | (abi.INTR_TYPE_SOFT_INTR << 8) | 0x80) >>> 0);
    core.setU32(0, abi.S_ENTRY_INSN_LEN, 2);
    expectExit(abi.EXIT_REASON_HLT, HANDLER);
    expect(core.readU64(0x8000 - 40)).toBe(0x1002n);
  });

  it('a posted interrupt (S_VIRQ) is taken when IF = 1 and no shadow, without an exit, and wakes HLT', () => {
    idtAt(0x40);
    core.writeMem(HANDLER, hex`f4`);
    // fb ; sti
    // f4 ; hlt   (STI's shadow covers the HLT; the interrupt comes in the HLT state)
    load(core, hex`fb f4`, { procControls: 0 });
    core.setU32(0, abi.S_VIRQ, (abi.INTR_INFO_VALID | 0x40) >>> 0);
    expect(core.run(0, 1000)).toBe(abi.RUN_HALTED);
    expect(core.reg(0, 'rip')).toBe(BigInt(HANDLER + 1)); // taken at the HLT: the handler's HLT waits
    expect(core.u32(0, abi.S_VIRQ)).toBe(0);
    expect(core.readU64(0x8000 - 40)).toBe(0x1002n);
  });

  it('a posted interrupt waits while IF = 0 (and HLT stays halted)', () => {
    idtAt(0x40);
    load(core, hex`f4`, { procControls: 0 });
    core.setU32(0, abi.S_VIRQ, (abi.INTR_INFO_VALID | 0x40) >>> 0);
    expect(core.run(0, 1000)).toBe(abi.RUN_HALTED);
    expect(core.reg(0, 'rip')).toBe(0x1001n);
    expect(core.u32(0, abi.S_VIRQ)).not.toBe(0);
  });

  it('interrupt-window exiting: exits when IF = 1 and no STI shadow, and wakes HLT', () => {
    // fb ; sti
    // 90 ; nop  (in the STI shadow)
    // 90 ; nop
    load(core, hex`fb 90 90`);
    controls(abi.CPU_BASED_INTR_WINDOW_EXITING);
    expectExit(abi.EXIT_REASON_INTERRUPT_WINDOW, 0x1002);
    load(core, hex`f4`, { procControls: 0 });
    core.setReg(0, 'rflags', 0x2n);
    expect(core.run(0, 1000)).toBe(abi.RUN_HALTED);
    core.setReg(0, 'rflags', 0x202n);
    controls(abi.CPU_BASED_INTR_WINDOW_EXITING);
    expectExit(abi.EXIT_REASON_INTERRUPT_WINDOW, 0x1001);
    expect(core.u32(0, abi.S_ACTIVITY)).toBe(abi.ACTIVITY_ACTIVE);
  });

  it('the STI shadow is reported in the interruptibility state when an exit lands in it', () => {
    load(core, hex`fb f4`); // sti; hlt (HLT exits, in the shadow)
    expectExit(abi.EXIT_REASON_HLT, 0x1001);
    expect(core.u32(0, abi.S_INTERRUPTIBILITY) & abi.INTR_BLOCK_STI).toBe(abi.INTR_BLOCK_STI);
  });
});

describe('control registers and XCR0', () => {
  it('CR8 and CR3 accesses exit as their load/store exiting controls say (28, with CR, direction, GPR)', () => {
    load(core, hex`44 0f 22 c2`, { procControls: abi.CPU_BASED_CR8_LOAD_EXITING }); // mov cr8, rdx
    expect(expectExit(abi.EXIT_REASON_CR_ACCESS, 0x1000, 4).qual).toBe(BigInt(8 | (2 << abi.CRQ_GPR_SHIFT)));
    load(core, hex`0f 20 d9`, { procControls: abi.CPU_BASED_CR3_STORE_EXITING }); // mov rcx, cr3
    expect(expectExit(abi.EXIT_REASON_CR_ACCESS, 0x1000, 3).qual).toBe(BigInt(3 | abi.CRQ_FROM_CR | (1 << abi.CRQ_GPR_SHIFT)));
    load(core, hex`f0 0f 22 c2`, { procControls: abi.CPU_BASED_CR8_LOAD_EXITING }); // lock mov cr0, rdx = mov cr8, rdx (AMD)
    expect(expectExit(abi.EXIT_REASON_CR_ACCESS, 0x1000, 4).qual).toBe(BigInt(8 | (2 << abi.CRQ_GPR_SHIFT)));
  });

  it('without exiting, CR2/CR3/CR8 are read and written in the state block; CR0 writes always exit', () => {
    // 44 0f 22 c2 ; mov cr8, rdx
    // 44 0f 20 c6 ; mov rsi, cr8
    // 0f 22 d0    ; mov cr2, rax
    // 0f 20 d7    ; mov rdi, cr2
    // 0f 20 c1    ; mov rcx, cr0
    // f4
    load(core, hex`44 0f 22 c2 44 0f 20 c6 0f 22 d0 0f 20 d7 0f 20 c1 f4`);
    core.setReg(0, 'rdx', 5n);
    core.setReg(0, 'rax', 0xdead000n);
    expectExit(abi.EXIT_REASON_HLT, 0x1011);
    expect([core.reg(0, 'rsi'), core.reg(0, 'rdi'), core.reg(0, 'rcx')]).toEqual([5n, 0xdead000n, core.u64(0, abi.S_CR0)]);
    load(core, hex`0f 22 c0`); // mov cr0, rax
    expect(expectExit(abi.EXIT_REASON_CR_ACCESS, 0x1000, 3).qual).toBe(0n);
    core.writeMem(0x2000, hex`0f 20 c8`); // mov rax, cr1
    expect(core.x.decode(0x2000)).toBe(0);
  });

  it('XSETBV always exits (55); XGETBV reads XCR0', () => {
    load(core, hex`0f 01 d1`);
    controls(0);
    expectExit(abi.EXIT_REASON_XSETBV, 0x1000, 3);
    load(core, hex`0f 01 d0 f4`);
    core.setU64(0, abi.S_XCR0, 7n);
    core.setReg(0, 'rcx', 0n);
    expectExit(abi.EXIT_REASON_HLT, 0x1003);
    expect([core.reg(0, 'rax'), core.reg(0, 'rdx')]).toEqual([7n, 0n]);
  });
});

describe('debug registers', () => {
  it('MOV_DR_EXITING: exit 29 with the DR, the direction and the GPR', () => {
    load(core, hex`0f 23 f8`); // mov dr7, rax
    controls(abi.CPU_BASED_MOV_DR_EXITING);
    expect(expectExit(abi.EXIT_REASON_DR_ACCESS, 0x1000, 3).qual).toBe(7n);
    load(core, hex`0f 21 c6`, { procControls: abi.CPU_BASED_MOV_DR_EXITING }); // mov rsi, dr0
    expect(expectExit(abi.EXIT_REASON_DR_ACCESS, 0x1000, 3).qual).toBe(BigInt(abi.DRQ_FROM_DR | (6 << abi.DRQ_GPR_SHIFT)));
  });

  it('without it the registers are the state block\'s; DR4 is DR6; DR8 is #UD', () => {
    // 0f 23 c2 ; mov dr0, rdx
    // 0f 23 f8 ; mov dr7, rax
    // 0f 21 c6 ; mov rsi, dr0
    // 0f 21 e1 ; mov rcx, dr4
    // f4
    load(core, hex`0f 23 c2 0f 23 f8 0f 21 c6 0f 21 e1 f4`);
    core.setReg(0, 'rdx', 0x1234n);
    core.setReg(0, 'rax', 0x3n);
    expectExit(abi.EXIT_REASON_HLT, 0x100c);
    expect([core.reg(0, 'rsi'), core.u64(0, abi.S_DR7), core.u64(0, abi.S_DR0)]).toEqual([0x1234n, 0x403n, 0x1234n]);
    expect(core.reg(0, 'rcx')).toBe(core.u64(0, abi.S_DR6));
    core.writeMem(0x2000, hex`44 0f 21 c0`); // mov rax, dr8
    expect(core.x.decode(0x2000)).toBe(0);
  });
});

describe('NMI window', () => {
  it('exits (8) while no NMI is blocked; an injected NMI blocks it until IRET', () => {
    load(core, hex`90`);
    controls(abi.CPU_BASED_NMI_WINDOW_EXITING);
    expectExit(abi.EXIT_REASON_NMI_WINDOW, 0x1000);
    // vector 2's handler: 48 cf ; iretq
    const g = new Uint8Array(16), dv = new DataView(g.buffer);
    dv.setUint16(0, 0x3000, true); dv.setUint16(2, 8, true); dv.setUint8(5, 0x8e);
    core.writeMem(0x9000 + 2 * 16, g);
    core.setU64(0, abi.S_IDTR_BASE, 0x9000n);
    core.setU32(0, abi.S_IDTR_LIMIT, 0xfff);
    core.writeMem(0x3000, hex`90 48 cf`); // nop; iretq
    core.setU32(0, abi.S_ENTRY_INTR_INFO, (abi.INTR_INFO_VALID | (abi.INTR_TYPE_NMI << 8) | abi.NMI_VECTOR) >>> 0);
    // The NMI is taken, its handler runs to the IRETQ (blocked: no exit), and the window opens after.
    expectExit(abi.EXIT_REASON_NMI_WINDOW, 0x1000);
    expect(core.u64(0, abi.S_INSNS)).toBe(2n);
    expect(core.u32(0, abi.S_INTERRUPTIBILITY) & abi.INTR_BLOCK_NMI).toBe(0);
  });
});

describe('MONITOR and MWAIT', () => {
  it('MONITOR_EXITING and MWAIT_EXITING: exits 39 and 36', () => {
    load(core, hex`0f 01 c8`);
    controls(abi.CPU_BASED_MONITOR_EXITING);
    expectExit(abi.EXIT_REASON_MONITOR_INSTRUCTION, 0x1000, 3);
    load(core, hex`0f 01 c9`);
    controls(abi.CPU_BASED_MWAIT_EXITING);
    expectExit(abi.EXIT_REASON_MWAIT_INSTRUCTION, 0x1000, 3);
  });

  it('MWAIT waits until another vCPU writes the armed line', () => {
    // 0f 01 c8 ; monitor (rax = 0x2000)
    // 0f 01 c9 ; mwait
    // f4       ; hlt
    load(core, hex`0f 01 c8 0f 01 c9 f4`);
    core.setReg(0, 'rax', 0x2000n);
    expect(core.run(0, 1000)).toBe(abi.RUN_HALTED);
    expect(core.u32(0, abi.S_ACTIVITY)).toBe(abi.ACTIVITY_MWAIT);
    expect(core.run(0, 1000)).toBe(abi.RUN_HALTED);
    // vCPU 1: c7 07 01 00 00 00 ; mov dword [rdi], 1 (rdi = 0x2020, same line) ; f4
    load(core, hex`c7 07 01 00 00 00 f4`, { vcpu: 1, at: 0x4000 });
    core.setReg(1, 'rdi', 0x2020n);
    expect(core.run(1, 1000)).toBe(abi.RUN_EXIT);
    expect(core.u32(0, abi.S_ACTIVITY)).toBe(abi.ACTIVITY_ACTIVE);
    expectExit(abi.EXIT_REASON_HLT, 0x1006);
  });

  it('a host write to the line wakes it too; MWAIT with nothing armed does not wait', () => {
    load(core, hex`0f 01 c8 0f 01 c9 f4`);
    core.setReg(0, 'rax', 0x2000n);
    expect(core.run(0, 1000)).toBe(abi.RUN_HALTED);
    core.writeU64(0x2038, 7n);
    expectExit(abi.EXIT_REASON_HLT, 0x1006);
    load(core, hex`0f 01 c9 f4`);
    expectExit(abi.EXIT_REASON_HLT, 0x1003);
  });

  it('an interrupt ends the wait: with IF = 1 it is delivered; with IF = 0 only ECX[0] lets it wake MWAIT', () => {
    load(core, hex`0f 01 c8 0f 01 c9 f4`);
    core.setReg(0, 'rax', 0x2000n);
    core.setReg(0, 'rcx', 0n);
    expect(core.run(0, 1000)).toBe(abi.RUN_HALTED);
    core.setU32(0, abi.S_VIRQ, (abi.INTR_INFO_VALID | 0x40) >>> 0);
    expect(core.run(0, 1000)).toBe(abi.RUN_HALTED); // IF = 0, ECX = 0: keeps waiting
    load(core, hex`0f 01 c8 b9 01 00 00 00 0f 01 c9 f4`); // monitor; mov ecx, 1; mwait; hlt
    core.setReg(0, 'rax', 0x2000n);
    core.setU32(0, abi.S_VIRQ, 0);
    expect(core.run(0, 1000)).toBe(abi.RUN_HALTED);
    core.setU32(0, abi.S_VIRQ, (abi.INTR_INFO_VALID | 0x40) >>> 0);
    expectExit(abi.EXIT_REASON_HLT, 0x100b);
  });
});

describe('budget', () => {
  it('budget 1 runs exactly one instruction; TSC and S_INSNS count each', () => {
    load(core, hex`48 ff c0 48 ff c0 48 ff c0 f4`); // inc rax x3; hlt
    const t0 = core.u64(0, abi.S_TSC);
    for (let i = 1; i <= 3; i++) {
      expect(core.run(0, 1)).toBe(abi.RUN_BUDGET);
      expect(core.reg(0, 'rax')).toBe(BigInt(i));
      expect(core.u64(0, abi.S_INSNS)).toBe(BigInt(i));
      expect(core.u64(0, abi.S_TSC) - t0).toBe(BigInt(i));
    }
    expect(runUntil(core)).toBe(abi.RUN_EXIT);
  });
});
