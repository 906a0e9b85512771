// `exitscope bench [--json] [--quick]`: how fast the core runs guest code and how many HLT exit
// round trips the whole model makes per second — with kernel frames recorded or not, trace events kept
// or not — each as min/median/max over several interleaved runs, with how each figure was measured.
// The work is src/model/cpu/bench.ts and src/model/kvm/bench.ts; this prints it.
import { cpus, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { measureGuestMips, type GuestSpeed, type Spread } from '../model/cpu/bench';
import { loadCore } from '../model/cpu/node';
import { HLT_BENCH_CONFIGS, roundTripsFor, spreadOf, type EoiStyle, type HltBenchResult, type HltBenchSpread } from '../model/kvm/bench';
import type { BenchConfigJob } from './bench-config';
import { EXIT_OK, type Io } from './main';

const FULL = { runs: 5, instructions: 100_000_000, roundTrips: 100_000 };
const QUICK = { runs: 2, instructions: 5_000_000, roundTrips: 5_000 };

/** The speed the model must reach (the issue: "the model of the machine should not be slower than the machine"). */
export const TARGETS = { framesOff: 1_000_000, framesOn: 200_000 };

const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const whole = (s: Spread) => ({ min: Math.round(s.min), median: Math.round(s.median), max: Math.round(s.max) });
/** Other work held the CPUs: a load average (over a minute) of at least one per CPU besides the benchmark's own thread. */
const busy = (...loads: number[]) => Math.max(...loads) >= cpus().length + 1;
const label = (c: { frames: boolean; events: boolean }) => `frames ${c.frames ? 'on ' : 'off'}, events ${c.events ? 'on ' : 'off'}`;
/** Which guest a row runs: how it acknowledges its timer ticks. */
const GUEST_LABEL = { msr: 'EOI by WRMSR', pv: 'PV EOI' } as const;
const GUEST_HOW = {
  msr: 'the guest acknowledges each tick with an x2APIC EOI WRMSR: two exits per round trip (HLT, WRMSR)',
  pv: 'the guest acknowledges each tick as Linux does on KVM with PV EOI (MSR_KVM_PV_EOI_EN): BTR clears the flag KVM set at entry, and KVM does the EOI at the next HLT exit: one exit per round trip',
} as const;

export async function benchCommand(opts: Record<string, string | true>, io: Io): Promise<number> {
  const size = opts['--quick'] ? QUICK : FULL;
  const load = loadavg()[0];
  const guests = measureGuestMips(await loadCore(), { runs: size.runs, instructions: size.instructions });
  const configs: HltBenchSpread[] = [];
  for (const c of HLT_BENCH_CONFIGS) configs.push(spreadOf(c, await inWorker({ ...c, runs: size.runs, roundTrips: roundTripsFor(c.frames, size.roundTrips) })));
  const loadEnd = loadavg()[0];
  const alu = guests.find((g) => g.guest === 'alu')!;
  const of = (frames: boolean, events: boolean, eoi: EoiStyle = 'msr') => configs.find((c) => c.frames === frames && c.events === events && c.eoi === eoi)!;
  const headline = of(false, true), withFrames = of(true, true), pvHeadline = Math.round(of(false, true, 'pv').perSecond.median);

  const doc = {
    guest_mips: round(alu.mips.median),
    exits_per_sec: Math.round(headline.perSecond.median),
    measured: {
      guest_mips: `median of ${size.runs} timed runs of ${alu.instructions} guest instructions of the "alu" loop (${alu.description}), after two warm-up runs, wall clock; the core runs alone, no VM exits`,
      exits_per_sec: `HLT exit round trips per wall-clock second through the whole model (Simulator, KVM model, core): a guest halting in a loop, woken by its periodic x2APIC timer (HLT exit, kvm_emulate_halt, vcpu_block with halt-polling, wake-up, injection, EOI); median of ${size.runs} runs of ${headline.roundTrips} round trips after a warm-up, frames off, events on; each configuration below in a worker thread of its own (a fresh heap and freshly compiled code), one after the other`,
      guests: guests.map((g: GuestSpeed) => ({ loop: g.guest, description: g.description, instructions: g.instructions, mips: { min: round(g.mips.min), median: round(g.mips.median), max: round(g.mips.max) } })),
      exits: {
        round_trips: headline.roundTrips,
        per_cpu_second: headline.perCpuSecond && Math.round(headline.perCpuSecond.median),
        with_frames_per_sec: Math.round(withFrames.perSecond.median),
        configs: configs.filter((c) => c.eoi === 'msr').map(configDoc),
        pv_eoi_configs: configs.filter((c) => c.eoi === 'pv').map(configDoc),
        guests: GUEST_HOW,
      },
      machine: {
        node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length,
        load_average_1min: round(load, 2), load_average_1min_end: round(loadEnd, 2), busy: busy(load, loadEnd),
      },
    },
  };
  if (opts['--json']) {
    io.out(`${JSON.stringify(doc, null, 2)}\n`);
    return EXIT_OK;
  }
  const n = (x: number) => x.toLocaleString('en-US').padStart(10);
  io.out(
    [
      `guest code: ${doc.guest_mips} MIPS`,
      `  how: ${doc.measured.guest_mips}`,
      ...doc.measured.guests.map((g) => `  ${g.loop.padEnd(7)} ${String(g.mips.median).padStart(8)} MIPS  (min ${g.mips.min}, max ${g.mips.max}): ${g.description}`),
      `HLT exit round trips per second (frames off, events on; median): ${pvHeadline.toLocaleString('en-US')} with the guest acknowledging by PV EOI as Linux does (one exit a round trip); ${doc.exits_per_sec.toLocaleString('en-US')} with EOI by WRMSR (two)`,
      `  how: ${doc.measured.exits_per_sec}`,
      ...(['msr', 'pv'] as const).map((g) => `  ${GUEST_LABEL[g]}: ${GUEST_HOW[g]}`),
      `  ${'guest'.padEnd(13)} ${'configuration'.padEnd(24)} ${'exits/trip'.padStart(10)} ${'per wall-clock second: min'.padStart(27)} ${'median'.padStart(10)} ${'max'.padStart(10)}   per CPU second: median   target`,
      ...[...doc.measured.exits.configs, ...doc.measured.exits.pv_eoi_configs].map((c) => {
        const met = c.per_sec.median >= c.target ? 'met' : 'not met';
        return `  ${GUEST_LABEL[c.eoi].padEnd(13)} ${label(c).padEnd(24)} ${c.exits_per_round_trip.toFixed(2).padStart(10)} ${n(c.per_sec.min).padStart(27)} ${n(c.per_sec.median)} ${n(c.per_sec.max)}   ${(c.per_cpu_sec ? n(c.per_cpu_sec.median) : '        —').padStart(22)}   ≥ ${c.target.toLocaleString('en-US')} ${met}`;
      }),
      `machine: ${doc.measured.machine.cpu}, ${doc.measured.machine.cpus} CPUs, Node ${doc.measured.machine.node}, load average ${doc.measured.machine.load_average_1min} when it began, ${doc.measured.machine.load_average_1min_end} when it ended; wall-clock figures move with the machine's load (per CPU second less so)`,
      ...(doc.measured.machine.busy ? ['  the machine was busy (a load average of at least one per CPU besides this benchmark): these figures understate the model; measure again on a quiet machine'] : []),
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}

/** A configuration's figures in the --json document (eoi and exits_per_round_trip came with the PV EOI guest). */
function configDoc(c: HltBenchSpread) {
  return {
    frames: c.frames, events: c.events, eoi: c.eoi, exits_per_round_trip: round(c.exitsPerRoundTrip, 3), round_trips: c.roundTrips, runs: c.perSecond.samples.length,
    per_sec: whole(c.perSecond), per_cpu_sec: c.perCpuSecond && whole(c.perCpuSecond),
    target: c.frames ? TARGETS.framesOn : TARGETS.framesOff,
  };
}

/** Measures one configuration in a worker thread of its own (bench-config.ts). */
function inWorker(job: BenchConfigJob): Promise<HltBenchResult[]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./bench-config.mjs', import.meta.url), { workerData: job });
    w.once('message', (r: HltBenchResult[]) => resolve(r));
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`the benchmark worker exited with ${code}`)); });
  });
}

