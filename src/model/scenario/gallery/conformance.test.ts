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
// Reading a vCPU's stats fd (kvm_vcpu_stats_read) does not take vcpu->mutex, so a VMM reads the
// stats of a vCPU whose thread sits in KVM_RUN; the Simulator treats `stats` as waiting for it.
const STATS_WAITS_FOR_MUTEX = 'stats reported blocked while the vCPU thread is in KVM_RUN';
const KNOWN_MODEL_ISSUES: Record<string, Record<number, string>> = {
  'hlt-h1-in-kernel-sleep': { 2: STATS_WAITS_FOR_MUTEX },
  'hlt-h4-exit-userspace': { 6: STATS_WAITS_FOR_MUTEX },
  'hlt-half-the-vcpus': { 7: STATS_WAITS_FOR_MUTEX },
  'mwait-in-guest': { 3: STATS_WAITS_FOR_MUTEX },
  'hlt-h10-cli-hlt': { 2: STATS_WAITS_FOR_MUTEX },
};

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
  });
});
