// How fast the model runs KVM's HLT exit path: a guest doing `sti; hlt` in a loop, woken every period
// by its own LAPIC timer (x2APIC, periodic), HLT exits enabled, in-kernel irqchip. One round trip is
// the HLT exit, kvm_emulate_halt, vcpu_block (halt-polling, then sleeping), the timer's wake-up, the
// injection on re-entry, and the guest's EOI — per wall-clock and per CPU second. The guest acknowledges
// each tick either by an x2APIC EOI WRMSR (a second exit), or as a Linux guest on KVM does with PV EOI
// (pv_eoi.ts): its kvm_guest_apic_eoi_write clears bit 0 of its PV EOI word with BTR and writes the
// EOI MSR only if KVM had not set that bit, so the EOI is done by KVM at the next HLT exit.
import { spread, type Spread } from '../cpu/bench';
import type { Core } from '../cpu/core';
import { parseScenario } from '../scenario/parse';
import { Simulator } from '../sim';

/** The periodic timer's period: kvm.min_timer_period_us, the shortest KVM allows. */
const PERIOD_NS = 200_000;

/** How the guest acknowledges its timer ticks: the EOI MSR every time, or PV EOI first. */
export type EoiStyle = 'msr' | 'pv';

/** The x2APIC EOI write (MSR 0x80b), with RAX, RCX, RDX saved by the caller. */
const EOI_WRMSR = `  mov ecx, 0x80b
  xor eax, eax
  xor edx, edx
  wrmsr`;

/**
 * The benchmark guest: x2APIC, its timer periodic with vector 0x40, then `hlt` in a loop. With 'pv'
 * it first gives KVM its PV EOI word (MSR_KVM_PV_EOI_EN = its GPA | 1).
 */
export function hltGuest(eoi: EoiStyle): string {
  const enablePvEoi = `
  mov ecx, 0x4b564d04
  mov eax, pv_eoi_word + 1
  xor edx, edx
  wrmsr`;
  const ack = eoi === 'pv' ? `  btr dword [pv_eoi_word], 0
  jc .acked
${EOI_WRMSR}
.acked:` : EOI_WRMSR;
  return `
  lidt [idtr]
  mov ecx, 0x1b
  rdmsr
  or eax, 0xc00
  wrmsr${eoi === 'pv' ? enablePvEoi : ''}
  xor edx, edx
  mov ecx, 0x80f
  mov eax, 0x1ff
  wrmsr
  mov ecx, 0x83e
  mov eax, 0xb
  wrmsr
  mov ecx, 0x832
  mov eax, 0x20040
  wrmsr
  mov ecx, 0x838
  mov eax, ${PERIOD_NS}
  wrmsr
  sti
idle:
  hlt
  jmp idle
tick:
  push rax
  push rcx
  push rdx
${ack}
  pop rdx
  pop rcx
  pop rax
  iretq
align 16
idt:
  times 0x40 dq 0, 0
  dw tick & 0xffff, 0x08, 0x8e00, (tick >> 16) & 0xffff
  dd tick >> 32, 0
idtr:
  dw 0x41 * 16 - 1
  dq idt
align 4
pv_eoi_word:
  dd 0
`;
}

export interface HltBenchResult {
  frames: boolean;
  events: boolean;
  keepAll: boolean;
  eoi: EoiStyle;
  /** HLT exits handled in the measured window. */
  roundTrips: number;
  /** VM exits per round trip in that window: 2 with the EOI WRMSR, 1 with PV EOI. */
  exitsPerRoundTrip: number;
  /** Wall-clock seconds of the measured window, and the round trips per wall-clock second. */
  seconds: number;
  perSecond: number;
  /** CPU seconds this process used meanwhile (where the platform reports them; else null): on a busy machine the fairer figure. */
  cpuSeconds: number | null;
  perCpuSecond: number | null;
}

function cpuNow(): number | null {
  const p = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  if (!p?.cpuUsage) return null;
  const u = p.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Round trips per KVM_RUN while measuring. About 20 frames each keeps every KVM_RUN well under
 * MAX_FRAMES_PER_IOCTL, so with frames on every call is really recorded (one endless KVM_RUN would
 * measure the cheap path past the limit). Between runs a signal gets the thread out (-EINTR), as a VMM
 * would; that costs two ioctls per chunk, the same with frames on and off.
 */
const CHUNK = 500;

export interface HltBenchOptions {
  frames: boolean;
  /** Keep the trace events (default true). */
  events?: boolean;
  /** The measured window (default 200,000); a tenth of it runs first as a warm-up. */
  roundTrips?: number;
  /**
   * Keep the whole history (default false). By default every chunk starts from a snapshot taken
   * after the first (restoring it is not timed), so what the simulator keeps — steps with their
   * frames, events — is about one chunk's, as in a lab session of a few ops; with true it keeps
   * growing (about 20 frames and 11 events per round trip) and the collector's work on it is measured too.
   */
  keepAll?: boolean;
  /** How the guest acknowledges its ticks (default 'msr'). */
  eoi?: EoiStyle;
}

/** Simulated HLT exit round trips per second (wall clock and CPU time). */
export async function benchHltRoundTrips(core: Core, o: HltBenchOptions): Promise<HltBenchResult> {
  const n = o.roundTrips ?? 200_000;
  const events = o.events ?? true;
  const eoi = o.eoi ?? 'msr';
  const parsed = parseScenario({
    format: 'exitscope/1', kernel: 'rfc-v4',
    guest: { asm: hltGuest(eoi) },
    program: [
      { op: 'create_vcpu', id: 0 },
      { op: 'run', fd: 'vcpu0', timeout_ns: CHUNK * PERIOD_NS },
      // After the signal: returns at once with -EINTR.
      { op: 'run', fd: 'vcpu0', timeout_ns: PERIOD_NS },
    ],
  });
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('; '));
  const [, runChunk, runOut] = parsed.scenario.program;
  const sim = await Simulator.create(core, parsed.scenario, { frames: o.frames, events });
  sim.step();
  const chunk = () => {
    const r = sim.ioctl(runChunk);
    if (!r.blocked) throw new Error('the benchmark guest left KVM_RUN');
    if (r.frames_dropped) throw new Error('a benchmark KVM_RUN passed the frame limit');
    sim.kick('vcpu0');
    if (sim.ioctl(runOut).errno !== 'EINTR') throw new Error('the signal did not end KVM_RUN');
  };
  chunk();
  const snap = sim.snapshot()!;
  const stats = () => sim.inspectVcpus()[0].stats;
  let roundTrips = 0, exits = 0, seconds = 0, cpuSeconds: number | null = 0;
  // The warm-up (V8 tiers the code up meanwhile) goes exactly as the measurement, untimed.
  const warm = Math.ceil(Math.max(1000, n / 10) / CHUNK);
  for (let i = -warm; i < Math.ceil(n / CHUNK); i++) {
    if (!o.keepAll || i === -warm) sim.restore(snap); // not timed: it is the lab's Step back, not the exit path
    const before = stats();
    const c0 = cpuNow(), t0 = performance.now();
    chunk();
    if (i < 0) continue;
    seconds += (performance.now() - t0) / 1000;
    const c1 = cpuNow();
    cpuSeconds = c0 === null || c1 === null || cpuSeconds === null ? null : cpuSeconds + c1 - c0;
    const after = stats();
    roundTrips += after.halt_exits - before.halt_exits;
    exits += after.exits - before.exits;
  }
  return {
    frames: o.frames, events, keepAll: o.keepAll ?? false, eoi, roundTrips, exitsPerRoundTrip: exits / roundTrips,
    seconds, perSecond: roundTrips / seconds,
    cpuSeconds, perCpuSecond: cpuSeconds ? roundTrips / cpuSeconds : null,
  };
}

/** One configuration measured several times: round trips per wall-clock second and per CPU second. */
export interface HltBenchSpread {
  frames: boolean;
  events: boolean;
  eoi: EoiStyle;
  roundTrips: number;
  exitsPerRoundTrip: number;
  perSecond: Spread;
  perCpuSecond: Spread | null;
}

/**
 * The four configurations the targets are about (frames off and on, events on and off, the guest
 * acknowledging by EOI WRMSR), then the PV EOI guest with frames off and on, events on.
 */
export const HLT_BENCH_CONFIGS = [
  { frames: false, events: true, eoi: 'msr' }, { frames: false, events: false, eoi: 'msr' },
  { frames: true, events: true, eoi: 'msr' }, { frames: true, events: false, eoi: 'msr' },
  { frames: false, events: true, eoi: 'pv' }, { frames: true, events: true, eoi: 'pv' },
] as const satisfies readonly { frames: boolean; events: boolean; eoi: EoiStyle }[];

/** Frames on run a quarter of the round trips: they are slower, and their history is bigger. */
export function roundTripsFor(frames: boolean, roundTrips: number): number {
  return frames ? Math.ceil(roundTrips / 4) : roundTrips;
}

/** The runs of one configuration as a spread. */
export function spreadOf(c: { frames: boolean; events: boolean; eoi: EoiStyle }, runs: readonly HltBenchResult[]): HltBenchSpread {
  const cpu = runs.map((r) => r.perCpuSecond).filter((x): x is number => x !== null);
  return {
    ...c, roundTrips: runs[0].roundTrips, exitsPerRoundTrip: runs[0].exitsPerRoundTrip, perSecond: spread(runs.map((r) => r.perSecond)),
    perCpuSecond: cpu.length === runs.length ? spread(cpu) : null,
  };
}
