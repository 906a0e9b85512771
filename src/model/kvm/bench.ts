// How fast the model runs KVM's HLT exit path: a guest doing `sti; hlt` in a loop, woken every period
// by its own LAPIC timer (x2APIC, periodic), HLT exits enabled, in-kernel irqchip. One round trip is
// the HLT exit, kvm_emulate_halt, vcpu_block (halt-polling, then sleeping), the timer's wake-up, the
// injection on re-entry, and the guest's EOI (a WRMSR exit) — measured in wall-clock time.
import type { Core } from '../cpu/core';
import { parseScenario } from '../scenario/parse';
import { Simulator } from '../sim';

/** The periodic timer's period: kvm.min_timer_period_us, the shortest KVM allows. */
const PERIOD_NS = 200_000;

const GUEST = `
  lidt [idtr]
  mov ecx, 0x1b
  rdmsr
  or eax, 0xc00
  wrmsr
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
  mov ecx, 0x80b
  xor eax, eax
  xor edx, edx
  wrmsr
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
`;

export interface HltBenchResult {
  frames: boolean;
  events: boolean;
  /** HLT exits handled in the measured window. */
  roundTrips: number;
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
 * Simulated HLT exit round trips per wall-clock second. `roundTrips` sets the measured window; a
 * tenth of it runs first as a warm-up (V8 tiers code up while it runs).
 */
export async function benchHltRoundTrips(core: Core, o: { frames: boolean; events?: boolean; roundTrips?: number }): Promise<HltBenchResult> {
  const n = o.roundTrips ?? 200_000;
  const events = o.events ?? true;
  const warm = Math.max(1000, Math.floor(n / 10));
  const parsed = parseScenario({
    format: 'exitscope/1', kernel: 'rfc-v4',
    guest: { asm: GUEST },
    program: [
      { op: 'create_vcpu', id: 0 },
      { op: 'run', fd: 'vcpu0', timeout_ns: warm * PERIOD_NS },
      { op: 'run', fd: 'vcpu0', timeout_ns: n * PERIOD_NS },
    ],
  });
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('; '));
  const sim = await Simulator.create(core, parsed.scenario, { frames: o.frames, events });
  sim.step();
  sim.step();
  const before = sim.inspectVcpus()[0].stats.halt_exits;
  const c0 = cpuNow();
  const t0 = performance.now();
  const r = sim.step();
  const seconds = (performance.now() - t0) / 1000;
  const c1 = cpuNow();
  const cpuSeconds = c0 === null || c1 === null ? null : c1 - c0;
  if (!r.blocked) throw new Error('the benchmark guest left KVM_RUN');
  const roundTrips = sim.inspectVcpus()[0].stats.halt_exits - before;
  return {
    frames: o.frames, events, roundTrips, seconds, perSecond: roundTrips / seconds,
    cpuSeconds, perCpuSecond: cpuSeconds ? roundTrips / cpuSeconds : null,
  };
}
