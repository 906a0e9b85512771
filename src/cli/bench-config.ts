// One configuration of the HLT exit benchmark, measured in a worker thread of its own (bench.ts starts
// it through bench-config.mjs): a fresh heap and fresh compiled code per configuration, so that no
// configuration pays for another's garbage or for code the compiler shaped to another's types.
import { parentPort, workerData } from 'node:worker_threads';
import { loadCore } from '../model/cpu/node';
import { benchHltRoundTrips, type HltBenchResult } from '../model/kvm/bench';

export interface BenchConfigJob { frames: boolean; events: boolean; runs: number; roundTrips: number }

const job = workerData as BenchConfigJob;
const core = await loadCore();
const results: HltBenchResult[] = [];
for (let i = 0; i < job.runs; i++) results.push(await benchHltRoundTrips(core, { frames: job.frames, events: job.events, roundTrips: job.roundTrips }));
parentPort!.postMessage(results);
