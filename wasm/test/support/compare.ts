// Comparing a native outcome with the core's, and the report of a mismatch: what FINDINGS.md needs
// (bytes, NASM text, initial registers and flags, both results).
import { GPR_NAMES } from '../../../src/model/cpu/core';
import { disassemble } from './assemble';
import { endText, hex, stateText, type Case, type Outcome } from './case';
import { ARITH, DF, traceFlags } from './flags';
import { resolve, type Program } from './program';

export interface Difference {
  what: string;
  native: string;
  core: string;
}

/** Everything that differs, with RFLAGS compared under `flagMask`. */
export function differences(c: Case, native: Outcome, core: Outcome, flagMask: number): Difference[] {
  const out: Difference[] = [];
  if (endText(native.end) !== endText(core.end)) out.push({ what: 'end', native: endText(native.end), core: endText(core.end) });
  if (native.rip !== core.rip) out.push({ what: 'rip', native: hex(native.rip), core: hex(core.rip) });
  GPR_NAMES.forEach((n, i) => {
    if (native.gpr[i] !== core.gpr[i]) out.push({ what: n, native: hex(native.gpr[i]), core: hex(core.gpr[i]) });
  });
  const mask = BigInt(flagMask);
  if ((native.rflags & mask) !== (core.rflags & mask)) {
    out.push({ what: `rflags & ${hex(mask, 4)}`, native: hex(native.rflags & mask, 4), core: hex(core.rflags & mask, 4) });
  }
  c.regions.forEach((r, k) => {
    const a = native.regions[k], b = core.regions[k];
    const first = a.findIndex((v, i) => v !== b[i]);
    if (first < 0) return;
    const from = first & ~7;
    const bytes = (x: Uint8Array) => [...x.subarray(from, from + 16)].map((v) => v.toString(16).padStart(2, '0')).join(' ');
    out.push({ what: `memory at ${hex(r.gpa + from, 6)} (was ${bytes(r.bytes)})`, native: bytes(a), core: bytes(b) });
  });
  return out;
}

/**
 * Which RFLAGS bits to compare. On AMD (this machine) all arithmetic flags and DF: the core is meant
 * to match it where the SDM says "undefined". Elsewhere the flags the program may leave undefined are
 * masked (flags.ts), and a program that reads one cannot be compared at all (null).
 * DIFF_UNDEFINED_FLAGS=mask applies the other-vendor rule on AMD too.
 */
export function flagMaskFor(vendor: string, items: ReturnType<typeof resolve>): number | null {
  const all = ARITH | DF;
  if (vendor === 'AuthenticAMD' && process.env.DIFF_UNDEFINED_FLAGS !== 'mask') return all;
  const t = traceFlags(items);
  return t.readsUndefined ? null : all & ~t.mayBeUndefined;
}

/** A mismatch as a reproduction: bytes, NASM listing, initial state, both ends and every difference. */
export function report(p: Program, c: Case, native: Outcome, core: Outcome, diffs: Difference[]): string {
  const code = c.regions[0];
  const listing = disassemble(code.bytes, code.gpa)
    .map((l) => `  ${hex(l.ip, 6)}  ${[...l.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(30)} ${l.text}`)
    .join('\n');
  const width = Math.max(...diffs.map((d) => d.what.length));
  return [
    `bytes: ${[...code.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`,
    '```nasm',
    listing,
    '```',
    `initial: ${stateText(c.gpr, c.rflags)}`,
    `memory: scratch and stack from memSeed ${p.memSeed} (seededBytes in wasm/test/support/program.ts)`,
    `native: ${endText(native.end)} at rip=${hex(native.rip)}`,
    `core:   ${endText(core.end)} at rip=${hex(core.rip)}`,
    ...diffs.map((d) => `  ${d.what.padEnd(width)}  native ${d.native}  core ${d.core}`),
  ].join('\n');
}
