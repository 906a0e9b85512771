// The three formats on real runs: every gallery scenario through the Simulator.
import { describe, expect, it } from 'vitest';
import { loadCore } from '../cpu/node';
import { GALLERY } from '../scenario/gallery';
import { parseScenario } from '../scenario/parse';
import { Simulator } from '../sim';
import type { TraceEvent } from './events';
import { formatTraceCmd } from './ftrace';
import { kvmStat } from './kvmstat';
import { nestingViolations, toChromeTrace } from './perfetto';

async function eventsOf(id: string): Promise<{ events: TraceEvent[]; pcpus: number; end: number }> {
  const e = GALLERY.find((g) => g.id === id)!;
  const parsed = parseScenario(e.doc);
  if (!parsed.ok) throw new Error(id);
  const sim = await Simulator.create(await loadCore(), parsed.scenario, { frames: false });
  sim.runAll();
  return { events: sim.events, pcpus: parsed.scenario.host.pcpus, end: sim.now };
}

describe('trace formats on real runs', () => {
  it.each(GALLERY.map((e) => e.id))('%s: one trace-cmd line per tracepoint, a consistent perf table, nested Perfetto slices', async (id) => {
    const { events, pcpus, end } = await eventsOf(id);
    const tracepoints = events.filter((e) => e.kind === 'kvm_entry' || e.kind === 'kvm_exit' || e.kind === 'kvm_userspace_exit');
    expect(formatTraceCmd(events, pcpus).trimEnd().split('\n')).toHaveLength(1 + tracepoints.length);

    const exits = events.filter((e) => e.kind === 'kvm_exit').length;
    const stat = kvmStat(events);
    expect(stat.totalSamples + stat.unfinished).toBe(exits);

    expect(nestingViolations(toChromeTrace(events, pcpus, end))).toEqual([]);
  });

  it('counts the PLE exits of a long PAUSE loop', async () => {
    const { events } = await eventsOf('pause-ple');
    expect(kvmStat(events).rows.map((r) => [r.name, r.samples])).toEqual([['PAUSE_INSTRUCTION', 11]]);
  });
});
