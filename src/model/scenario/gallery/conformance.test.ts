// The gallery as the model's conformance suite: every scenario runs through the Simulator, and every
// `expect` in it (what spec/kvm-semantics.md says the kernel returns) must be met.
import { describe, expect, it } from 'vitest';
import { loadCore } from '../../cpu/node';
import { Simulator } from '../../sim';
import { parseScenario } from '../parse';
import { GALLERY } from './index';

/**
 * Expectations the model does not meet yet, where the scenario follows the spec and the model is
 * what is wrong (reported to its engineer). The test fails when one of these starts to pass, so the
 * list shrinks as the model is fixed.
 */
const KNOWN_MODEL_ISSUES: Record<string, Record<number, string>> = {};

describe('gallery conformance', () => {
  it.each(GALLERY.map((e) => [e.id, e] as const))('%s: the model does what the spec says', async (id, e) => {
    const parsed = parseScenario(e.doc);
    if (!parsed.ok) throw new Error(`${id} is not valid`);
    const sim = await Simulator.create(await loadCore(), parsed.scenario, { frames: false });
    const result = sim.runAll();
    const unmet = result.steps.filter((s) => s.expect !== undefined && s.expect !== 'met');
    const unmetText = unmet.map((s) => `[${s.index}] ${JSON.stringify(s.expect)}`).join('\n');
    expect(unmet.map((s) => s.index), `unmet expectations (a fixed model issue? update KNOWN_MODEL_ISSUES):\n${unmetText}`)
      .toEqual(Object.keys(KNOWN_MODEL_ISSUES[id] ?? {}).map(Number));
    expect(result.expectations.checked).toBe(parsed.scenario.program.filter((op) => op.expect).length);
    // KVM's binary stats are u64 counters (the *_ns ones sum ktime differences): whole numbers.
    for (const v of sim.inspectVcpus()) for (const [k, n] of Object.entries(v.stats)) expect(Number.isInteger(n), `${k} = ${n}`).toBe(true);
  });
});
