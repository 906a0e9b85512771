// The generators prove themselves on this machine's CPU before the core is judged by them: every
// program assembles to the instructions it describes, and runs natively to its HLT (or a #DE from a
// division) without touching memory outside its scratch buffer and stack, and without writing the
// registers it reserves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Code } from 'iced-x86';
import { assemble, disassemble } from './support/assemble';
import { endText } from './support/case';
import { CLASS_NAMES, programArb, type ClassName } from './support/generators';
import { STACK_REACH } from './support/layout';
import { NativeHarness, nativeUnavailable } from './support/native';
import { CODE_REGION, FIRST_GUARD, resolve, STACK_REGION, toCase, type Insn, type Item, type Program } from './support/program';
import { gprNumber, RAX, RSP } from './support/registers';
import { fcParams } from './support/seed';

/** XCHG of the accumulator with itself in the 90+r form is the NOP encoding, and decodes as such. */
const NOP_XCHG: Partial<Record<Code, Code>> = { [Code.Xchg_r16_AX]: Code.Nopw, [Code.Xchg_r32_EAX]: Code.Nopd, [Code.Xchg_r64_RAX]: Code.Nopq };
const decodedAs = (i: Insn) => (NOP_XCHG[i.code] !== undefined && 'reg' in i.ops[0] && gprNumber(i.ops[0].reg) === RAX ? NOP_XCHG[i.code]! : i.code);

/** The Codes an item list must decode to, in order: the items, the HLT, then the subroutines. */
function expectedCodes(items: readonly Item[]): Code[] {
  const subs = items.flatMap((it) =>
    it.kind === 'call' ? [...it.body.map(decodedAs), it.retImm === undefined ? Code.Retnq : Code.Retnq_imm16] : [],
  );
  return [...mainCodes(items), Code.Hlt, ...subs];
}

function mainCodes(items: readonly Item[]): Code[] {
  return items.flatMap((it) => {
    switch (it.kind) {
      case 'plain': return it.insns.map(decodedAs);
      case 'branch': return [...(it.lead ?? []).map(decodedAs), it.code];
      case 'loop': return [Code.Mov_r32_imm32, ...[...it.body, ...(it.close ?? [])].map(decodedAs), it.code];
      case 'call': return it.indirect ? [Code.Lea_r64_m, Code.Call_rm64] : [Code.Call_rel32_64];
    }
  });
}

describe('generators', () => {
  it.each(CLASS_NAMES)('%s: programs assemble to exactly the instructions they describe', (name) => {
    fc.assert(
      fc.property(programArb([name]), (p) => {
        const items = resolve(p);
        const { bytes, haltIp } = assemble(items);
        const codes = disassemble(bytes, 0x100000).map((l) => l.code);
        expect(codes).toEqual(expectedCodes(items));
        expect(bytes[haltIp - 0x100000]).toBe(0xf4);
      }),
      fcParams(60),
    );
  });
});

/** Only the smc class writes its own code (the immediates it patches). */
const patchesCode = (p: Program) =>
  p.items.some((it) => (it.kind === 'plain' ? it.insns : it.kind === 'loop' ? it.body : []).some((i) => i.ops.some((o) => 'patch' in o)));

const unavailable = nativeUnavailable();
describe.skipIf(!!unavailable)('generated programs on this CPU', () => {
  let native: NativeHarness;
  beforeAll(async () => {
    native = await NativeHarness.start();
  });
  afterAll(() => native?.close());

  const check = async (programs: Program[], name: ClassName | 'all') => {
    const cases = programs.map((p) => toCase(p));
    const outs = await native.run(cases);
    outs.forEach((o, k) => {
      const p = programs[k], c = cases[k];
      const endedWell = o.end.kind === 'halt' || (o.end.kind === 'exception' && o.end.vector === 0 && (name === 'div' || name === 'all'));
      expect(endedWell, `${name}: ended with ${endText(o.end)}`).toBe(true);
      if (!patchesCode(p)) expect(o.regions[CODE_REGION], 'code is never written').toEqual(c.regions[CODE_REGION].bytes);
      for (let g = FIRST_GUARD; g < c.regions.length; g++) expect(o.regions[g], 'guard band written').toEqual(c.regions[g].bytes);
      expect(o.gpr[p.env.base]).toBe(c.gpr[p.env.base]);
      expect(o.gpr[p.env.index]).toBe(c.gpr[p.env.index]);
      const rsp = Number(o.gpr[RSP]);
      expect(rsp).toBeGreaterThanOrEqual(STACK_REGION);
      expect(rsp).toBeLessThanOrEqual(STACK_REGION + 2 * STACK_REACH);
    });
  };

  it.each(CLASS_NAMES)('%s: stays inside its sandbox', async (name) => {
    await fc.assert(fc.asyncProperty(fc.array(programArb([name]), { minLength: 1, maxLength: 40 }), (ps) => check(ps, name)), fcParams(10));
  });

  it('all classes mixed: stays inside its sandbox', async () => {
    await fc.assert(fc.asyncProperty(fc.array(programArb(CLASS_NAMES), { minLength: 1, maxLength: 50 }), (ps) => check(ps, 'all')), fcParams(20));
  });
});
