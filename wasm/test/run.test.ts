// The run loop and the decoded-code cache: self-modifying code, host writes, vCPUs sharing RAM,
// cycle accounting, decode(), and bad input.
import { beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fcParams } from './support/seed';
import * as abi from '../src/abi';
import * as M from '../src/mnemonics';
import type { Core } from '../../src/model/cpu/core';
import { machine, load, step, exitInfo, hex, runUntil } from '../../src/model/cpu/testkit';

let core: Core;
beforeEach(async () => { core = await machine({ vcpus: 2 }); });

describe('decoded code stays in step with memory', () => {
  it('a store into the block being executed takes effect before the next instruction', () => {
    // c6 05 01 00 00 00 90 ; mov byte [rel 0x1008], 0x90 (the HLT below becomes a NOP)
    // 90                   ; nop
    // f4                   ; hlt
    // 48 ff c0             ; inc rax
    // f4                   ; hlt
    load(core, hex`c6 05 01 00 00 00 90 90 f4 48 ff c0 f4`);
    expect(core.run(0, 1000)).toBe(abi.RUN_EXIT);
    expect([core.reg(0, 'rip'), core.reg(0, 'rax')]).toEqual([0x100cn, 1n]);
  });

  it('a host write replaces code that already ran', () => {
    const out = step(core, hex`48 ff c0`, { rax: 0n }); // inc rax
    expect(out.rax).toBe(1n);
    expect(step(core, hex`48 ff c8`, { rax: 0n }).rax).toBe((1n << 64n) - 1n); // dec rax, same address
  });

  it('data next to code can be written without changing what runs', () => {
    // 48 ff 05 0a 00 00 00 ; l: inc qword [rel data]
    // 48 ff c9             ; dec rcx
    // 75 f4                ; jnz l
    // f4                   ; hlt
    // 00 x8                ; data
    load(core, [...hex`48 ff 05 06 00 00 00 48 ff c9 75 f4 f4`, 0, 0, 0, 0, 0, 0, 0, 0]);
    core.setReg(0, 'rcx', 1000n);
    expect(runUntil(core)).toBe(abi.RUN_EXIT);
    expect(core.reg(0, 'rip')).toBe(0x100cn);
    expect(core.readU64(0x100d)).toBe(1000n);
  });

  it('vCPUs share RAM: one writes what the other reads', () => {
    load(core, hex`48 89 03`, { vcpu: 0 }); // mov [rbx], rax
    load(core, hex`48 8b 0b`, { vcpu: 1, at: 0x4000 }); // mov rcx, [rbx]
    for (const v of [0, 1]) core.setReg(v, 'rbx', 0x2000n);
    core.setReg(0, 'rax', 0x5eedn);
    expect(core.run(0, 1)).toBe(abi.RUN_BUDGET);
    expect(core.run(1, 1)).toBe(abi.RUN_BUDGET);
    expect(core.reg(1, 'rcx')).toBe(0x5eedn);
  });
});

describe('accounting', () => {
  it('TSC advances by the cycle table and S_INSNS by retired instructions, block by block', () => {
    // b9 0a 00 00 00 ; mov ecx, 10
    // 48 f7 e1       ; l: mul rcx (3 cycles)
    // ff c9          ; dec ecx
    // 75 f9          ; jnz l
    // f4             ; hlt
    load(core, hex`b9 0a 00 00 00 48 f7 e1 ff c9 75 f9 f4`);
    const t0 = core.u64(0, abi.S_TSC);
    expect(core.run(0, 1_000_000)).toBe(abi.RUN_EXIT);
    expect(core.u64(0, abi.S_INSNS)).toBe(31n);
    expect(core.u64(0, abi.S_TSC) - t0).toBe(1n + 10n * (3n + 1n + 1n));
  });

  it('a budget ends the run at an instruction boundary, whatever the block structure', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), (budget) => {
      // the same loop as above, 10 iterations of 5 cycles after a 1-cycle MOV
      load(core, hex`b9 0a 00 00 00 48 f7 e1 ff c9 75 f9 f4`);
      core.setU64(0, abi.S_TSC, 0n);
      core.setU64(0, abi.S_INSNS, 0n);
      const r = core.run(0, budget);
      const tsc = core.u64(0, abi.S_TSC), n = core.u64(0, abi.S_INSNS);
      if (r === abi.RUN_BUDGET) {
        expect(tsc).toBeGreaterThanOrEqual(BigInt(budget));
        expect(tsc).toBeLessThan(BigInt(budget) + 3n); // overshoot: less than one instruction
      } else expect(tsc).toBe(51n);
      // whatever stopped it, the state is that of n instructions: replaying n steps agrees
      const rip = core.reg(0, 'rip'), rcx = core.reg(0, 'rcx');
      load(core, hex`b9 0a 00 00 00 48 f7 e1 ff c9 75 f9 f4`);
      for (let i = 0n; i < n; i++) core.run(0, 1);
      expect([core.reg(0, 'rip'), core.reg(0, 'rcx')]).toEqual([rip, rcx]);
    }), fcParams(60));
  });
});

describe('decode()', () => {
  const decode = (bytes: number[]) => {
    core.writeMem(0x2000, bytes);
    const len = core.x.decode(0x2000);
    return [len, core.dv.getUint32(abi.DECODE_MNEMONIC, true)];
  };

  it('gives the length and the mnemonic', () => {
    expect(decode(hex`48 8b 44 cb 10`)).toEqual([5, M.Mov]);
    expect(decode(hex`f3 90`)).toEqual([2, M.Pause]);
    expect(decode(hex`66 9c`)).toEqual([2, M.Pushf]);
    expect(decode(hex`48 a5`)).toEqual([2, M.Movsq]);
    expect(decode(hex`67 e3 00`)).toEqual([3, M.Jecxz]);
    expect(decode(hex`0f 4f c1`)).toEqual([3, M.Cmovg]);
    expect(decode(hex`c0 f0 04`)).toEqual([3, M.Sal]);
    expect(decode(hex`f3 0f 1e fa`)).toEqual([4, M.Endbr64]);
    expect(decode(hex`0f 18 4c 24 40`)).toEqual([5, M.Prefetcht0]);
    expect(decode(hex`66 0f 1d c0`)).toEqual([4, M.Reservednop]);
  });

  it('0 (and INVALID) for what raises #UD, for LOCK misuse and for more than 15 bytes', () => {
    for (const b of [hex`0f 0b`, hex`0f 05`, hex`f0 01 c0`, hex`06`, [...Array(15).fill(0x66), 0x90]]) {
      expect(decode(b)).toEqual([0, M.INVALID]);
    }
  });

  it('mnemonic names are iced-x86\'s', async () => {
    const { Mnemonic } = await import('iced-x86');
    for (const [name, index] of Object.entries(M)) {
      if (name === 'MNEMONIC_COUNT' || name === 'INVALID') continue;
      expect((Mnemonic as unknown as Record<string, number | undefined>)[name], name).toBeTypeOf('number');
      expect(index).toBeLessThan(M.MNEMONIC_COUNT);
    }
  });
});

describe('bad input', () => {
  it('the wrapper rejects impossible sizes before the core sees them', () => {
    expect(() => core.init(0, 1)).toThrow(RangeError);
    expect(() => core.init(1000, 1)).toThrow(RangeError);
    expect(() => core.init(abi.MAX_RAM + 4096, 1)).toThrow(RangeError);
    expect(() => core.init(4096, 0)).toThrow(RangeError);
    expect(() => core.init(4096, abi.MAX_VCPUS + 1)).toThrow(RangeError);
    expect(() => core.writeMem((1 << 20) - 2, [1, 2, 3])).toThrow(RangeError);
  });

  it('init() can resize RAM up to the maximum, and RAM starts zeroed', () => {
    core.init(abi.MAX_RAM, 1);
    core.x.resetVcpu(0);
    expect(core.readU64(abi.MAX_RAM - 8)).toBe(0n);
    load(core, hex`48 8b 03`);
    core.setReg(0, 'rbx', BigInt(abi.MAX_RAM - 8));
    core.writeU64(abi.MAX_RAM - 8, 9n);
    core.setU32(0, abi.S_PROC_CONTROLS, 0);
    expect(core.run(0, 1)).toBe(abi.RUN_BUDGET);
    expect(core.reg(0, 'rax')).toBe(9n);
  });

  it('random bytes never trap or hang the core', () => {
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 0xffffffff);
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (bytes, reg) => {
      load(core, Array.from(bytes), { procControls: 0 });
      for (const r of ['rax', 'rcx', 'rdx', 'rbx', 'rsi', 'rdi'] as const) core.setReg(0, r, reg);
      const result = core.run(0, 10_000);
      expect([abi.RUN_BUDGET, abi.RUN_EXIT, abi.RUN_HALTED]).toContain(result);
      if (result === abi.RUN_EXIT) expect(exitInfo(core).reason).toBeLessThan(64);
    }), fcParams(300));
  });
});
