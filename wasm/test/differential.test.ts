// The core against this machine's CPU: random programs of every enabled instruction class run on
// both, and all sixteen registers, RIP, RFLAGS (arithmetic flags and DF), the scratch buffer and the
// stack must agree, as must the way each program ends (its HLT, or the exception it raised). The core
// runs them with run() (block cache, VMX exits), and once more with emulate() (KVM's emulator path).
// FC_SEED / FC_RUNS widen the search (see wasm/test/native/README.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadCore } from '../../src/model/cpu/node';
import type { Case } from './support/case';
import { differences } from './support/compare';
import { ARITH, DF } from './support/flags';
import { CoreRunner } from './support/core-runner';
import { Differential } from './support/differential';
import { ENABLED_CLASSES } from './support/enabled';
import { programArb } from './support/generators';
import { CODE_GPA, STACK_TOP } from './support/layout';
import { NativeHarness, nativeUnavailable } from './support/native';
import { fcParams } from './support/seed';

const unavailable = nativeUnavailable();
if (unavailable) console.warn(`differential tests skipped: ${unavailable}`);

/** Programs per fast-check run: one batch, one round trip to the harness. */
const BATCH = 48;

describe.skipIf(!!unavailable)('the core against this CPU', () => {
  let diff: Differential;
  let emulated: Differential;
  beforeAll(async () => {
    const [native, core] = await Promise.all([NativeHarness.start(), loadCore()]);
    diff = new Differential(native, new CoreRunner(core));
    emulated = new Differential(native, diff.core, 'emulate');
  });
  afterAll(async () => {
    if (!diff) return;
    console.log(`differential: ${diff.summary()}; ${emulated.summary()}`);
    await diff.native.close();
  });

  const batches = (classes: typeof ENABLED_CLASSES) => fc.array(programArb(classes), { minLength: 1, maxLength: BATCH, size: 'max' });

  it.each(ENABLED_CLASSES)('%s', async (name) => {
    await fc.assert(fc.asyncProperty(batches([name]), (ps) => diff.check(ps)), fcParams(12));
  });

  it('every enabled class, mixed', async () => {
    await fc.assert(fc.asyncProperty(batches(ENABLED_CLASSES), (ps) => diff.check(ps)), fcParams(40));
  });

  it('every enabled class, mixed, one instruction at a time through emulate()', async () => {
    await fc.assert(fc.asyncProperty(batches(ENABLED_CLASSES), (ps) => emulated.check(ps)), fcParams(40));
  });

  describe('exceptions end a case the same way on both sides', () => {
    const gpr = () => Array.from({ length: 16 }, (_, i) => (i === 4 ? BigInt(STACK_TOP) : BigInt(i * 0x1111)));
    const run = async (bytes: number[]) => {
      const c: Case = { gpr: gpr(), rflags: 0x202n, rip: BigInt(CODE_GPA), regions: [{ gpa: CODE_GPA, bytes: Uint8Array.from(bytes) }] };
      const [n] = await diff.native.run([c]);
      return { native: n, diffs: differences(c, n, diff.core.run(c), ARITH | DF) };
    };
    it.each([
      ['#DE from DIV by zero', [0x31, 0xc9, 0x48, 0xf7, 0xf1, 0xf4], 0], // xor ecx,ecx; div rcx
      ['#UD from UD2', [0x90, 0x0f, 0x0b], 6],
      ['#BP from INT3 (a trap: RIP after it)', [0x90, 0xcc, 0xf4], 3],
      ['#UD from 0F 0D with a register operand (AMD; FINDINGS F4)', [0x0f, 0x1b, 0xc0, 0x0f, 0x0d, 0xc8, 0xf4], 6],
    ])('%s', async (_, bytes, vector) => {
      const { native, diffs } = await run(bytes);
      expect(native.end).toEqual({ kind: 'exception', vector });
      expect(diffs).toEqual([]);
    });
  });
});
