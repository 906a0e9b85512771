// Runs one byte sequence on this CPU and on the core and prints both results side by side: the tool
// for checking a FINDINGS.md entry by hand.
//
//   npx tsx wasm/test/native/probe.ts "41 33 c0 f4" rax=0 r8=1 rflags=0x202
//
// Registers not given start at 0 (RSP at the stack top); the code is placed at 0x100000 and should
// end in a HLT (f4). Scratch memory at 0x200000 and the stack window start zeroed.
import { GPR_NAMES } from '../../../src/model/cpu/core';
import { loadCore } from '../../../src/model/cpu/node';
import { disassemble } from '../support/assemble';
import { endText, hex, type Case } from '../support/case';
import { differences } from '../support/compare';
import { CoreRunner } from '../support/core-runner';
import { ARITH, DF } from '../support/flags';
import { CODE_GPA, SCRATCH_GPA, SCRATCH_SIZE, STACK_REACH, STACK_TOP } from '../support/layout';
import { NativeHarness } from '../support/native';
import { STACK_REGION } from '../support/program';

const [code, ...assignments] = process.argv.slice(2);
if (!code) {
  console.error('usage: probe.ts "<hex bytes>" [reg=value ...] [rflags=value]');
  process.exit(2);
}
const bytes = Uint8Array.from(code.trim().split(/\s+/).map((b) => parseInt(b, 16)));
const gpr = GPR_NAMES.map((n) => (n === 'rsp' ? BigInt(STACK_TOP) : 0n));
let rflags = 0x202n;
for (const a of assignments) {
  const [name, value] = a.split('=');
  const i = GPR_NAMES.indexOf(name as (typeof GPR_NAMES)[number]);
  if (name === 'rflags') rflags = BigInt(value);
  else if (i >= 0 && value !== undefined) gpr[i] = BigInt.asUintN(64, BigInt(value));
  else throw new Error(`not a register assignment: ${a}`);
}
const c: Case = {
  gpr, rflags, rip: BigInt(CODE_GPA),
  regions: [
    { gpa: CODE_GPA, bytes },
    { gpa: SCRATCH_GPA, bytes: new Uint8Array(SCRATCH_SIZE) },
    { gpa: STACK_REGION, bytes: new Uint8Array(2 * STACK_REACH) },
  ],
};
const native = await NativeHarness.start();
const [n] = await native.run([c]);
await native.close();
const k = new CoreRunner(await loadCore()).run(c);
for (const l of disassemble(bytes, CODE_GPA)) console.log(`${hex(l.ip, 6)}  ${l.text}`);
console.log(`native (${native.cpu.vendor}): ${endText(n.end)} at ${hex(n.rip)}  rflags ${hex(n.rflags & BigInt(ARITH | DF), 4)}`);
console.log(`core:  ${endText(k.end)} at ${hex(k.rip)}  rflags ${hex(k.rflags & BigInt(ARITH | DF), 4)}`);
const diffs = differences(c, n, k, ARITH | DF);
console.log(diffs.length ? diffs.map((d) => `  ${d.what}: native ${d.native}, core ${d.core}`).join('\n') : 'no differences');
