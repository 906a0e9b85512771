// MOVS/CMPS/STOS/LODS/SCAS with REP, REPE and REPNE: direction, address size, segment overrides, and
// REP as an interruptible loop: iterations retire one by one and the budget can stop it mid-way.
import { beforeEach, describe, expect, it } from 'vitest';
import * as abi from '../src/abi';
import type { Core } from '../../src/model/cpu/core';
import { machine, load, step, hex, exitInfo } from '../../src/model/cpu/testkit';
import { COST_STRING } from '../src/costs';

let core: Core;
beforeEach(async () => { core = await machine(); });
const ZF = 0x40n;

describe('string instructions', () => {
  it('REP MOVSB copies RCX bytes forward and leaves RSI/RDI/RCX past the string', () => {
    core.writeMem(0x2000, [1, 2, 3, 4, 5, 6, 7]);
    const out = step(core, hex`f3 a4`, { rsi: 0x2000n, rdi: 0x3000n, rcx: 7n });
    expect(Array.from(core.readMem(0x3000, 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 0]);
    expect([out.rsi, out.rdi, out.rcx]).toEqual([0x2007n, 0x3007n, 0n]);
  });

  it('with DF = 1 the copy runs backwards (REP MOVSQ)', () => {
    core.writeU64(0x2000, 0x11n);
    core.writeU64(0x2008, 0x22n);
    // fd          ; std
    // f3 48 a5    ; rep movsq
    const out = step(core, hex`fd f3 48 a5`, { rsi: 0x2008n, rdi: 0x3008n, rcx: 2n });
    expect([core.readU64(0x3000), core.readU64(0x3008)]).toEqual([0x11n, 0x22n]);
    expect([out.rsi, out.rdi]).toEqual([0x1ff8n, 0x2ff8n]);
  });

  it('REP STOSD, LODSW, a 32-bit address size and an FS-overridden source', () => {
    let out = step(core, hex`f3 ab`, { rax: 0xaabbccddn, rdi: 0x3000n, rcx: 3n });
    expect(core.readU64(0x3008) & 0xffffffffn).toBe(0xaabbccddn);
    expect(out.rdi).toBe(0x300cn);
    out = step(core, hex`66 ad`, { rax: 0xffff_ffff_ffff_ffffn, rsi: 0x3000n }); // lodsw
    expect(out.rax).toBe(0xffff_ffff_ffff_ccddn);
    // f3 67 aa ; a32 rep stosb: EDI wraps within 32 bits and RDI's upper half is cleared
    out = step(core, hex`f3 67 aa`, { rax: 0x5an, rdi: 0x1_0000_3000n, rcx: 0x1_0000_0002n });
    expect([out.rdi, out.rcx]).toEqual([0x3002n, 0n]);
    expect(Array.from(core.readMem(0x3000, 2))).toEqual([0x5a, 0x5a]);
    core.setU64(0, abi.S_MSR_FS_BASE, 0x2000n);
    core.writeMem(0x2010, [0x77]);
    step(core, hex`64 a4`, { rsi: 0x10n, rdi: 0x4000n }); // fs movsb: the source is FS:RSI
    expect(core.readMem(0x4000, 1)[0]).toBe(0x77);
  });

  it('REPE CMPSB stops at the first difference, REPNE SCASB at the first match', () => {
    core.writeMem(0x2000, [...'abcdef'].map((c) => c.charCodeAt(0)));
    core.writeMem(0x3000, [...'abcxef'].map((c) => c.charCodeAt(0)));
    let out = step(core, hex`f3 a6`, { rsi: 0x2000n, rdi: 0x3000n, rcx: 6n });
    expect([out.rcx, out.rsi, out.rflags & ZF]).toEqual([2n, 0x2004n, 0n]);
    out = step(core, hex`f2 ae`, { rax: BigInt('d'.charCodeAt(0)), rdi: 0x2000n, rcx: 6n });
    expect([out.rcx, out.rdi, out.rflags & ZF]).toEqual([2n, 0x2004n, ZF]);
  });

  it('REP with RCX = 0 does nothing and retires once', () => {
    const insns = core.u64(0, abi.S_INSNS);
    const out = step(core, hex`f3 a4`, { rsi: 0x2000n, rdi: 0x3000n, rcx: 0n });
    expect([out.rsi, out.rdi]).toEqual([0x2000n, 0x3000n]);
    expect(core.u64(0, abi.S_INSNS) - insns).toBe(1n); // the HLT exits: it does not retire
  });

  it('the budget interrupts REP between iterations, with RIP still on it', () => {
    load(core, hex`f3 aa f4`); // rep stosb; hlt
    core.setReg(0, 'rdi', 0x3000n);
    core.setReg(0, 'rcx', 100n);
    const t0 = core.u64(0, abi.S_TSC), i0 = core.u64(0, abi.S_INSNS);
    expect(core.run(0, 10 * COST_STRING)).toBe(abi.RUN_BUDGET);
    expect([core.reg(0, 'rip'), core.reg(0, 'rcx')]).toEqual([0x1000n, 90n]);
    expect(core.u64(0, abi.S_TSC) - t0).toBe(BigInt(10 * COST_STRING));
    expect(core.u64(0, abi.S_INSNS) - i0).toBe(10n);
    expect(core.run(0, 1)).toBe(abi.RUN_BUDGET); // budget 1: one iteration
    expect(core.reg(0, 'rcx')).toBe(89n);
    expect(core.run(0, 100_000)).toBe(abi.RUN_EXIT);
    expect([core.reg(0, 'rip'), core.reg(0, 'rcx'), core.reg(0, 'rdi')]).toEqual([0x1002n, 0n, 0x3064n]);
  });

  it('an exit mid-string keeps the iterations done and RIP on the instruction', () => {
    const RAM = 1 << 20;
    load(core, hex`f3 aa`);
    core.setReg(0, 'rdi', BigInt(RAM - 3));
    core.setReg(0, 'rcx', 10n);
    expect(core.run(0, 100_000)).toBe(abi.RUN_EXIT);
    const x = exitInfo(core);
    expect([x.reason, x.gpa]).toEqual([abi.EXIT_REASON_EPT_VIOLATION, BigInt(RAM)]);
    expect([core.reg(0, 'rip'), core.reg(0, 'rcx'), core.reg(0, 'rdi')]).toEqual([0x1000n, 7n, BigInt(RAM)]);
  });
});
