// One configuration of the HLT exit benchmark, measured in a worker thread of its own (bench.ts starts
// it through bench-config.mjs): a fresh heap and fresh compiled code per configuration, so that no
// configuration pays for another's garbage or for code the compiler shaped to another's types.
import { loadCore } from '../model/cpu/node';
import { benchHltRoundTrips, type EoiStyle, type HltBenchResult } from '../model/kvm/bench';

export interface BenchConfigJob { frames: boolean; events: boolean; eoi: EoiStyle; runs: number; roundTrips: number }

/** The job's runs, one after another on one core. */
export async function runBenchJob(job: BenchConfigJob): Promise<HltBenchResult[]> {
  const core = await loadCore();
  const results: HltBenchResult[] = [];
  for (let i = 0; i < job.runs; i++) results.push(await benchHltRoundTrips(core, { frames: job.frames, events: job.events, eoi: job.eoi, roundTrips: job.roundTrips }));
  return results;
}
