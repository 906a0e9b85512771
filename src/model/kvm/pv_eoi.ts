// KVM's paravirtual EOI (KVM_FEATURE_PV_EOI, arch/x86/kvm/lapic.c): the guest gives KVM a flag byte
// through MSR_KVM_PV_EOI_EN; before an entry that may safely skip the EOI exit KVM sets the flag, the
// guest's interrupt handler clears it instead of writing the EOI register, and at the next exit KVM
// sees the cleared flag and does the EOI on the guest's behalf. Checked against v5.19's lapic.c and
// x86.c and mainline's (about v6.18): the two agree on everything here, so there is no variant switch.
//
// Not modelled: INIT (kvm_lapic_reset(init_event) clears msr_val and apic_attention as creation does),
// KVM_SET_LAPIC (resets highest_isr_cache to -1, keeps msr_val), KVM_GET/SET_MSRS, KVM_SET_VAPIC_ADDR
// (KVM_APIC_CHECK_VAPIC, the other apic_attention bit): the model has none of these ioctls.
import type { KvmVcpu } from './kvm_host';
import { hex } from './fmt';
import { Memo } from './frames';
import { APIC_IRR, apicSetEoi, type KvmLapic } from './lapic';
import type { KvmIoapic } from './pic';

export const MSR_KVM_PV_EOI_EN = 0x4b564d04;
/** CPUID 0x40000001 EAX bit (cpuid.ts advertises it). */
export const KVM_FEATURE_PV_EOI = 6;
/** Bit 0 of the MSR: the flag's GPA is valid. */
const KVM_MSR_ENABLED = 1n;
/** Bit 0 of the guest's flag byte. */
const KVM_PV_EOI_ENABLED = 1, KVM_PV_EOI_DISABLED = 0;
/** vcpu->arch.apic_attention bits (lapic.h): KVM_APIC_CHECK_VAPIC is bit 0 (not modelled). */
export const KVM_APIC_PV_EOI_PENDING = 1 << 1;
const EFAULT = 14;

/**
 * guest_pv_has(): with KVM_CAP_ENFORCE_PV_FEATURE_CPUID the feature must be in the guest's CPUID
 * 0x40000001 as it was when the cap was enabled; without it (the default) every PV MSR is allowed.
 */
export function guestPvHas(vcpu: KvmVcpu, feature: number): boolean {
  const pv = vcpu.arch.pv_cpuid;
  return !pv.enforce || (pv.features & (1 << feature)) !== 0;
}

/**
 * kvm_lapic_set_pv_eoi(vcpu, data, len): the address (data without bit 0) must be 4-byte aligned (1);
 * an enabling write initialises the guest-memory cache, which fails with -EFAULT for a GPA outside
 * every memslot (outside RAM), leaving the MSR as it was. A disabling write is stored as it is.
 */
export function kvmLapicSetPvEoi(vcpu: KvmVcpu, data: bigint, len: number): number {
  const rec = vcpu.rec;
  if (rec) rec.enter('kvm_lapic_set_pv_eoi', vcpu.t, { data: hex(data) });
  const addr = data & ~KVM_MSR_ENABLED;
  if (addr & 3n) {
    if (rec) rec.leave(1, `GPA ${hex(addr)} is not 4-byte aligned`);
    return 1;
  }
  if (data & KVM_MSR_ENABLED) {
    // kvm_gfn_to_hva_cache_init(): the model's only memslot is guest RAM from GPA 0.
    if (addr > BigInt(Number.MAX_SAFE_INTEGER) || !vcpu.core.inRam(Number(addr), len)) {
      if (rec) rec.leave(-EFAULT, `GPA ${hex(addr)} has no memslot: kvm_gfn_to_hva_cache_init fails, the MSR keeps ${hex(vcpu.arch.pv_eoi.msr_val)}`);
      return -EFAULT;
    }
    vcpu.arch.pv_eoi.gpa = Number(addr);
  }
  vcpu.arch.pv_eoi.msr_val = data;
  if (rec) rec.leave(0, data & KVM_MSR_ENABLED ? `PV EOI on: flag byte at GPA ${hex(addr)}` : 'PV EOI off');
  return 0;
}

// ---- the flag in guest memory (pv_eoi_put_user / pv_eoi_get_user: one byte through the cache) ----

function pvEoiPutUser(vcpu: KvmVcpu, val: number): void {
  vcpu.kvm.hw.setRamByte(vcpu.arch.pv_eoi.gpa, val);
}

/** pv_eoi_set_pending(): the flag set in guest memory, KVM_APIC_PV_EOI_PENDING in apic_attention. */
function pvEoiSetPending(vcpu: KvmVcpu): void {
  pvEoiPutUser(vcpu, KVM_PV_EOI_ENABLED);
  vcpu.arch.apic_attention |= KVM_APIC_PV_EOI_PENDING;
}

/**
 * pv_eoi_test_and_clr_pending(): whether the flag is still set (the guest did not acknowledge through
 * it), clearing it if so; KVM_APIC_PV_EOI_PENDING is cleared either way (set again at the next entry
 * only if it is safe then).
 */
function pvEoiTestAndClrPending(vcpu: KvmVcpu): boolean {
  const val = vcpu.kvm.hw.ramByte(vcpu.arch.pv_eoi.gpa) & KVM_PV_EOI_ENABLED;
  if (val) pvEoiPutUser(vcpu, KVM_PV_EOI_DISABLED);
  vcpu.arch.apic_attention &= ~KVM_APIC_PV_EOI_PENDING;
  return val !== 0;
}

// ---- the entry side ----

const SET_NOTE = new Memo((v) => `IRR empty, highest_isr_cache = ${hex(v)}: PV EOI flag set, the guest may acknowledge vector ${hex(v)} without an exit`);
const IRR_NOTE = new Memo((v) => `IRR pending (vector ${hex(v)}): the guest must EOI by MSR`);
const IOAPIC_NOTE = new Memo((v) => `the IOAPIC needs vector ${hex(v)}'s EOI: the guest must EOI by MSR`);

/**
 * kvm_lapic_sync_to_vapic(), called by vcpu_enter_guest after event injection while the LAPIC is
 * enabled: apic_sync_pv_eoi_to_guest. (Its KVM_APIC_CHECK_VAPIC half is not modelled.) Records its
 * frames only with PV EOI on: otherwise it does nothing.
 */
export function kvmLapicSyncToVapic(vcpu: KvmVcpu): void {
  if (!vcpu.arch.pv_eoi.enabled) return;
  const rec = vcpu.rec;
  if (rec) rec.enter('kvm_lapic_sync_to_vapic', vcpu.t);
  apicSyncPvEoiToGuest(vcpu, vcpu.apic!);
  if (rec) rec.leave('void');
}

/**
 * apic_sync_pv_eoi_to_guest(): the flag is offered only when no interrupt is pending in the IRR (it
 * could be nested), highest_isr_cache names the vector in service (-1 after any EOI: KVM does not
 * search the ISR again) and the IOAPIC does not need that vector's EOI.
 */
function apicSyncPvEoiToGuest(vcpu: KvmVcpu, apic: KvmLapic): void {
  const rec = vcpu.rec;
  if (rec) rec.enter('apic_sync_pv_eoi_to_guest', vcpu.t);
  const isr = apic.highest_isr_cache;
  let note: string | undefined;
  if (apic.irrPending) note = rec?.recording ? IRR_NOTE.get(apic.highest(APIC_IRR)) : undefined;
  else if (isr === -1) note = 'highest_isr_cache is -1 (no injection since the last EOI): no PV EOI for this entry';
  else if (kvmIoapicHandlesVector(vcpu, isr)) note = rec?.recording ? IOAPIC_NOTE.get(isr) : undefined;
  else {
    pvEoiSetPending(vcpu);
    if (rec?.recording) note = SET_NOTE.get(isr);
  }
  if (rec) rec.leave('void', note);
}

// ---- the exit side ----

const EOI_NOTE = new Memo((v) => v === -1 ? 'guest cleared the flag: EOI done here, but no vector was in service' : `guest cleared the flag: EOI done here for vector ${hex(v)}`);

/**
 * kvm_lapic_sync_from_vapic(), called by vcpu_enter_guest when apic_attention is set: after the
 * fastpath loop (re-entries from the fastpath do not sync) and before handle_exit, and on the path
 * that cancels an entry. With KVM_APIC_PV_EOI_PENDING, apic_sync_pv_eoi_from_guest.
 */
export function kvmLapicSyncFromVapic(vcpu: KvmVcpu): void {
  if (!(vcpu.arch.apic_attention & KVM_APIC_PV_EOI_PENDING)) return;
  const rec = vcpu.rec;
  if (rec) rec.enter('kvm_lapic_sync_from_vapic', vcpu.t);
  apicSyncPvEoiFromGuest(vcpu, vcpu.apic!);
  if (rec) rec.leave('void');
}

/**
 * apic_sync_pv_eoi_from_guest(): the flag still set means the guest did not acknowledge through it
 * (not yet, or by a real EOI write, which the exit handler does next): it is cleared. Cleared by the
 * guest: KVM does the EOI now (apic_set_eoi) — the kvm_pv_eoi tracepoint, not in the model's events.
 */
function apicSyncPvEoiFromGuest(vcpu: KvmVcpu, apic: KvmLapic): void {
  const rec = vcpu.rec;
  if (rec) rec.enter('apic_sync_pv_eoi_from_guest', vcpu.t);
  if (pvEoiTestAndClrPending(vcpu)) {
    if (rec) rec.leave('void', 'the flag is still set: the guest did not acknowledge through it; flag cleared');
    return;
  }
  const vector = apicSetEoi(apic);
  if (rec) rec.leave('void', rec.recording ? EOI_NOTE.get(vector) : undefined);
}

// ---- kvm_ioapic_handles_vector ----

/** RTC_GSI: KVM tracks the RTC's EOIs though its pin is edge-triggered. */
const RTC_GSI = 8;
const IOAPIC_LEVEL_TRIG = 1 << 15;

/**
 * kvm_ioapic_handles_vector(): the vector is in vcpu->arch.ioapic_handled_vectors, which KVM fills on
 * KVM_REQ_SCAN_IOAPIC (kvm_ioapic_scan_entry, at the first entry after a redirection write or an APIC
 * map change) with the vector of every level-triggered pin, and of the RTC's, that targets this vCPU or
 * whose vector is pending EOI here at that moment. The model has no such request (it would kick every
 * vCPU) and keeps one bitmap per IOAPIC, scanned again after a redirection write, with every such pin's
 * vector whatever its destination: a pin aimed at another vCPU withholds the flag here where KVM might
 * offer it. Nothing in the model raises IOAPIC lines, and it has no ack notifiers to mark more pins.
 */
function kvmIoapicHandlesVector(vcpu: KvmVcpu, vector: number): boolean {
  const ioapic = vcpu.kvm.ioapic;
  if (!ioapic) return false;
  const handled = ioapic.handled_vectors ?? (ioapic.handled_vectors = kvmIoapicScanEntry(ioapic));
  return (handled[vector >> 5] & (1 << (vector & 31))) !== 0;
}

function kvmIoapicScanEntry(ioapic: KvmIoapic): Uint32Array {
  const handled = new Uint32Array(8);
  for (let pin = 0; pin < ioapic.redirtbl.length; pin++) {
    const low = Number(ioapic.redirtbl[pin] & 0xffffffffn), vector = low & 0xff;
    if (low & IOAPIC_LEVEL_TRIG || pin === RTC_GSI) handled[vector >> 5] |= 1 << (vector & 31);
  }
  return handled;
}
