// `exitscope bench [--json] [--quick]`: how fast the core runs guest code and how many HLT exit
// round trips the whole model makes per second, with how each figure was measured. The work is
// src/model/cpu/bench.ts and src/model/kvm/bench.ts; this prints it.
import { cpus } from 'node:os';
import { measureGuestMips, type GuestSpeed } from '../model/cpu/bench';
import { loadCore } from '../model/cpu/node';
import { benchHltRoundTrips } from '../model/kvm/bench';
import { EXIT_OK, type Io } from './main';

const FULL = { runs: 5, instructions: 100_000_000, roundTrips: 100_000 };
const QUICK = { runs: 2, instructions: 5_000_000, roundTrips: 5_000 };

export async function benchCommand(opts: Record<string, string | true>, io: Io): Promise<number> {
  const size = opts['--quick'] ? QUICK : FULL;
  const guests = measureGuestMips(await loadCore(), { runs: size.runs, instructions: size.instructions });
  const exits = await benchHltRoundTrips(await loadCore(), { frames: false, roundTrips: size.roundTrips });
  const withFrames = await benchHltRoundTrips(await loadCore(), { frames: true, roundTrips: Math.ceil(size.roundTrips / 4) });
  const alu = guests.find((g) => g.guest === 'alu')!;
  const round = (x: number, digits = 1) => Number(x.toFixed(digits));

  const doc = {
    guest_mips: round(alu.mips.median),
    exits_per_sec: Math.round(exits.perSecond),
    measured: {
      guest_mips: `median of ${size.runs} timed runs of ${alu.instructions} guest instructions of the "alu" loop (${alu.description}), after two warm-up runs, wall clock; the core runs alone, no VM exits`,
      exits_per_sec: `HLT exit round trips per wall-clock second through the whole model (Simulator, KVM model, core): a guest halting in a loop, woken by its periodic x2APIC timer (HLT exit, kvm_emulate_halt, vcpu_block with halt-polling, wake-up, injection, EOI); ${exits.roundTrips} round trips after a warm-up, frames off, events on`,
      guests: guests.map((g: GuestSpeed) => ({ loop: g.guest, description: g.description, instructions: g.instructions, mips: { min: round(g.mips.min), median: round(g.mips.median), max: round(g.mips.max) } })),
      exits: {
        round_trips: exits.roundTrips, seconds: round(exits.seconds, 3),
        per_cpu_second: exits.perCpuSecond === null ? null : Math.round(exits.perCpuSecond),
        with_frames_per_sec: Math.round(withFrames.perSecond),
      },
      machine: { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length },
    },
  };
  if (opts['--json']) {
    io.out(`${JSON.stringify(doc, null, 2)}\n`);
    return EXIT_OK;
  }
  io.out(
    [
      `guest code: ${doc.guest_mips} MIPS`,
      `  how: ${doc.measured.guest_mips}`,
      ...doc.measured.guests.map((g) => `  ${g.loop.padEnd(7)} ${String(g.mips.median).padStart(8)} MIPS  (min ${g.mips.min}, max ${g.mips.max}): ${g.description}`),
      `HLT exits: ${doc.exits_per_sec} round trips per second (${doc.measured.exits.with_frames_per_sec} with kernel frames recorded)`,
      `  how: ${doc.measured.exits_per_sec}`,
      `machine: ${doc.measured.machine.cpu}, ${doc.measured.machine.cpus} CPUs, Node ${doc.measured.machine.node}; wall-clock figures move with the machine's load`,
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}
