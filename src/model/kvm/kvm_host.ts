// The kernel's objects: `struct kvm` (the VM) and `struct kvm_vcpu` with their x86 `arch` parts
// (include/linux/kvm_host.h, arch/x86/include/asm/kvm_host.h), trimmed to what the model uses.
// Plain data and references only, so a snapshot can copy them (sim/snapshot.ts).
import type { Core } from '../cpu/core';
import type { VcpuActivity } from '../trace/events';
import type { EventLog } from '../trace/log';
import { handlerCycles, type HandlerCycles } from './costs';
import type { FrameRecorder } from './frames';
import { Hw } from './hw';
import { KvmRun } from './kvm_run';
import type { KvmLapic } from './lapic';
import type { KvmIoapic, KvmPic } from './pic';
import { newPmu, type KvmPmu } from './pmu';
import { newVcpuStats, type VcpuStats } from './stats';
import { KVM_MP_STATE_RUNNABLE } from './uapi';
import type { KernelVariant } from './variant';

/** vcpu->mode (include/linux/kvm_host.h). */
export const OUTSIDE_GUEST_MODE = 0, IN_GUEST_MODE = 1, EXITING_GUEST_MODE = 2;

// vCPU requests (vcpu->requests). The model keeps them as bits of its own; REQUESTS gives each its
// kernel name and number (KVM_ARCH_REQ(n) = 8 + n).
export const KVM_REQ_EVENT = 1 << 0;
export const KVM_REQ_TRIPLE_FAULT = 1 << 1;
export const KVM_REQ_NMI = 1 << 2;
export const KVM_REQ_UNBLOCK = 1 << 3;
export const KVM_REQ_UNHALT = 1 << 4; // generic; removed in v6.1 (variant.reqUnhalt)
export const KVM_REQ_DISABLE_EXITS = 1 << 5; // RFC v4 5/7: KVM_ARCH_REQ(32)
export const REQUESTS: readonly { bit: number; name: string; nr: number }[] = [
  { bit: KVM_REQ_EVENT, name: 'KVM_REQ_EVENT', nr: 8 + 6 },
  { bit: KVM_REQ_TRIPLE_FAULT, name: 'KVM_REQ_TRIPLE_FAULT', nr: 8 + 2 },
  { bit: KVM_REQ_NMI, name: 'KVM_REQ_NMI', nr: 8 + 9 },
  { bit: KVM_REQ_UNBLOCK, name: 'KVM_REQ_UNBLOCK', nr: 2 },
  { bit: KVM_REQ_UNHALT, name: 'KVM_REQ_UNHALT', nr: 3 },
  { bit: KVM_REQ_DISABLE_EXITS, name: 'KVM_REQ_DISABLE_EXITS', nr: 8 + 32 },
];

/** vcpu->arch.switch_db_regs flags (arch/x86/include/asm/kvm_host.h). */
export const KVM_DEBUGREG_BP_ENABLED = 1, KVM_DEBUGREG_WONT_EXIT = 2;

export function requestNames(bits: number): string[] {
  return REQUESTS.filter((r) => bits & r.bit).map((r) => r.name);
}

/** The four power-management exit flags: kvm->arch (VM scope), and vcpu->arch from RFC v4 2/7. */
export interface InGuestFlags {
  mwait_in_guest: boolean;
  hlt_in_guest: boolean;
  pause_in_guest: boolean;
  cstate_in_guest: boolean;
}

/** Module parameters and host facts the model takes from the scenario's `host`. */
export interface KvmHostParams {
  /** kvm_can_mwait_in_guest(): MWAIT, no X86_BUG_MONITOR, ARAT. */
  canMwait: boolean;
  /** kvm.mitigate_smt_rsb (mainline, v6.2+). */
  mitigateSmtRsb: boolean;
  /** X86_FEATURE_APERFMPERF on the host (mainline's APERFMPERF bit needs it). */
  aperfmperf: boolean;
  /** kvm.halt_poll_ns, in ns. */
  halt_poll_ns: number;
  /** Cycles per ns: the TSC frequency and the guest's instructions per ns. */
  ghz: number;
  /** Cost of one VM exit plus VM entry, in cycles. */
  exit_cycles: number;
  pcpus: number;
}

/**
 * What the kernel model needs from the host it runs on (host.ts): its scheduler and interrupts.
 * Times are virtual cycles.
 */
export interface HostOps {
  /** rcuwait_wake_up(): a vCPU thread sleeping in kvm_vcpu_block (or polling) re-checks at `t`. True if it slept. */
  wakeUp(vcpu: KvmVcpu, t: number): boolean;
  /** An interrupt arrives at `t` on the pCPU running `vcpu` in guest mode (an IPI, or its own timer). */
  interruptCpu(vcpu: KvmVcpu, t: number, vector: number): void;
  /** The code running now is on `vcpu`'s pCPU (kvm_running_vcpu == vcpu): a kick needs no IPI. */
  onCpuOf(vcpu: KvmVcpu): boolean;
  /**
   * The vCPU thread waits: until `until` (Infinity: until woken). True when the wait already ended
   * (the host ran the events that end it, as its scheduler would have); false: the caller yields.
   */
  wait(vcpu: KvmVcpu, until: number, activity: 'polling' | 'blocked' | 'guest_halted'): boolean;
  /** VM entry: the vCPU is in guest mode from now on. */
  guestEnter(vcpu: KvmVcpu): void;
  /** Cycles the vCPU may run guest code before it must yield (0: yield now). Processes due events. */
  budget(vcpu: KvmVcpu): number;
  /** Set when a single guest instruction was asked for: run one, then yield. */
  singleStep(vcpu: KvmVcpu): boolean;
  /** A signal is pending for the vCPU thread (the lab's kick, or a scenario timeout). */
  signalPending(vcpu: KvmVcpu): boolean;
  /** A point a person may want to stop at: after a VM exit, or a guest instruction. True: yield now. */
  stopPoint(vcpu: KvmVcpu, what: 'exit' | 'insn'): boolean;
  /** What the vCPU thread is doing now, for the timeline (emits an `activity` event on change). */
  activity(vcpu: KvmVcpu, activity: VcpuActivity): void;
  /** The same without its event: true when the activity changed (the caller records the event with another). */
  setActivity(vcpu: KvmVcpu, activity: VcpuActivity): boolean;
}

/**
 * Receives the event stream (trace/events.ts) as the model runs: the exit path's events through
 * methods that take numbers, times as the vCPU's clock in cycles (trace/log.ts records them without an
 * object each and makes them ns when read), any other as an object.
 */
export type EventSink = Pick<EventLog, 'enabled' | 'emit' | 'kvmEntry' | 'kvmExit' | 'activity' | 'injVirq' | 'haltPoll' | 'userspaceExit'>;

export interface KvmArch extends InGuestFlags {
  /** v6.17+ storage of the same flags: KVM_X86_DISABLE_EXITS_* bits (commit 6fbef8615d35). */
  disabled_exits: bigint;
  /** KVM_CAP_DISABLE_QUIRKS(2): quirks userspace turned off. */
  disabled_quirks: number;
}

/** struct kvm. */
export class Kvm {
  readonly arch: KvmArch = {
    mwait_in_guest: false, hlt_in_guest: false, pause_in_guest: false, cstate_in_guest: false,
    disabled_exits: 0n, disabled_quirks: 0,
  };
  created_vcpus = 0;
  readonly vcpus: KvmVcpu[] = [];
  /** kvm->max_halt_poll_ns: starts from the halt_poll_ns module parameter. */
  max_halt_poll_ns: number;
  last_boosted_vcpu = -1;
  /** Recorder of the VM ioctl running now (null when recording is off). */
  rec: FrameRecorder | null = null;
  /** The in-kernel 8259 pair, with KVM_CREATE_IRQCHIP. */
  pic: KvmPic | null = null;
  /** The host scheduler and interrupts (set by host.ts when it adopts the VM). */
  host!: HostOps;
  /** The in-kernel IOAPIC, with KVM_CREATE_IRQCHIP. */
  ioapic: KvmIoapic | null = null;
  /** Fast access to the core's state blocks (the exit path's registers and VMCS fields). */
  readonly hw: Hw;
  /** What the exit path and the handlers cost on this host, in cycles (costs.ts). */
  readonly cost: HandlerCycles;

  constructor(
    readonly variant: KernelVariant,
    readonly params: KvmHostParams,
    readonly core: Core,
    /** KVM_CREATE_IRQCHIP was issued: in-kernel LAPIC, PIC and IOAPIC. */
    readonly irqchipInKernel: boolean,
    readonly events: EventSink,
  ) {
    this.max_halt_poll_ns = params.halt_poll_ns;
    this.hw = new Hw(core);
    this.cost = handlerCycles(params.ghz, params.exit_cycles);
  }

  vcpuById(id: number): KvmVcpu | undefined {
    return this.vcpus.find((v) => v.vcpu_id === id);
  }

  /** Virtual cycles to ns, for events and frames. */
  ns(cycles: number): number {
    return cycles / this.params.ghz;
  }
  /** ktime_get() at `clock`: whole nanoseconds, so durations between two of them are whole too (the u64 stats). */
  ktime(clock: number): number {
    return Math.floor(clock / this.params.ghz);
  }
  cycles(ns: number): number {
    return Math.round(ns * this.params.ghz);
  }
}

export interface QueuedException {
  pending: boolean;
  injected: boolean;
  nr: number;
  has_error_code: boolean;
  error_code: number;
  /** #DB: DR6 bits to deliver (kvm_queue_exception_p with a payload). */
  payload: number;
  has_payload: boolean;
}

/** The userspace-IO completion callbacks KVM can leave in vcpu->arch.complete_userspace_io. */
export type CompleteUserspaceIo = 'complete_fast_pio_out' | 'complete_fast_pio_out_port_0x7e' | 'complete_fast_pio_in'
  | 'complete_emulated_pio' | 'complete_emulated_mmio';

export interface MmioFragment { gpa: number; len: number; data: bigint }

/**
 * vcpu->arch.pv_eoi (pv_eoi.ts): MSR_KVM_PV_EOI_EN's value and the GPA of its gfn_to_hva_cache. The
 * MSR's low word is kept as a number too, for the enable check of every entry that injects (as
 * KvmLapic keeps apic_base).
 */
export class PvEoi {
  private val = 0n;
  private lo = 0;
  /** The flag byte's GPA, set when an enabling write initialised the cache (-1: never). */
  gpa = -1;
  get msr_val(): bigint { return this.val; }
  set msr_val(v: bigint) {
    this.val = v;
    this.lo = Number(v & 0xffffffffn);
  }
  /** pv_eoi_enabled(). */
  get enabled(): boolean { return (this.lo & 1) !== 0; }
}

export interface VcpuArch extends InGuestFlags {
  mp_state: number;
  exception: QueuedException;
  interrupt: { injected: boolean; nr: number; soft: boolean };
  nmi_pending: number;
  nmi_injected: boolean;
  complete_userspace_io: CompleteUserspaceIo | null;
  cui_linear_rip: bigint;
  pio: { count: number; port: number; size: number; in: boolean };
  /** String IO in flight through the emulator (INS/OUTS): the element count left. */
  pio_string: { rep: boolean } | null;
  pv_unhalted: boolean;
  singlestep_rip: bigint;
  apf_halted: boolean;
  last_vmentry_cpu: number;
  /** MSR_KVM_POLL_CONTROL: bit 0 clear = the guest asked the host not to halt-poll. */
  msr_kvm_poll_control: bigint;
  /** CPUID entries set at creation (the selftest library's KVM_SET_CPUID2). */
  cpuid: Map<number, [number, number, number, number]>;
  /** CR8 without an in-kernel LAPIC (with one, it is the APIC's TPR). */
  cr8: number;
  /** KVM_DEBUGREG_* flags: WONT_EXIT while MOV DR runs natively until the next exit (handle_dr). */
  switch_db_regs: number;
  pmu: KvmPmu;
  /** MSR_IA32_APICBASE without an in-kernel LAPIC. */
  apic_base: bigint;
  /** MSR_KVM_PV_EOI_EN and the flag's GPA (pv_eoi.ts). */
  pv_eoi: PvEoi;
  /** KVM_APIC_* bits to look at around an entry: KVM_APIC_PV_EOI_PENDING (pv_eoi.ts). */
  apic_attention: number;
  /** KVM_CAP_ENFORCE_PV_FEATURE_CPUID, and CPUID 0x40000001 EAX as kvm_update_pv_runtime() cached it: guest_pv_has(). */
  pv_cpuid: { enforce: boolean; features: number };
}

/** The VMX part of the vCPU (struct vcpu_vmx) that is not in the VMCS itself. */
export interface VcpuVmx {
  ple_window: number;
  ple_window_dirty: boolean;
  /** Exit information latched from the core at the last VM exit (the qualification as a number: < 2^53). */
  exit_reason: number;
  exit_qualification: number;
  idt_vectoring_info: number;
  /** VMCS control words before their last change, for the lab's "what changed" view. */
  prev_controls: { primary: number; secondary: number; at: number } | null;
}

/**
 * Where kvm_vcpu_halt / kvm_vcpu_block stand while the vCPU's thread waits: their locals, in one
 * object per vCPU rather than a generator per halt (the HLT round trip is the model's hottest path).
 */
export interface HaltWait {
  /** kvm_vcpu_halt polling; kvm_vcpu_block called by kvm_vcpu_halt; kvm_vcpu_block alone; or neither. */
  phase: 'poll' | 'halt_block' | 'block' | null;
  /** Cycles: the halt's start, the end of its poll window, the end of the polling so far. */
  start: number;
  stop: number;
  pollEnd: number;
  /** !kvm_arch_no_poll(), and whether this halt polls at all. */
  pollAllowed: boolean;
  doPoll: boolean;
  /** kvm_vcpu_block slept. */
  waited: boolean;
}

/** struct kvm_vcpu. */
export class KvmVcpu {
  readonly arch: VcpuArch;
  guest_debug = 0;
  requests = 0;
  mode = OUTSIDE_GUEST_MODE;
  readonly run = new KvmRun();
  /** Per-vCPU halt-polling window (vcpu->halt_poll_ns), grown and shrunk by kvm_vcpu_halt. */
  halt_poll_ns = 0;
  readonly stat: VcpuStats = newVcpuStats();
  readonly vmx: VcpuVmx = {
    ple_window: 0, ple_window_dirty: false, exit_reason: 0, exit_qualification: 0, idt_vectoring_info: 0,
    prev_controls: null,
  };
  /** vcpu->ready / vcpu->preempted: used by kvm_vcpu_on_spin's candidate search. */
  ready = false;
  preempted = false;
  /** Inside kvm_vcpu_block (rcuwait active): kvm_vcpu_wake_up can wake it. */
  blocking = false;
  // Emulated MMIO in flight (vcpu->mmio_*).
  mmio_needed = false;
  mmio_is_write = false;
  mmio_fragments: MmioFragment[] = [];
  mmio_cur_fragment = 0;
  apic: KvmLapic | null = null;
  /** Recorder of the ioctl running on this vCPU now (null when recording is off). */
  rec: FrameRecorder | null = null;
  /** Exits of this vCPU so far, numbering the kvm_exit events. */
  exitCount = 0;
  /** The pCPU clock of the thread running this vCPU, in cycles (virtual; host.ts moves it). */
  clock = 0;
  /** Where a suspended vcpu_enter_guest stands: running guest code, or past the VM exit. */
  enterPhase: 'guest' | 'exited' = 'guest';
  /** Where a suspended vcpu_run waits: in vcpu_enter_guest (guest code, or a stop at an exit), in vcpu_block, or nowhere. */
  runWait: 'guest' | 'block' | null = null;
  /** The locals of kvm_vcpu_halt / kvm_vcpu_block, kept while the thread waits (kvm_main.ts). */
  readonly wait: HaltWait = { phase: null, start: 0, stop: 0, pollEnd: 0, pollAllowed: false, doPoll: false, waited: false };

  constructor(readonly kvm: Kvm, readonly vcpu_id: number, readonly vcpu_idx: number) {
    this.arch = {
      mwait_in_guest: false, hlt_in_guest: false, pause_in_guest: false, cstate_in_guest: false,
      mp_state: KVM_MP_STATE_RUNNABLE,
      exception: { pending: false, injected: false, nr: 0, has_error_code: false, error_code: 0, payload: 0, has_payload: false },
      interrupt: { injected: false, nr: 0, soft: false },
      nmi_pending: 0, nmi_injected: false,
      complete_userspace_io: null, cui_linear_rip: 0n,
      pio: { count: 0, port: 0, size: 0, in: false }, pio_string: null,
      pv_unhalted: false, singlestep_rip: 0n, apf_halted: false, last_vmentry_cpu: vcpu_idx,
      msr_kvm_poll_control: 1n,
      cpuid: new Map(),
      cr8: 0, switch_db_regs: 0, pmu: newPmu(), apic_base: 0xfee00000n | (1n << 11n) | (vcpu_idx === 0 ? 1n << 8n : 0n),
      pv_eoi: new PvEoi(), apic_attention: 0, pv_cpuid: { enforce: false, features: 0 },
    };
  }

  get core(): Core {
    return this.kvm.core;
  }
  /** The time now on this vCPU's thread, in ns. */
  get t(): number {
    return this.clock / this.kvm.params.ghz;
  }
}

export function kvmMakeRequest(req: number, vcpu: KvmVcpu): void {
  vcpu.requests |= req;
}
export function kvmTestRequest(req: number, vcpu: KvmVcpu): boolean {
  return (vcpu.requests & req) !== 0;
}
/** kvm_check_request: test and clear. */
export function kvmCheckRequest(req: number, vcpu: KvmVcpu): boolean {
  if ((vcpu.requests & req) === 0) return false;
  vcpu.requests &= ~req;
  return true;
}
export function kvmClearRequest(req: number, vcpu: KvmVcpu): void {
  vcpu.requests &= ~req;
}

/**
 * Runs `body` (a module-level function: no closure is made) inside a frame named `fn` when recording.
 * For kernel functions that are only a call, or whose body has callers that record their own frame.
 */
export function traced(vcpu: KvmVcpu, fn: string, body: (vcpu: KvmVcpu) => number): number {
  const rec = vcpu.rec;
  if (!rec) return body(vcpu);
  rec.enter(fn, vcpu.t);
  return rec.leave(body(vcpu));
}

/** irqchip_in_kernel / lapic_in_kernel: KVM_CREATE_IRQCHIP (no split irqchip in the model). */
export function lapicInKernel(vcpu: KvmVcpu): boolean {
  return vcpu.apic !== null;
}
