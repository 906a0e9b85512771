// The views fed by real Simulator runs of gallery scenarios: the frames, events and statistics
// here are what the model produced, not hand-made.
import { describe, expect, it } from 'vitest';
import { loadCore } from '../../model/cpu/node';
import { galleryEntry } from '../../model/scenario/gallery';
import { parseScenarioText } from '../../model/scenario/parse';
import { Simulator, type StepResult } from '../../model/sim';
import type { Frame } from '../../model/trace/events';
import { kvmStat } from '../../model/trace/kvmstat';
import { Timeline } from '../../model/trace/timeline';
import { diffFrames, returnPath } from './callchain/diff';
import { exitSummary } from './callchain/FrameDiff';
import { linearise } from './callchain/walk';
import { NarrationFeed } from './narration/feed';
import { statCells } from './stats/cells';
import { exitDetails } from './timeline/details';

async function run(id: string) {
  const entry = galleryEntry(id);
  if (!entry) throw new Error(`no gallery entry ${id}`);
  const parsed = parseScenarioText(JSON.stringify(entry.doc));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const sim = await Simulator.create(await loadCore(), parsed.scenario, { frames: true });
  const steps: StepResult[] = [];
  while (!sim.done) steps.push(sim.step());
  return { sim, steps };
}

/** The frames of the first KVM_RUN of a run. */
const firstRun = (steps: StepResult[]): Frame[] => steps.find((s) => s.op === 'run')?.frames ?? [];

describe('views on real runs', () => {
  it('trace KVM_RUN back to the skip that EXIT_USERSPACE zeroed, and mark what the flag changed (H1 vs H4)', async () => {
    const [without, withFlag] = await Promise.all([run('hlt-h1-in-kernel-sleep'), run('hlt-h4-exit-userspace')]);
    const a = firstRun(without.steps);
    const b = firstRun(withFlag.steps);
    const path = returnPath(b);
    expect(path[0].fn).toBe('kvm_arch_vcpu_ioctl_run');
    expect(path.at(-1)).toMatchObject({ fn: 'kvm_skip_emulated_instruction', ret: 0 });
    expect(path.at(-1)!.note).toMatch(/EXIT_USERSPACE/);
    expect(returnPath(a)).toEqual([]); // H1: KVM_RUN is still blocked in vcpu_block
    expect(exitSummary({ label: 'without', roots: a })).toBe('without: KVM_RUN did not return to userspace in this recording.');
    expect(exitSummary({ label: 'with', roots: b })).toBe('with: KVM_RUN returns 0 to userspace, from kvm_skip_emulated_instruction.');

    const rows = diffFrames(a, b);
    const changed = rows.filter((r) => r.kind === 'changed').map((r) => `${r.left!.fn}: ${r.left!.ret} → ${r.right!.ret}`);
    expect(changed).toEqual(expect.arrayContaining(['kvm_emulate_halt: 1 → 0', 'kvm_skip_emulated_instruction: 1 → 0', 'vcpu_enter_guest: 1 → 0']));
    expect(rows.filter((r) => r.kind === 'left').map((r) => r.left!.fn)).toContain('vcpu_block');
    expect(rows.find((r) => r.left?.fn === 'kvm_emulate_halt_noskip')?.kind).toBe('same');
    expect(linearise(b)).toHaveLength(2 * rows.filter((r) => r.right).length);
  });

  it('narrate the H4 exit as the model ran it', async () => {
    const { sim, steps } = await run('hlt-h4-exit-userspace');
    const feed = new NarrationFeed();
    const firstReturn = sim.events.findIndex((e) => e.kind === 'kvm_userspace_exit');
    feed.push(sim.events.slice(0, firstReturn + 1));
    feed.setFrames(firstRun(steps), 0);
    expect(feed.tick()).toBe('vCPU 0: HLT exit, kvm_emulate_halt returned 0, KVM_RUN returned to userspace with exit_reason KVM_EXIT_UNKNOWN.');
  });

  it('put the exit on vCPU 0\'s lane with its return to userspace, and count it as perf would', async () => {
    const { sim } = await run('hlt-h4-exit-userspace');
    const tl = new Timeline();
    tl.append(sim.events);
    const lane = tl.lane(0)!;
    expect(lane.exits.n).toBe(1);
    expect(Object.fromEntries(exitDetails(lane, 0).rows)).toMatchObject({ reason: 'HLT (12)', rip: '0x10000', 'KVM_RUN returned': '0, KVM_EXIT_UNKNOWN' });
    const stat = kvmStat(sim.events);
    // The one HLT exit never re-entered the guest (the second KVM_RUN blocks): perf counts nothing yet.
    expect([stat.totalSamples, stat.unfinished]).toEqual([0, 1]);
  });

  it('keep every exit of a multi-vCPU run on its lane, in step with perf kvm stat\'s counts', async () => {
    const { sim } = await run('hlt-half-the-vcpus');
    const tl = new Timeline();
    tl.append(sim.events);
    const exits = sim.events.filter((e) => e.kind === 'kvm_exit');
    expect(tl.exitCount).toBe(exits.length);
    expect(tl.lanes.length).toBeGreaterThan(1);
    for (const lane of tl.lanes) {
      const stat = kvmStat(sim.events, lane.vcpu);
      // Every exit that re-entered the guest is a perf sample; the timeline knows each one's re-entry.
      let reentered = 0;
      for (let i = 0; i < lane.exits.n; i++) if (!Number.isNaN(lane.exits.cols.tEntry[i])) reentered++;
      expect(stat.totalSamples).toBe(reentered);
      for (const r of stat.rows) expect(statCells(r)).toHaveLength(7);
    }
  });
});
