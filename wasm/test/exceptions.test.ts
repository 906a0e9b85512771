// Exceptions and interrupts delivered through the 64-bit IDT: the frame, error codes, gates, IRETQ,
// #DF and triple faults, TF single-step, and the exits VMX takes instead (exception bitmap, an EPT
// violation while delivering).
import { beforeEach, describe, expect, it } from 'vitest';
import * as abi from '../src/abi';
import type { Core } from '../../src/model/cpu/core';
import { machine, load, exitInfo, installIdt, hex, gate, IDT, STACK } from '../../src/model/cpu/testkit';

const HANDLERS = 0x3000; // vector v's handler is a HLT at HANDLERS + 16 v (it exits: HLT_EXITING)
const handler = (v: number) => HANDLERS + 16 * v;
const TF = 0x100n, IF = 0x200n;

let core: Core;
beforeEach(async () => {
  core = await machine();
  const stubs = new Uint8Array(256 * 16).fill(0xf4);
  core.writeMem(HANDLERS, stubs);
  const all: Record<number, number> = {};
  for (let v = 0; v < 256; v++) all[v] = handler(v);
  installIdt(core, all, { trap: [0x81] });
});

/** Runs to the next exit and returns where it stopped. */
function runToExit(): { reason: number; rip: bigint } {
  expect(core.run(0, 100_000)).toBe(abi.RUN_EXIT);
  return { reason: exitInfo(core).reason, rip: core.reg(0, 'rip') };
}
const frame = (i: number) => core.readU64(Number(core.reg(0, 'rsp')) + 8 * i);

describe('delivery through the IDT', () => {
  it('#UD: the 5-qword frame (RIP at the faulting instruction), 16-byte aligned, no error code', () => {
    // 0f 0b ; ud2
    load(core, hex`0f 0b`);
    core.setReg(0, 'rsp', BigInt(STACK - 8)); // not 16-aligned: delivery aligns it
    core.setReg(0, 'rflags', 0x2n | IF);
    expect(runToExit()).toEqual({ reason: abi.EXIT_REASON_HLT, rip: BigInt(handler(abi.UD_VECTOR)) });
    expect(core.reg(0, 'rsp')).toBe(BigInt(STACK - 16 - 40));
    expect([frame(0), frame(1), frame(2), frame(3), frame(4)]).toEqual([0x1000n, 0x08n, 0x2n | IF, BigInt(STACK - 8), 0x10n]);
    expect(core.reg(0, 'rflags') & IF).toBe(0n); // an interrupt gate clears IF
  });

  it('#GP(0) for a non-canonical address pushes an error code', () => {
    // 48 8b 03 ; mov rax, [rbx]
    load(core, hex`48 8b 03`);
    core.setReg(0, 'rbx', 0x8000_0000_0000_0000n);
    expect(runToExit().rip).toBe(BigInt(handler(abi.GP_VECTOR)));
    expect(core.reg(0, 'rsp')).toBe(BigInt(STACK - 48));
    expect([frame(0), frame(1)]).toEqual([0n, 0x1000n]);
  });

  it('INT3 and INT n push the address after them; a trap gate keeps IF; IRETQ returns', () => {
    // cc       ; int3
    load(core, hex`cc`);
    expect(runToExit().rip).toBe(BigInt(handler(abi.BP_VECTOR)));
    expect(frame(0)).toBe(0x1001n);
    // cd 81    ; int 0x81 (a trap gate)
    load(core, hex`cd 81`);
    core.setReg(0, 'rflags', 0x202n);
    expect(runToExit().rip).toBe(BigInt(handler(0x81)));
    expect(frame(0)).toBe(0x1002n);
    expect(core.reg(0, 'rflags') & IF).toBe(IF);
    // the handler: 48 c7 c1 07 00 00 00 ; mov rcx, 7
    //              48 cf                ; iretq
    core.writeMem(handler(0x80), hex`48 c7 c1 07 00 00 00 48 cf`);
    // cd 80    ; int 0x80
    // f4       ; hlt
    load(core, hex`cd 80 f4`);
    core.setReg(0, 'rflags', 0x202n);
    expect(runToExit()).toEqual({ reason: abi.EXIT_REASON_HLT, rip: 0x1002n });
    expect(core.reg(0, 'rcx')).toBe(7n);
    expect(core.reg(0, 'rsp')).toBe(BigInt(STACK));
    expect(core.reg(0, 'rflags')).toBe(0x202n);
  });

  it('a not-present gate is #NP, a gate past the IDT limit #GP, both with the IDT error code', () => {
    core.ram(IDT + 16 * abi.UD_VECTOR + 5, 1)[0] = 0x0e; // gate 6 not present
    load(core, hex`0f 0b`);
    expect(runToExit().rip).toBe(BigInt(handler(abi.NP_VECTOR)));
    expect(frame(0)).toBe(BigInt(abi.UD_VECTOR * 8 + 2 + 1)); // IDT | EXT
    // cd 40 ; int 0x40, with IDTR.limit covering vectors 0..0x3f only: #GP(0x40 * 8 + 2), EXT = 0
    core.setU32(0, abi.S_IDTR_LIMIT, 0x40 * 16 - 1);
    load(core, hex`cd 40`);
    expect(runToExit().rip).toBe(BigInt(handler(abi.GP_VECTOR)));
    expect([frame(0), frame(1)]).toEqual([BigInt(0x40 * 8 + 2), 0x1000n]);
  });
});

describe('double and triple faults', () => {
  it('a contributory fault while delivering a contributory one becomes #DF (error code 0)', () => {
    core.setU32(0, abi.S_IDTR_LIMIT, 9 * 16 - 1); // vectors 0..8 only: delivering #GP(0) faults
    load(core, hex`48 8b 03`);
    core.setReg(0, 'rbx', 0x8000_0000_0000_0000n);
    expect(runToExit().rip).toBe(BigInt(handler(abi.DF_VECTOR)));
    expect([frame(0), frame(1)]).toEqual([0n, 0x1000n]);
  });

  it('a benign exception whose delivery faults is followed by that fault, not #DF', () => {
    core.ram(IDT + 16 * abi.UD_VECTOR, 16).set(gate(handler(6), 0x5)); // a task gate: #GP(IDT)
    load(core, hex`0f 0b`);
    expect(runToExit().rip).toBe(BigInt(handler(abi.GP_VECTOR)));
    expect(frame(0)).toBe(BigInt(abi.UD_VECTOR * 8 + 3));
  });

  it('a fault while delivering #DF is a triple fault: exit 2, shutdown, and the vCPU stays down', () => {
    // 50 ; push rax, with a non-canonical RSP: #SS, whose delivery (same stack) gives #DF, then its own
    load(core, hex`50`);
    core.setReg(0, 'rsp', 0x8000_0000_0000_0010n);
    expect(runToExit()).toEqual({ reason: abi.EXIT_REASON_TRIPLE_FAULT, rip: 0x1000n });
    expect(core.u32(0, abi.S_ACTIVITY)).toBe(abi.ACTIVITY_SHUTDOWN);
    expect(core.run(0, 1000)).toBe(abi.RUN_HALTED);
  });
});

describe('the exception bitmap and VMX', () => {
  it('an intercepted fault exits with its interruption information; nothing of the instruction retired', () => {
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.GP_VECTOR);
    // 48 c7 c1 05 00 00 00 ; mov rcx, 5
    // 48 8b 03             ; mov rax, [rbx]
    load(core, hex`48 c7 c1 05 00 00 00 48 8b 03`);
    core.setReg(0, 'rbx', 0xffff_0000_0000_0000n);
    expect(runToExit()).toEqual({ reason: abi.EXIT_REASON_EXCEPTION_NMI, rip: 0x1007n });
    const x = exitInfo(core);
    expect(x.intrInfo).toBe((abi.INTR_INFO_VALID | abi.INTR_INFO_DELIVER_CODE | (abi.INTR_TYPE_HARD_EXCEPTION << 8) | abi.GP_VECTOR) >>> 0);
    expect(x.intrErr).toBe(0);
    expect(core.reg(0, 'rcx')).toBe(5n);
    expect(core.reg(0, 'rsp')).toBe(BigInt(STACK));
    expect(core.u64(0, abi.S_INSNS)).toBe(1n);
  });

  it('INT3 intercepted: a software exception, instruction length 1, RIP at the INT3', () => {
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.BP_VECTOR);
    load(core, hex`90 cc`);
    expect(runToExit()).toEqual({ reason: abi.EXIT_REASON_EXCEPTION_NMI, rip: 0x1001n });
    const x = exitInfo(core);
    expect(x.intrInfo).toBe((abi.INTR_INFO_VALID | (abi.INTR_TYPE_SOFT_EXCEPTION << 8) | abi.BP_VECTOR) >>> 0);
    expect(x.len).toBe(1);
  });

  it('INT n is not subject to the exception bitmap', () => {
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 0xffffffff);
    load(core, hex`cd 03`); // int 3 as CD 03: a software interrupt
    expect(runToExit().rip).toBe(BigInt(handler(3)));
  });

  it('an intercepted fault during delivery exits with IDT-vectoring information for the first event', () => {
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.NP_VECTOR);
    core.ram(IDT + 16 * abi.UD_VECTOR + 5, 1)[0] = 0x0e; // gate 6 not present
    load(core, hex`0f 0b`);
    expect(runToExit()).toEqual({ reason: abi.EXIT_REASON_EXCEPTION_NMI, rip: 0x1000n });
    const x = exitInfo(core);
    expect(x.intrInfo & 0xff).toBe(abi.NP_VECTOR);
    expect(x.intrErr).toBe(abi.UD_VECTOR * 8 + 3);
    expect(x.vectoring).toBe((abi.INTR_INFO_VALID | (abi.INTR_TYPE_HARD_EXCEPTION << 8) | abi.UD_VECTOR) >>> 0);
  });

  it('an IDT outside RAM: an EPT violation during delivery, with IDT-vectoring information', () => {
    core.setU64(0, abi.S_IDTR_BASE, 0x4000_0000n);
    load(core, hex`0f 0b`);
    expect(runToExit()).toEqual({ reason: abi.EXIT_REASON_EPT_VIOLATION, rip: 0x1000n });
    const x = exitInfo(core);
    expect(x.gpa).toBe(0x4000_0000n + 16n * BigInt(abi.UD_VECTOR));
    expect(Number(x.qual) & abi.EPTQ_READ).toBe(abi.EPTQ_READ);
    expect(x.vectoring).toBe((abi.INTR_INFO_VALID | (abi.INTR_TYPE_HARD_EXCEPTION << 8) | abi.UD_VECTOR) >>> 0);
  });
});

describe('TF single-step', () => {
  it('traps after each instruction with DR6.BS set, RIP past it', () => {
    // 48 ff c0 ; inc rax  (twice)
    load(core, hex`48 ff c0 48 ff c0`);
    core.setReg(0, 'rflags', 0x2n | TF);
    expect(runToExit().rip).toBe(BigInt(handler(abi.DB_VECTOR)));
    expect(core.reg(0, 'rax')).toBe(1n);
    expect(frame(0)).toBe(0x1003n);
    expect(core.u64(0, abi.S_DR6) & BigInt(abi.DR6_BS)).toBe(BigInt(abi.DR6_BS));
    expect(core.reg(0, 'rflags') & TF).toBe(0n);
  });

  it('intercepted #DB: qualification = the DR6 bits, RIP after the instruction', () => {
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.DB_VECTOR);
    load(core, hex`48 ff c0 48 ff c0`);
    core.setReg(0, 'rflags', 0x2n | TF);
    expect(runToExit()).toEqual({ reason: abi.EXIT_REASON_EXCEPTION_NMI, rip: 0x1003n });
    expect(exitInfo(core).qual).toBe(BigInt(abi.DR6_BS));
    expect(core.run(0, 100)).toBe(abi.RUN_EXIT);
    expect(core.reg(0, 'rip')).toBe(0x1006n);
    expect(core.reg(0, 'rax')).toBe(2n);
  });

  it('POPF setting TF traps after the next instruction; MOV SS defers the trap by one', () => {
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.DB_VECTOR);
    // 68 02 01 00 00 ; push 0x102
    // 9d             ; popfq
    // 90             ; nop
    load(core, hex`68 02 01 00 00 9d 90`);
    expect(runToExit().rip).toBe(0x1007n);
    // 8e d0          ; mov ss, eax
    // 90             ; nop
    // 90             ; nop
    load(core, hex`8e d0 90 90`);
    core.setReg(0, 'rax', 0x10n);
    core.setReg(0, 'rflags', 0x2n | TF);
    expect(runToExit().rip).toBe(0x1003n);
  });
});
