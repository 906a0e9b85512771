// The hint space, 0F 0D and 0F 18-1F: NOPs, reserved NOPs, prefetches, CLDEMOTE, ENDBR, RDSSP. On this
// CPU every form runs as a NOP whatever its prefixes, except the register forms of 0F 0D (#UD) and
// anything with LOCK (#UD), and a memory operand is never accessed (FINDINGS F4). Here the core may
// leave nothing out: it decodes every form iced-x86 decodes, with iced's length and mnemonic. The
// differential class `hint` runs the same forms on the CPU.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as abi from '../src/abi';
import type { Core } from '../../src/model/cpu/core';
import { loadCore } from '../../src/model/cpu/node';
import { CODE, exitInfo, hex, load, machine, step } from '../../src/model/cpu/testkit';
import { CoreRunner } from './support/core-runner';
import { coreDecode, DECODE_STRIDE, icedDecode, raisesUd, type Decoded } from './support/decoding';
import { u64Arb } from './support/generators';
import { CODE_GPA } from './support/layout';
import { fcParams } from './support/seed';

const HINT_OPCODES = [0x0d, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f];
const PREFIXES = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x64];
const REX = [0x40, 0x41, 0x42, 0x44, 0x48, 0x4f];
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** What is wrong with the core's decoding of a hint-space string, or null: no #UD where iced decodes (but 0F 0D r, r). */
function wrong(iced: Decoded, core: Decoded): string | null {
  if (!iced.length || raisesUd(iced)) return core.length ? `the core decodes ${core.mnemonic}, the CPU raises #UD` : null;
  if (core.length !== iced.length || core.mnemonic !== iced.mnemonic) return `core ${core.mnemonic} ${core.length} bytes, iced ${iced.code} ${iced.length} bytes`;
  return null;
}

describe('the hint space', () => {
  let core: Core;
  beforeEach(async () => { core = await machine({ ram: 1 << 20 }); });

  it('0f 1b c0 (a reserved NOP: BNDCL-space without MPX) runs as a NOP, then the HLT exits', () => {
    expect(() => step(core, hex`0f 1b c0`)).not.toThrow();
  });

  it('never touches its memory operand: unmapped, MMIO and non-canonical addresses do not fault or exit', () => {
    // Every hint opcode with [rax+rcx*8+disp32], RAX and RCX anywhere: PREFETCH, PREFETCHWT1, PREFETCHNTA,
    // PREFETCHIT0, reserved NOPs, CLDEMOTE, NOP r/m, and F3 0F 1E (RDSSP's opcode) with memory.
    const forms = [...HINT_OPCODES.flatMap((op) => range(8).map((reg) => [0x0f, op, 0x84 | (reg << 3)])), [0xf3, 0x0f, 0x1e, 0x8c]];
    fc.assert(
      fc.property(fc.constantFrom(...forms), u64Arb, u64Arb, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (form, rax, rcx, disp) => {
        const code = [...form, 0xc8, ...[0, 8, 16, 24].map((s) => (disp >> s) & 0xff)];
        const out = step(core, code, { rax, rcx }); // throws unless the HLT right after it exits
        expect([out.rax, out.rcx]).toEqual([rax, rcx]);
      }),
      fcParams(300),
    );
    for (const rax of [0xfee0_0000n, 1n << 63n, 1n << 20n]) expect(() => step(core, hex`0f 18 00`, { rax })).not.toThrow(); // prefetchnta [rax]
  });

  it('through emulate() too: done in one step, without an MMIO access', () => {
    load(core, hex`0f 0d 08 f4`); // prefetchw [rax], APIC page
    core.setReg(0, 'rax', 0xfee0_00f0n);
    expect(core.x.emulate(0)).toBe(abi.EMUL_DONE);
    expect(core.reg(0, 'rip')).toBe(BigInt(CODE + 3));
  });

  it('0F 0D with a register operand raises #UD, as on AMD; so does LOCK on any hint', () => {
    for (const code of [hex`0f 0d c0`, hex`0f 0d c8`, hex`48 0f 0d d7`, hex`f0 0f 18 00`, hex`f0 0f 1f 00`, hex`f0 f3 0f 1e fa`]) {
      load(core, [...code, 0xf4]);
      core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.UD_VECTOR);
      expect(core.run(0, 1000)).toBe(abi.RUN_EXIT);
      expect([exitInfo(core).reason, exitInfo(core).intrInfo & 0xff, core.reg(0, 'rip')]).toEqual([abi.EXIT_REASON_EXCEPTION_NMI, abi.UD_VECTOR, BigInt(CODE)]);
    }
  });

  it('RDSSP is a NOP with CET off: the register keeps its value', () => {
    expect(step(core, hex`f3 48 0f 1e c8`, { rax: 0x1234n }).rax).toBe(0x1234n); // rdsspq rax
  });
});

describe('the hint space against iced-x86', () => {
  let runner: CoreRunner;
  beforeAll(async () => { runner = new CoreRunner(await loadCore()); });

  const disagreements = (leads: number[][]) => {
    const bytes = new Uint8Array(leads.length * DECODE_STRIDE).fill(0xf4); // the SIB and displacement bytes
    leads.forEach((l, k) => bytes.set(l, k * DECODE_STRIDE));
    const iced = icedDecode(bytes, CODE_GPA), mine = coreDecode(runner.core, bytes, CODE_GPA);
    return iced.flatMap((d, k) => {
      const why = wrong(d, mine[k]);
      return why ? [`${leads[k].map((b) => b.toString(16).padStart(2, '0')).join(' ')}: ${why}`] : [];
    });
  };

  // Up to two legacy prefixes (in both orders, so the last of F2/F3 is the one that counts), then an optional REX.
  const prefixRuns = [[], ...PREFIXES.map((p) => [p]), ...PREFIXES.flatMap((p) => PREFIXES.map((q) => [p, q]))];
  it.each(HINT_OPCODES.map((op) => [op.toString(16).padStart(2, '0'), op] as const))('every prefix pair, REX and ModRM of 0F %s', (_, op) => {
    const leads = prefixRuns.flatMap((ps) => [undefined, ...REX].flatMap((rex) => range(256).map((m) => [...ps, ...(rex ? [rex] : []), 0x0f, op, m])));
    expect(disagreements(leads).slice(0, 10)).toEqual([]);
  });

  it('any run of prefixes and any tail', () => {
    const lead = fc.tuple(
      fc.array(fc.constantFrom(...PREFIXES, 0x26, 0x36, 0x3e, 0x65), { maxLength: 6 }),
      fc.option(fc.constantFrom(...REX)),
      fc.constantFrom(...HINT_OPCODES),
      fc.uint8Array({ minLength: 6, maxLength: 6 }),
    ).map(([ps, rex, op, tail]) => [...ps, ...(rex === null ? [] : [rex]), 0x0f, op, ...tail].slice(0, DECODE_STRIDE));
    fc.assert(fc.property(fc.array(lead, { minLength: 1, maxLength: 64 }), (leads) => {
      expect(disagreements(leads).slice(0, 5)).toEqual([]);
    }), fcParams(200));
  });

  it.each([
    ['0f 1b c0', 'Reservednop'],
    ['0f 0d 10', 'Prefetchwt1'],
    ['0f 0d 18', 'Prefetchw'], // /3 aliases PREFETCHW
    ['0f 18 38', 'Prefetchit0'],
    ['0f 1c 00', 'Cldemote'],
    ['66 0f 1c 00', 'Reservednop'], // CLDEMOTE has no 66 form
    ['f3 0f 1e c8', 'Rdsspd'],
    ['f3 48 0f 1e c8', 'Rdsspq'],
  ])('%s is %s to both', (text, mnemonic) => {
    const code = text.split(' ').map((b) => parseInt(b, 16));
    const bytes = new Uint8Array(DECODE_STRIDE);
    bytes.set(code);
    expect(icedDecode(bytes, CODE_GPA)[0]).toMatchObject({ length: code.length, mnemonic });
    expect(coreDecode(runner.core, bytes, CODE_GPA)[0]).toEqual({ length: code.length, mnemonic });
  });
});
