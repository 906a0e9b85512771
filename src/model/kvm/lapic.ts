// The in-kernel local APIC (arch/x86/kvm/lapic.c): the register page, xAPIC MMIO and x2APIC MSRs,
// IRR/ISR/PPR priority, EOI, fixed/NMI IPIs between vCPUs through the ICR, and the LVT timer in
// one-shot, periodic and TSC-deadline modes. Without APICv: every interrupt is set in the IRR with
// KVM_REQ_EVENT and a kick, and injected by KVM at the next VM entry.
//
// The timer is a host hrtimer (no VMX-preemption timer in the modelled CPU): it fires at its virtual
// time through host.ts, which calls apicTimerFn().
import * as abi from '../../../wasm/src/abi';
import type { KvmVcpu } from './kvm_host';
import { KVM_REQ_EVENT, KVM_REQ_NMI, KVM_REQ_UNBLOCK, kvmMakeRequest } from './kvm_host';
import { Memo, type FrameRecorder } from './frames';
import { kvmVcpuKick } from './kvm_main';

// Register offsets in the APIC page (SDM Table 11-1).
export const APIC_ID = 0x20, APIC_LVR = 0x30, APIC_TASKPRI = 0x80, APIC_ARBPRI = 0x90, APIC_PROCPRI = 0xa0,
  APIC_EOI = 0xb0, APIC_RRR = 0xc0, APIC_LDR = 0xd0, APIC_DFR = 0xe0, APIC_SPIV = 0xf0, APIC_ISR = 0x100,
  APIC_TMR = 0x180, APIC_IRR = 0x200, APIC_ESR = 0x280, APIC_LVTCMCI = 0x2f0, APIC_ICR = 0x300, APIC_ICR2 = 0x310,
  APIC_LVTT = 0x320, APIC_LVTTHMR = 0x330, APIC_LVTPC = 0x340, APIC_LVT0 = 0x350, APIC_LVT1 = 0x360,
  APIC_LVTERR = 0x370, APIC_TMICT = 0x380, APIC_TMCCT = 0x390, APIC_TDCR = 0x3e0, APIC_SELF_IPI = 0x3f0;

export const APIC_REG_NAMES: Record<number, string> = {
  [APIC_ID]: 'APIC_ID', [APIC_LVR]: 'APIC_LVR', [APIC_TASKPRI]: 'APIC_TASKPRI', [APIC_ARBPRI]: 'APIC_ARBPRI',
  [APIC_PROCPRI]: 'APIC_PROCPRI', [APIC_EOI]: 'APIC_EOI', [APIC_RRR]: 'APIC_RRR', [APIC_LDR]: 'APIC_LDR',
  [APIC_DFR]: 'APIC_DFR', [APIC_SPIV]: 'APIC_SPIV', [APIC_ESR]: 'APIC_ESR', [APIC_ICR]: 'APIC_ICR',
  [APIC_ICR2]: 'APIC_ICR2', [APIC_LVTT]: 'APIC_LVTT', [APIC_LVTTHMR]: 'APIC_LVTTHMR', [APIC_LVTPC]: 'APIC_LVTPC',
  [APIC_LVT0]: 'APIC_LVT0', [APIC_LVT1]: 'APIC_LVT1', [APIC_LVTERR]: 'APIC_LVTERR', [APIC_TMICT]: 'APIC_TMICT',
  [APIC_TMCCT]: 'APIC_TMCCT', [APIC_TDCR]: 'APIC_TDCR', [APIC_SELF_IPI]: 'APIC_SELF_IPI', [APIC_LVTCMCI]: 'APIC_LVTCMCI',
};
export function apicRegName(reg: number): string {
  if (reg >= APIC_ISR && reg < APIC_ISR + 0x80) return `APIC_ISR+0x${(reg - APIC_ISR).toString(16)}`;
  if (reg >= APIC_TMR && reg < APIC_TMR + 0x80) return `APIC_TMR+0x${(reg - APIC_TMR).toString(16)}`;
  if (reg >= APIC_IRR && reg < APIC_IRR + 0x80) return `APIC_IRR+0x${(reg - APIC_IRR).toString(16)}`;
  return APIC_REG_NAMES[reg] ?? `0x${reg.toString(16)}`;
}

export const APIC_LVT_MASKED = 1 << 16;
export const APIC_LVT_TIMER_ONESHOT = 0, APIC_LVT_TIMER_PERIODIC = 1 << 17, APIC_LVT_TIMER_TSCDEADLINE = 2 << 17;
const APIC_LVT_TIMER_MASK = 3 << 17;
export const APIC_SPIV_APIC_ENABLED = 1 << 8;
export const APIC_VECTOR_MASK = 0xff;
export const APIC_MODE_MASK = 0x700, APIC_DM_FIXED = 0, APIC_DM_LOWEST = 0x100, APIC_DM_REMRD = 0x300, APIC_DM_NMI = 0x400;
export const APIC_DEST_LOGICAL = 0x800, APIC_ICR_BUSY = 0x1000, APIC_INT_ASSERT = 0x4000, APIC_INT_LEVELTRIG = 0x8000;
export const APIC_SHORT_MASK = 0xc0000, APIC_DEST_NOSHORT = 0, APIC_DEST_SELF = 0x40000, APIC_DEST_ALLINC = 0x80000, APIC_DEST_ALLBUT = 0xc0000;
export const X2APIC_BROADCAST = 0xffffffff;
export const MSR_IA32_APICBASE_BSP = 1n << 8n, X2APIC_ENABLE = 1n << 10n, MSR_IA32_APICBASE_ENABLE = 1n << 11n;
export const APIC_DEFAULT_PHYS_BASE = 0xfee00000n;
const X2APIC_ENABLE_BIT = 1 << 10, APICBASE_ENABLE_BIT = 1 << 11;
/** KvmLapic.top: the highest vector of a register must be searched for. */
const UNKNOWN = -2;
/** KVM's emulated APIC bus runs at 1 GHz: one timer tick per ns before the divider. */
export const APIC_BUS_CYCLE_NS = 1;
/** kvm.min_timer_period_us: periodic timers faster than 200 µs are slowed to it (limit_periodic_timer_frequency). */
export const MIN_TIMER_PERIOD_NS = 200_000;

// Per LVT register, the bits a write keeps (apic_lvt_mask[]).
const LVT_MASK: Record<number, number> = {
  [APIC_LVTT]: 0x100ff | APIC_LVT_TIMER_MASK, [APIC_LVTTHMR]: 0x107ff, [APIC_LVTPC]: 0x107ff,
  [APIC_LVT0]: 0x1a7ff, [APIC_LVT1]: 0x1a7ff, [APIC_LVTERR]: 0x100ff, [APIC_LVTCMCI]: 0x107ff,
};

/** struct kvm_lapic, with its struct kvm_timer. Times are virtual cycles. */
export class KvmLapic {
  readonly regs = new Uint32Array(1024);
  /** MSR_IA32_APICBASE, and its low word as a number for the mode checks on every exit. */
  private base = 0n;
  private baseLo = 0;
  get apic_base(): bigint { return this.base; }
  set apic_base(v: bigint) {
    this.base = v;
    this.baseLo = Number(v & 0xffffffffn);
  }
  divide_count = 2;
  readonly lapic_timer = {
    timer_mode: APIC_LVT_TIMER_ONESHOT,
    /** Period in cycles (0 = not running in one-shot/periodic mode). */
    period: 0,
    /** Cycles at which the hrtimer fires; Infinity when it is not armed. */
    expires: Infinity,
    tscdeadline: 0n,
    pending: 0,
  };

  /**
   * The vector apic_set_isr() last put in service, -1 after any apic_clear_isr() (KVM does not search
   * the ISR again for it, unlike `top` below): the PV EOI decision of every entry reads it (pv_eoi.ts).
   */
  highest_isr_cache = -1;

  constructor(readonly vcpu: KvmVcpu) {
    this.apic_base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE | (vcpu.vcpu_id === 0 ? MSR_IA32_APICBASE_BSP : 0n);
    this.reset();
  }

  /** kvm_lapic_reset(): ID, version, SPIV 0xff (software-disabled), every LVT masked. */
  private reset(): void {
    this.regs.fill(0);
    this.set(APIC_ID, this.x2apicMode ? this.vcpu.vcpu_id : this.vcpu.vcpu_id << 24);
    this.set(APIC_LVR, 0x14 | (5 << 16));
    for (const lvt of [APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC, APIC_LVT0, APIC_LVT1, APIC_LVTERR, APIC_LVTCMCI]) this.set(lvt, APIC_LVT_MASKED);
    this.set(APIC_DFR, 0xffffffff);
    this.set(APIC_SPIV, 0xff);
    this.set(APIC_TDCR, 0);
    this.updateDivideCount();
  }

  get(reg: number): number { return this.regs[reg >> 2]; }
  set(reg: number, v: number): void { this.regs[reg >> 2] = v >>> 0; }

  get x2apicMode(): boolean { return (this.baseLo & X2APIC_ENABLE_BIT) !== 0; }
  get hwEnabled(): boolean { return (this.baseLo & APICBASE_ENABLE_BIT) !== 0; }
  get swEnabled(): boolean { return (this.get(APIC_SPIV) & APIC_SPIV_APIC_ENABLED) !== 0; }
  /** apic_enabled(): both hardware (APIC_BASE) and software (SPIV) enabled. */
  get enabled(): boolean { return this.hwEnabled && this.swEnabled; }

  /** The 32-bit ID: the x2APIC ID, or the xAPIC ID from bits 31:24. */
  get apicId(): number { return this.x2apicMode ? this.get(APIC_ID) : this.get(APIC_ID) >>> 24; }

  // IRR/ISR: 256-bit vectors spread over eight registers 0x10 apart. `set` counts the bits per
  // base (like KVM's irr_pending/isr_count) so that an empty one answers without a scan, and `top`
  // keeps the highest set vector (-1: none; UNKNOWN: search again), which the priority checks of
  // every halt and injection ask for several times. Indexed by base >> 7 (ISR 2, TMR 3, IRR 4).
  private readonly setBits = new Int32Array(5);
  private readonly top = new Int32Array(5).fill(-1);
  testVector(base: number, vec: number): boolean { return (this.get(base + ((vec >> 5) << 4)) & (1 << (vec & 31))) !== 0; }
  /** Sets the vector's bit; false when it was already set. */
  setVector(base: number, vec: number): boolean {
    const r = base + ((vec >> 5) << 4), old = this.get(r), bit = 1 << (vec & 31);
    if (old & bit) return false;
    this.set(r, old | bit);
    const b = base >> 7;
    this.setBits[b]++;
    if (this.top[b] !== UNKNOWN && vec > this.top[b]) this.top[b] = vec;
    return true;
  }
  clearVector(base: number, vec: number): void {
    const r = base + ((vec >> 5) << 4), old = this.get(r), bit = 1 << (vec & 31);
    if (!(old & bit)) return;
    this.set(r, old & ~bit);
    const b = base >> 7;
    if (--this.setBits[b] === 0) this.top[b] = -1;
    else if (this.top[b] === vec) this.top[b] = UNKNOWN;
  }
  /** Some vector is set in the IRR (KVM's apic->irr_pending). */
  get irrPending(): boolean { return this.setBits[APIC_IRR >> 7] !== 0; }
  /** Highest set vector of IRR or ISR, or -1. */
  highest(base: number): number {
    const b = base >> 7;
    const known = this.top[b];
    if (known !== UNKNOWN) return known;
    for (let i = 7; i >= 0; i--) {
      const w = this.get(base + (i << 4));
      if (w) return (this.top[b] = (i << 5) + 31 - Math.clz32(w));
    }
    return (this.top[b] = -1);
  }

  updateDivideCount(): void {
    const tdcr = this.get(APIC_TDCR) & 0xf;
    const tmp = ((tdcr & 3) | ((tdcr & 8) >> 1)) + 1;
    this.divide_count = 1 << (tmp & 7);
  }

  /** __apic_update_ppr(): PPR = TPR when its class is at least the highest in-service class. */
  updatePpr(): number {
    const tpr = this.get(APIC_TASKPRI) & 0xff;
    const isrv = Math.max(this.highest(APIC_ISR), 0);
    const ppr = (tpr & 0xf0) >= (isrv & 0xf0) ? tpr : isrv & 0xf0;
    this.set(APIC_PROCPRI, ppr);
    return ppr;
  }

  /** apic_has_interrupt_for_ppr(): the highest IRR vector whose class beats the PPR, or -1. */
  hasInterruptForPpr(ppr: number): number {
    const irr = this.highest(APIC_IRR);
    return irr === -1 || (irr & 0xf0) <= ppr ? -1 : irr;
  }
}

/**
 * kvm_apic_has_interrupt(): the vector that would be delivered now, or -1. With the IRR empty the
 * answer is -1 whatever the PPR, and the PPR is already current (every TPR and ISR change updates it),
 * so the recomputation is skipped: this runs several times per halt.
 */
export function kvmApicHasInterrupt(vcpu: KvmVcpu): number {
  const apic = vcpu.apic;
  if (!apic || !apic.irrPending || !apic.hwEnabled) return -1;
  return apic.hasInterruptForPpr(apic.updatePpr());
}

/** kvm_get_apic_interrupt(): moves the vector from IRR to ISR and returns it. */
export function kvmGetApicInterrupt(vcpu: KvmVcpu): number {
  const vector = kvmApicHasInterrupt(vcpu);
  if (vector === -1) return -1;
  const apic = vcpu.apic!;
  apic.clearVector(APIC_IRR, vector);
  if (apic.setVector(APIC_ISR, vector)) apic.highest_isr_cache = vector; // apic_set_isr()
  apic.updatePpr();
  return vector;
}

/** apic_update_ppr(): KVM_REQ_EVENT when the new priority lets a pending interrupt through. */
function apicUpdatePpr(apic: KvmLapic): void {
  const before = apic.get(APIC_PROCPRI);
  const ppr = apic.updatePpr();
  if (ppr !== before && apic.hasInterruptForPpr(ppr) !== -1) kvmMakeRequest(KVM_REQ_EVENT, apic.vcpu);
}

/** kvm_lapic_set_tpr(): CR8 is the TPR's priority class (bits 7:4). */
export function kvmLapicSetTpr(vcpu: KvmVcpu, cr8: number): void {
  const apic = vcpu.apic!;
  apic.set(APIC_TASKPRI, (cr8 & 0xf) << 4);
  apicUpdatePpr(apic);
}

/** kvm_lapic_get_cr8(). */
export function kvmLapicGetCr8(vcpu: KvmVcpu): number {
  return (vcpu.apic!.get(APIC_TASKPRI) & 0xf0) >> 4;
}

/** kvm_lapic_enabled(): an in-kernel LAPIC, hardware- and software-enabled. */
export function kvmLapicEnabled(vcpu: KvmVcpu): boolean {
  return vcpu.apic !== null && vcpu.apic.enabled;
}

/** apic_set_eoi(): clears the highest in-service vector (apic_clear_isr: highest_isr_cache = -1), then makes KVM_REQ_EVENT. */
export function apicSetEoi(apic: KvmLapic): number {
  const vector = apic.highest(APIC_ISR);
  if (vector === -1) return -1;
  apic.clearVector(APIC_ISR, vector);
  apic.highest_isr_cache = -1;
  apicUpdatePpr(apic);
  // (kvm_ioapic_send_eoi: the model's IOAPIC raises no lines that wait for it.) KVM asks for an event
  // check after every EOI, whether or not the PPR change unmasked anything.
  kvmMakeRequest(KVM_REQ_EVENT, apic.vcpu);
  return vector;
}

/** kvm_lapic_set_eoi(): the fast EOI of handle_apic_access. */
export function kvmLapicSetEoi(vcpu: KvmVcpu): void {
  const rec = vcpu.rec;
  if (rec) rec.enter('kvm_lapic_set_eoi', vcpu.t);
  const v = apicSetEoi(vcpu.apic!);
  if (rec) rec.leave('void', rec.recording ? EOI_NOTE.get(v) : undefined);
}

/**
 * __apic_accept_irq() for the delivery modes the model sends: fixed (and lowest priority, delivered
 * as fixed to the matched vCPU), NMI, and REMRD (the PV kick of KVM_HC_KICK_CPU: pv_unhalted).
 * `t` is when it happens, for the kick.
 */
export function apicAcceptIrq(target: KvmVcpu, mode: number, vector: number, t: number): boolean {
  const apic = target.apic;
  if (!apic) return false;
  switch (mode) {
    case APIC_DM_LOWEST:
    case APIC_DM_FIXED:
      if (!apic.enabled) return false;
      // vmx_deliver_interrupt(): no posted interrupts, so set the IRR, request an event, kick.
      apic.setVector(APIC_IRR, vector);
      kvmMakeRequest(KVM_REQ_EVENT, target);
      kvmVcpuKick(target, t);
      return true;
    case APIC_DM_NMI:
      target.arch.nmi_pending++;
      kvmMakeRequest(KVM_REQ_NMI, target);
      kvmVcpuKick(target, t);
      return true;
    case APIC_DM_REMRD:
      target.arch.pv_unhalted = true;
      kvmMakeRequest(KVM_REQ_EVENT, target);
      kvmVcpuKick(target, t);
      return true;
  }
  return false;
}

/** kvm_apic_match_dest(): physical or logical destination, or a shorthand. */
function kvmApicMatchDest(target: KvmVcpu, source: KvmVcpu, shorthand: number, dest: number, logical: boolean): boolean {
  const apic = target.apic;
  if (!apic) return false;
  switch (shorthand) {
    case APIC_DEST_SELF: return target === source;
    case APIC_DEST_ALLINC: return true;
    case APIC_DEST_ALLBUT: return target !== source;
  }
  if (!logical) {
    if (apic.x2apicMode) return dest === X2APIC_BROADCAST || dest === apic.apicId;
    return (dest & 0xff) === 0xff || (dest & 0xff) === apic.apicId;
  }
  const ldr = apic.get(APIC_LDR);
  if (apic.x2apicMode) return dest === X2APIC_BROADCAST || ((ldr >>> 16) === (dest >>> 16) && (ldr & dest & 0xffff) !== 0);
  const mda = dest & 0xff;
  if (mda === 0xff) return true;
  const lid = ldr >>> 24;
  if (apic.get(APIC_DFR) >>> 28 === 0xf) return (lid & mda) !== 0; // flat model
  return (lid >> 4) === (mda >> 4) && (lid & mda & 0xf) !== 0; // cluster model
}

/** kvm_apic_send_ipi() → kvm_irq_delivery_to_apic(): delivers an ICR write to every matching vCPU. */
export function kvmApicSendIpi(source: KvmVcpu, icrLow: number, dest: number): number {
  const rec = source.rec;
  const mode = icrLow & APIC_MODE_MASK;
  const vector = icrLow & APIC_VECTOR_MASK;
  if (rec) rec.enter('kvm_apic_send_ipi', source.t, { vector, mode: `0x${mode.toString(16)}`, dest: `0x${dest.toString(16)}` });
  const targets: number[] = [];
  for (const target of source.kvm.vcpus) {
    if (!kvmApicMatchDest(target, source, icrLow & APIC_SHORT_MASK, dest, (icrLow & APIC_DEST_LOGICAL) !== 0)) continue;
    if (apicAcceptIrq(target, mode, vector, source.clock)) targets.push(target.vcpu_id);
    // Lowest priority goes to one vCPU only (KVM arbitrates; the model takes the first match).
    if (mode === APIC_DM_LOWEST && targets.length) break;
  }
  if (rec) rec.leave(targets.length, targets.length ? `delivered to vcpu ${targets.join(', ')}` : 'no vCPU accepted it (APIC disabled or no match)');
  return targets.length;
}

// ---- the timer ----

/** Converts APIC bus ticks (ns) to cycles. */
function busNsToCycles(vcpu: KvmVcpu, ns: number): number {
  return Math.round(ns * vcpu.kvm.params.ghz);
}

function lvttMode(apic: KvmLapic): number {
  return apic.lapic_timer.timer_mode;
}

function cancelApicTimer(apic: KvmLapic): void {
  apic.lapic_timer.expires = Infinity;
}

/** start_apic_timer(): arm the hrtimer for one-shot/periodic (from TMICT) or TSC-deadline mode. */
function startApicTimer(apic: KvmLapic, now: number): void {
  const lt = apic.lapic_timer;
  if (lvttMode(apic) === APIC_LVT_TIMER_TSCDEADLINE) {
    if (lt.tscdeadline === 0n) return;
    // The guest TSC equals the host's (TSC offset 0): the deadline is a cycle count.
    const deadline = Number(lt.tscdeadline);
    if (deadline > now) lt.expires = deadline;
    else apicTimerExpired(apic, now, false);
    return;
  }
  // set_target_expiration(): period = TMICT × APIC_BUS_CYCLE_NS × divide_count.
  let periodNs = apic.get(APIC_TMICT) * APIC_BUS_CYCLE_NS * apic.divide_count;
  if (!periodNs) {
    lt.period = 0;
    return;
  }
  if (lvttMode(apic) === APIC_LVT_TIMER_PERIODIC && periodNs < MIN_TIMER_PERIOD_NS) periodNs = MIN_TIMER_PERIOD_NS;
  lt.period = busNsToCycles(apic.vcpu, periodNs);
  lt.expires = now + lt.period;
}

/**
 * apic_timer_expired(): one pending tick at most (further expiries coalesce), KVM_REQ_UNBLOCK, and from
 * the hrtimer callback a kick of the vCPU.
 */
function apicTimerExpired(apic: KvmLapic, t: number, fromTimerFn: boolean): void {
  const lt = apic.lapic_timer;
  if (lt.pending) return;
  lt.pending++;
  kvmMakeRequest(KVM_REQ_UNBLOCK, apic.vcpu);
  if (fromTimerFn) kvmVcpuKick(apic.vcpu, t);
}

/** The host's local timer interrupt vector: the hrtimer fires on the vCPU's own pCPU. */
export const LOCAL_TIMER_VECTOR = 0xec;

/**
 * apic_timer_fn(): the hrtimer callback at `t` (its expiry), run on the vCPU's pCPU after the timer
 * interrupt (host.ts raises that interrupt first); periodic timers re-arm one period later.
 */
export function apicTimerFn(apic: KvmLapic, t: number): void {
  const lt = apic.lapic_timer;
  lt.expires = Infinity;
  apicTimerExpired(apic, t, true);
  if (lvttMode(apic) === APIC_LVT_TIMER_PERIODIC && lt.period) lt.expires = t + lt.period;
}

/** kvm_cpu_has_pending_timer(). */
export function kvmCpuHasPendingTimer(vcpu: KvmVcpu): boolean {
  return vcpu.apic !== null && vcpu.apic.lapic_timer.pending > 0;
}

/** kvm_inject_apic_timer_irqs(): deliver the pending tick through LVTT and clear the count. */
export function kvmInjectApicTimerIrqs(vcpu: KvmVcpu): void {
  const apic = vcpu.apic;
  if (!apic || apic.lapic_timer.pending <= 0) return;
  const rec = vcpu.rec;
  if (rec) rec.enter('kvm_inject_apic_timer_irqs', vcpu.t);
  const delivered = kvmApicLocalDeliver(apic, APIC_LVTT, vcpu.clock);
  const lt = apic.lapic_timer;
  if (lvttMode(apic) === APIC_LVT_TIMER_TSCDEADLINE) lt.tscdeadline = 0n;
  else if (lvttMode(apic) === APIC_LVT_TIMER_ONESHOT) lt.tscdeadline = 0n;
  lt.pending = 0;
  if (rec) leaveTimerIrqs(apic, rec, delivered);
}
function leaveTimerIrqs(apic: KvmLapic, rec: FrameRecorder, delivered: boolean): void {
  rec.leave('void', !rec.recording ? undefined : delivered ? LVTT_NOTE.get(apic.get(APIC_LVTT) & 0xff) : 'LVTT masked: the tick is dropped');
}
const LVTT_NOTE = new Memo((vector) => `LVTT vector ${vector} set in the IRR`);

/** kvm_apic_local_deliver(): an LVT entry fires, unless masked. */
function kvmApicLocalDeliver(apic: KvmLapic, lvt: number, t: number): boolean {
  const reg = apic.get(lvt);
  if (!apic.hwEnabled || reg & APIC_LVT_MASKED) return false;
  return apicAcceptIrq(apic.vcpu, reg & APIC_MODE_MASK, reg & APIC_VECTOR_MASK, t);
}

/** apic_get_tmcct(): the current count, from the time left to expiry. */
function apicGetTmcct(apic: KvmLapic, now: number): number {
  const lt = apic.lapic_timer;
  if (apic.get(APIC_TMICT) === 0 || lt.period === 0 || lt.expires === Infinity) return 0;
  const remainingCycles = Math.max(0, lt.expires - now) % lt.period;
  return Math.floor(remainingCycles / apic.vcpu.kvm.params.ghz / (APIC_BUS_CYCLE_NS * apic.divide_count));
}

/** kvm_set_lapic_tscdeadline_msr(): only in TSC-deadline mode; other modes ignore the write. */
export function kvmSetLapicTscdeadlineMsr(vcpu: KvmVcpu, data: bigint): void {
  const apic = vcpu.apic;
  if (!apic || !apic.hwEnabled || lvttMode(apic) !== APIC_LVT_TIMER_TSCDEADLINE) return;
  cancelApicTimer(apic);
  apic.lapic_timer.tscdeadline = data;
  startApicTimer(apic, vcpu.clock);
}
export function kvmGetLapicTscdeadlineMsr(vcpu: KvmVcpu): bigint {
  const apic = vcpu.apic;
  if (!apic || lvttMode(apic) !== APIC_LVT_TIMER_TSCDEADLINE) return 0n;
  return apic.lapic_timer.tscdeadline;
}

// ---- register access ----

/** kvm_lapic_reg_read(): 0 on success with the value, or null (an invalid register). */
export function kvmLapicRegRead(apic: KvmLapic, reg: number): number | null {
  const now = apic.vcpu.clock;
  if (reg >= 0x400 || reg & 0xf) return null;
  switch (reg) {
    case APIC_ARBPRI: return 0;
    case APIC_TMCCT: return apicGetTmcct(apic, now);
    case APIC_PROCPRI: return apic.updatePpr();
    case APIC_TASKPRI: return apic.get(APIC_TASKPRI);
    case APIC_EOI: case APIC_RRR: return apic.x2apicMode ? null : 0;
    case APIC_DFR: case APIC_ICR2: return apic.x2apicMode ? null : apic.get(reg);
    case APIC_SELF_IPI: return null;
  }
  return apic.get(reg);
}

/** Keyed value × 4096 + register (an offset in the page), so that an EOI's (value 0) is a small key. */
const REG_WRITE_ARGS = new Memo((k) => ({ reg: apicRegName(k % 0x1000), val: `0x${Math.floor(k / 0x1000).toString(16)}` }));
const EOI_NOTE = new Memo((v) => v === -1 ? 'no vector in service' : `vector ${v} leaves the ISR`);

/**
 * kvm_lapic_reg_write(): returns 0, or 1 for a write KVM refuses (an x2APIC-only or xAPIC-only
 * register, a read-only one).
 */
export function kvmLapicRegWrite(apic: KvmLapic, reg: number, val: number): number {
  const vcpu = apic.vcpu;
  const now = vcpu.clock;
  const rec = vcpu.rec;
  if (rec) rec.enter('kvm_lapic_reg_write', vcpu.t, rec.keeping ? REG_WRITE_ARGS.get((val >>> 0) * 0x1000 + reg) : undefined);
  let ret = 0;
  let note: string | undefined;
  switch (reg) {
    case APIC_ID:
      if (apic.x2apicMode) ret = 1;
      else apic.set(APIC_ID, val & 0xff000000);
      break;
    case APIC_TASKPRI:
      apic.set(APIC_TASKPRI, val & 0xff);
      apicUpdatePpr(apic);
      break;
    case APIC_EOI: {
      const v = apicSetEoi(apic);
      if (rec?.recording) note = EOI_NOTE.get(v);
      break;
    }
    case APIC_LDR:
      if (apic.x2apicMode) ret = 1;
      else apic.set(APIC_LDR, val & 0xff000000);
      break;
    case APIC_DFR:
      if (apic.x2apicMode) ret = 1;
      else apic.set(APIC_DFR, val | 0x0fffffff);
      break;
    case APIC_SPIV:
      apic.set(APIC_SPIV, val & 0x3ff);
      if (!(val & APIC_SPIV_APIC_ENABLED)) {
        for (const lvt of [APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC, APIC_LVT0, APIC_LVT1, APIC_LVTERR, APIC_LVTCMCI]) apic.set(lvt, apic.get(lvt) | APIC_LVT_MASKED);
        apic.lapic_timer.pending = 0;
      }
      note = val & APIC_SPIV_APIC_ENABLED ? 'APIC software-enabled' : 'APIC software-disabled: every LVT masked';
      break;
    case APIC_ICR: {
      if (apic.x2apicMode) { ret = 1; break; }
      const low = val & ~APIC_ICR_BUSY;
      kvmApicSendIpi(vcpu, low, apic.get(APIC_ICR2) >>> 24);
      apic.set(APIC_ICR, low);
      break;
    }
    case APIC_ICR2:
      if (apic.x2apicMode) ret = 1;
      else apic.set(APIC_ICR2, val & 0xff000000);
      break;
    case APIC_LVT0: case APIC_LVTTHMR: case APIC_LVTPC: case APIC_LVT1: case APIC_LVTERR: case APIC_LVTCMCI:
      apic.set(reg, (apic.swEnabled ? val : val | APIC_LVT_MASKED) & LVT_MASK[reg]);
      break;
    case APIC_LVTT: {
      const v = (apic.swEnabled ? val : val | APIC_LVT_MASKED) & LVT_MASK[APIC_LVTT];
      apic.set(APIC_LVTT, v);
      // apic_update_lvtt(): switching to or from TSC-deadline mode stops the timer.
      const mode = v & APIC_LVT_TIMER_MASK;
      const lt = apic.lapic_timer;
      if (lt.timer_mode !== mode) {
        if ((lt.timer_mode === APIC_LVT_TIMER_TSCDEADLINE) !== (mode === APIC_LVT_TIMER_TSCDEADLINE)) {
          cancelApicTimer(apic);
          apic.set(APIC_TMICT, 0);
          lt.period = 0;
          lt.tscdeadline = 0n;
        }
        lt.timer_mode = mode;
      }
      note = `timer mode ${mode === APIC_LVT_TIMER_TSCDEADLINE ? 'TSC-deadline' : mode === APIC_LVT_TIMER_PERIODIC ? 'periodic' : 'one-shot'}${v & APIC_LVT_MASKED ? ', masked' : `, vector ${v & 0xff}`}`;
      break;
    }
    case APIC_TMICT:
      if (lvttMode(apic) === APIC_LVT_TIMER_TSCDEADLINE) break;
      cancelApicTimer(apic);
      apic.set(APIC_TMICT, val);
      startApicTimer(apic, now);
      note = apic.lapic_timer.expires === Infinity ? 'timer stopped' : `hrtimer armed for ${(apic.lapic_timer.period / vcpu.kvm.params.ghz).toFixed(0)} ns`;
      break;
    case APIC_TDCR: {
      const old = apic.divide_count;
      apic.set(APIC_TDCR, val & 0xb);
      apic.updateDivideCount();
      if (apic.divide_count !== old && apic.lapic_timer.period && apic.lapic_timer.expires !== Infinity) {
        cancelApicTimer(apic);
        startApicTimer(apic, now);
      }
      break;
    }
    case APIC_ESR:
      if (apic.x2apicMode && val !== 0) ret = 1;
      else apic.set(APIC_ESR, 0);
      break;
    case APIC_SELF_IPI:
      if (!apic.x2apicMode) ret = 1;
      else kvmApicSendIpi(vcpu, APIC_DEST_SELF | (val & APIC_VECTOR_MASK), 0);
      break;
    default:
      ret = 1;
  }
  if (rec) rec.leave(ret, ret ? 'not a writable register in this APIC mode' : note);
  return ret;
}

/** The x2APIC MSR for a register: 0x800 + offset/16. */
export function x2apicMsrReg(msr: number): number {
  return (msr - abi.MSR_X2APIC_BASE) << 4;
}

/** kvm_x2apic_msr_write() with EDX:EAX as `high`:`low`: 1 (→ #GP) without x2APIC mode; the 64-bit ICR sends at once. */
export function kvmX2apicMsrWrite(vcpu: KvmVcpu, msr: number, low: number, high: number): number {
  const apic = vcpu.apic;
  if (!apic || !apic.x2apicMode) return 1;
  const reg = x2apicMsrReg(msr);
  if (reg === APIC_ICR2) return 1;
  if (reg === APIC_ICR) {
    kvmApicSendIpi(vcpu, low & ~APIC_ICR_BUSY, high);
    apic.set(APIC_ICR, low & ~APIC_ICR_BUSY);
    apic.set(APIC_ICR2, high);
    return 0;
  }
  return kvmLapicRegWrite(apic, reg, low);
}

export function kvmX2apicMsrRead(vcpu: KvmVcpu, msr: number): bigint | null {
  const apic = vcpu.apic;
  if (!apic || !apic.x2apicMode) return null;
  const reg = x2apicMsrReg(msr);
  if (reg === APIC_DFR || reg === APIC_ICR2) return null;
  const low = kvmLapicRegRead(apic, reg);
  if (low === null) return null;
  if (reg === APIC_ICR) return (BigInt(apic.get(APIC_ICR2)) << 32n) | BigInt(low >>> 0);
  return BigInt(low >>> 0);
}

/**
 * kvm_set_apic_base() (guest write of MSR_IA32_APICBASE): reserved bits and invalid transitions fail
 * (→ #GP); entering x2APIC mode makes the ID the vCPU id and derives the logical ID.
 */
export function kvmSetApicBase(vcpu: KvmVcpu, data: bigint): number {
  const apic = vcpu.apic;
  if (!apic) return 1;
  const mode = (v: bigint) => (v & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE));
  const oldMode = mode(apic.apic_base), newMode = mode(data);
  if (data & 0x2ffn || data >> 36n || newMode === X2APIC_ENABLE) return 1;
  if (oldMode === (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE) && newMode === MSR_IA32_APICBASE_ENABLE) return 1;
  if (oldMode === 0n && newMode === (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE)) return 1;
  const wasX2 = apic.x2apicMode;
  apic.apic_base = data;
  if (!wasX2 && apic.x2apicMode) {
    const id = vcpu.vcpu_id;
    apic.set(APIC_ID, id);
    apic.set(APIC_LDR, ((id >> 4) << 16) | (1 << (id & 0xf)));
  }
  return 0;
}
