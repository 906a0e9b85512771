// The core's decoder against iced-x86 (decoding as AMD does, like this machine): over the whole opcode
// map and over random byte strings, whatever the core decodes has iced's length and mnemonic, and
// whatever it does not decode raises #UD when run. No byte string may trap the wasm, and running any
// of them stops within its budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as abi from '../src/abi';
import type { Core } from '../../src/model/cpu/core';
import { loadCore } from '../../src/model/cpu/node';
import { endText, hex } from './support/case';
import { CoreRunner } from './support/core-runner';
import {
  byteStringArb, CORE_MNEMONICS, coreDecode, DECODE_STRIDE, decodeLength, decodeMismatch, icedDecode, icedText, opcodeMap, raisesUd,
  rejectionVectors,
} from './support/decoding';
import { KNOWN_DECODER_FINDINGS } from './support/enabled';
import { u64Arb } from './support/generators';
import { CODE_GPA, RAM_BYTES } from './support/layout';
import { fcParams } from './support/seed';

const hexBytes = (s: Uint8Array) => [...s].map((b) => b.toString(16).padStart(2, '0')).join(' ');
const known = (code: string | undefined) => KNOWN_DECODER_FINDINGS.some((f) => code && f.codes.test(code));

/** iced-x86 forms the core leaves out although it knows their mnemonic, with how often they came up. */
const leftOut = new Map<string, number>();
const KNOWN_MNEMONICS = new Set(CORE_MNEMONICS);

/**
 * Every disagreement in a batch of strings at CODE_GPA, as `bytes | iced text | what is wrong`: a
 * wrong decoding, or a string the core does not decode that does not raise #UD when run.
 */
function disagreements(runner: CoreRunner, bytes: Uint8Array): string[] {
  const iced = icedDecode(bytes, CODE_GPA);
  const mine = coreDecode(runner.core, bytes, CODE_GPA);
  const out: string[] = [];
  iced.forEach((d, k) => {
    if (known(d.code)) return;
    const gpa = CODE_GPA + k * DECODE_STRIDE;
    let why = decodeMismatch(d, mine[k]);
    if (!why && !mine[k].length) {
      if (d.length && KNOWN_MNEMONICS.has(d.mnemonic) && !raisesUd(d)) leftOut.set(d.code!, (leftOut.get(d.code!) ?? 0) + 1);
      const o = runner.run({ gpr: new Array(16).fill(0n), rflags: 0x202n, rip: BigInt(gpa), regions: [] }, 1000);
      const vectors = rejectionVectors(d);
      if (o.end.kind !== 'exception' || !vectors.includes(o.end.vector) || o.rip !== BigInt(gpa)) {
        why = `decode() says #UD but running it ends in ${endText(o.end)} at ${hex(o.rip)}`;
      }
    }
    if (!why) return;
    const s = bytes.subarray(k * DECODE_STRIDE, (k + 1) * DECODE_STRIDE);
    out.push(`${hexBytes(s.subarray(0, Math.max(d.length, mine[k].length, 4)))} | ${icedText(s, gpa)} | ${why}`);
  });
  return out;
}

const concat = (strings: Uint8Array[]) => {
  const out = new Uint8Array(strings.length * DECODE_STRIDE);
  strings.forEach((s, k) => out.set(s, k * DECODE_STRIDE));
  return out;
};

describe('the core decoder against iced-x86', () => {
  let runner: CoreRunner;
  let core: Core;
  beforeAll(async () => {
    runner = new CoreRunner(await loadCore());
    core = runner.core;
  });
  afterAll(() => {
    const top = [...leftOut].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([c, n]) => `${c} ${n}`);
    console.log(`decoder: forms the core leaves out (#UD) though it knows the mnemonic: ${top.join(', ')}${leftOut.size > 12 ? ', …' : ''}`);
  });

  it.each(opcodeMap().map((f) => [f.name, f.bytes] as const))('agrees over the opcode map: %s', (_, bytes) => {
    expect(disagreements(runner, bytes).slice(0, 20)).toEqual([]);
  });

  it('agrees on random byte strings led by opcodes, escapes, prefixes and REX', () => {
    fc.assert(
      fc.property(fc.array(byteStringArb, { minLength: 1, maxLength: 256, size: 'max' }), (strings) => {
        expect(disagreements(runner, concat(strings)).slice(0, 5)).toEqual([]);
      }),
      fcParams(100),
    );
  });

  it('decodes nothing past the end of RAM, and never traps there', () => {
    const at = (bytes: number[]) => {
      const gpa = RAM_BYTES - bytes.length;
      core.writeMem(gpa, bytes);
      return decodeLength(core, gpa);
    };
    expect(at([0x90])).toBe(1); // nop: whole
    expect(at([0x48, 0x05, 0, 0])).toBe(0); // add rax, imm32: one byte short
    expect(at([0xe8, 0, 0])).toBe(0); // call rel32: two bytes short
    for (const gpa of [RAM_BYTES, RAM_BYTES + 5, 0xfffffff0, 0xffffffff]) expect(decodeLength(core, gpa)).toBe(0);
  });

  it('runs any byte string to a stop within its budget, without trapping', () => {
    const BUDGET = 20_000;
    fc.assert(
      fc.property(fc.array(byteStringArb, { minLength: 4, maxLength: 4 }), fc.array(u64Arb, { minLength: 16, maxLength: 16 }), (strings, gpr) => {
        core.x.resetVcpu(0);
        gpr.forEach((v, i) => core.setU64(0, abi.S_GPR + 8 * i, v));
        core.setReg(0, 'rip', BigInt(CODE_GPA));
        core.setU32(0, abi.S_EXCEPTION_BITMAP, 0xffffffff);
        core.setU32(0, abi.S_PROC_CONTROLS, abi.CPU_BASED_HLT_EXITING);
        core.writeMem(CODE_GPA, concat(strings));
        const tsc = core.num(0, abi.S_TSC);
        const result = core.run(0, BUDGET); // a trap throws WebAssembly.RuntimeError here
        expect([abi.RUN_BUDGET, abi.RUN_EXIT, abi.RUN_HALTED]).toContain(result);
        expect(core.num(0, abi.S_TSC) - tsc).toBeLessThanOrEqual(BUDGET + 1000);
      }),
      fcParams(2000),
    );
  });
});
