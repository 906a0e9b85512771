// KVM_CAP_X86_DISABLE_EXITS in every variant (spec §2): what KVM_CHECK_EXTENSION reports, what
// KVM_ENABLE_CAP accepts on the VM fd and on a vCPU fd, and how it stores the result.
// x86.c: kvm_can_mwait_in_guest, kvm_get_allowed_disable_exits, kvm_vm_ioctl_check_extension,
// kvm_vm_ioctl_enable_cap, kvm_vcpu_ioctl_enable_cap; RFC v4 4/7's kvm_ioctl_disable_exits macro.
import type { FrameRecorder } from './frames';
import type { InGuestFlags, Kvm, KvmVcpu } from './kvm_host';
import type { KernelVariant } from './variant';
import { KVM_REQ_DISABLE_EXITS, kvmMakeRequest } from './kvm_host';
import {
  EINVAL,
  KVM_X86_DISABLE_EXITS_APERFMPERF as APERFMPERF,
  KVM_X86_DISABLE_EXITS_CSTATE as CSTATE,
  KVM_X86_DISABLE_EXITS_HLT as HLT,
  KVM_X86_DISABLE_EXITS_MWAIT as MWAIT,
  KVM_X86_DISABLE_EXITS_OVERRIDE as OVERRIDE,
  KVM_X86_DISABLE_EXITS_PAUSE as PAUSE,
  KVM_X86_DISABLE_VALID_EXITS,
} from './uapi';
import { vmxUpdateDisabledExits } from './vmx';

const hex = (v: bigint) => '0x' + v.toString(16);

/** kvm_can_mwait_in_guest(): the host has MWAIT, no X86_BUG_MONITOR, and an always-running APIC timer. */
export function kvmCanMwaitInGuest(kvm: Kvm): boolean {
  return kvm.params.canMwait;
}

/**
 * kvm_get_allowed_disable_exits(). RFC v4 3/7 (v6 3/6) adds it: the valid mask (with OVERRIDE from 4/7)
 * minus MWAIT when the host cannot MWAIT in guest. Mainline's own version (c829ccd4d9dc, v6.14):
 * PAUSE always, APERFMPERF when the host has it (v6.17), HLT/CSTATE/MWAIT unless mitigate_smt_rsb.
 */
export function kvmGetAllowedDisableExits(kvm: Kvm): bigint {
  const v = kvm.variant;
  if (v.kernel === 'mainline') {
    let r = PAUSE;
    if (kvm.params.aperfmperf) r |= APERFMPERF;
    if (!kvm.params.mitigateSmtRsb) {
      r |= HLT | CSTATE;
      if (kvmCanMwaitInGuest(kvm)) r |= MWAIT;
    }
    return r;
  }
  // RFC v4 4/7 ORs OVERRIDE into KVM_X86_DISABLE_VALID_EXITS.
  let r = v.override ? KVM_X86_DISABLE_VALID_EXITS | OVERRIDE : KVM_X86_DISABLE_VALID_EXITS;
  if (!kvmCanMwaitInGuest(kvm)) r &= ~MWAIT;
  return r;
}

/** KVM_CHECK_EXTENSION(KVM_CAP_X86_DISABLE_EXITS): the mask of exits that may be disabled. */
export function checkExtensionDisableExits(kvm: Kvm): number {
  const v = kvm.variant;
  let r: bigint;
  if (v.rejectDisallowed) {
    // The handler's `r` is an int: the u64 with OVERRIDE (bit 63) is truncated to its low 32 bits, so
    // OVERRIDE is never advertised [spec §2.b 4/7, derived].
    r = kvmGetAllowedDisableExits(kvm);
  } else {
    r = HLT | PAUSE | CSTATE;
    if (kvmCanMwaitInGuest(kvm)) r |= MWAIT;
  }
  return Number(BigInt.asIntN(32, r));
}

/**
 * The kvm_ioctl_disable_exits(a, mask) macro of RFC v4 4/7 (v6 4/6), as read in the patch on lore. Without OVERRIDE each set bit
 * turns its flag on; with OVERRIDE each flag is assigned from its bit. Its first statement is meant
 * to drop MWAIT on hosts that cannot MWAIT in guest but is written `mask &= MWAIT`, keeping only MWAIT:
 * since 3/7 already refused MWAIT there, every accepted mask becomes 0 and the call changes nothing
 * (never fixed through v6; Kechen noted the typo on v2, Chao Gao on v5 4/6). Returns the mask as the
 * macro leaves it (it modifies its argument, cap->args[0], in place).
 */
export function kvmIoctlDisableExits(kvm: Kvm, rec: FrameRecorder | null, a: InGuestFlags, target: string, mask: bigint, t: number): bigint {
  if (rec) rec.enter('kvm_ioctl_disable_exits', t, { a: target, mask: hex(mask) });
  if (!kvmCanMwaitInGuest(kvm)) mask &= MWAIT;
  if (mask & OVERRIDE) {
    a.mwait_in_guest = (mask & MWAIT) !== 0n;
    a.hlt_in_guest = (mask & HLT) !== 0n;
    a.pause_in_guest = (mask & PAUSE) !== 0n;
    a.cstate_in_guest = (mask & CSTATE) !== 0n;
  } else {
    if (mask & MWAIT) a.mwait_in_guest = true;
    if (mask & HLT) a.hlt_in_guest = true;
    if (mask & PAUSE) a.pause_in_guest = true;
    if (mask & CSTATE) a.cstate_in_guest = true;
  }
  if (rec) {
    const why = !kvmCanMwaitInGuest(kvm)
      ? `host cannot MWAIT in guest: the typo 'mask &= KVM_X86_DISABLE_EXITS_MWAIT' left mask=${hex(mask)}, so nothing changes`
      : mask & OVERRIDE ? `OVERRIDE: ${target} flags assigned from the mask` : `no OVERRIDE: set bits turn flags on, others untouched`;
    rec.leave('void', why);
  }
  return mask;
}

/** The four flags the kernel code of this variant reads for a vCPU (vcpu->arch from 2/7, else kvm->arch). */
export function inGuestFlags(vcpu: KvmVcpu): InGuestFlags {
  const kvm = vcpu.kvm;
  if (kvm.variant.perVcpuFlags) return vcpu.arch;
  return vmFlags(kvm);
}

/** kvm->arch's flags; mainline v6.17+ keeps them as bits of disabled_exits (6fbef8615d35). */
export function vmFlags(kvm: Kvm): InGuestFlags {
  if (!kvm.variant.disabledExitsU64) return kvm.arch;
  const d = kvm.arch.disabled_exits;
  return {
    mwait_in_guest: (d & MWAIT) !== 0n, hlt_in_guest: (d & HLT) !== 0n,
    pause_in_guest: (d & PAUSE) !== 0n, cstate_in_guest: (d & CSTATE) !== 0n,
  };
}

export function kvmHltInGuest(vcpu: KvmVcpu): boolean { return inGuestFlags(vcpu).hlt_in_guest; }
export function kvmMwaitInGuest(vcpu: KvmVcpu): boolean { return inGuestFlags(vcpu).mwait_in_guest; }
export function kvmPauseInGuest(vcpu: KvmVcpu): boolean { return inGuestFlags(vcpu).pause_in_guest; }
export function kvmCstateInGuest(vcpu: KvmVcpu): boolean { return inGuestFlags(vcpu).cstate_in_guest; }
/** mainline v6.17 (a7cec20845a6): APERF/MPERF reads pass through. */
export function kvmAperfmperfInGuest(kvm: Kvm): boolean {
  return kvm.variant.disabledExitsU64 && (kvm.arch.disabled_exits & APERFMPERF) !== 0n;
}

/** 2/7: kvm_arch_vcpu_create copies the VM flags into the new vCPU before the vendor vcpu_create. */
export function copyFlagsToVcpu(vcpu: KvmVcpu): void {
  if (!vcpu.kvm.variant.perVcpuFlags) return;
  const k = vcpu.kvm.arch;
  vcpu.arch.mwait_in_guest = k.mwait_in_guest;
  vcpu.arch.hlt_in_guest = k.hlt_in_guest;
  vcpu.arch.pause_in_guest = k.pause_in_guest;
  vcpu.arch.cstate_in_guest = k.cstate_in_guest;
}

/** Where a rule comes from in this variant, so that a refusal names its patch or commit. */
function origin(v: KernelVariant, v4Patch: string, v6Patch: string, mainlineCommit: string): string {
  return v.kernel === 'rfc-v4' ? `RFC v4 ${v4Patch}` : v.kernel === 'rfc-v6' ? `RFC v6 ${v6Patch}` : `commit ${mainlineCommit}`;
}

/** The KVM_CAP_X86_DISABLE_EXITS case of kvm_vm_ioctl_enable_cap. Returns 0 or -errno. */
export function vmEnableCapDisableExits(kvm: Kvm, args0: bigint, t: number): number {
  const v = kvm.variant;
  const rec = kvm.rec;
  let mask = args0;
  // Validity: 5.19 checks KVM_X86_DISABLE_VALID_EXITS; 3/7 (and mainline c829ccd4d9dc) the allowed set.
  const allowed = v.rejectDisallowed ? kvmGetAllowedDisableExits(kvm) : KVM_X86_DISABLE_VALID_EXITS;
  if (mask & ~allowed) {
    if (rec) rec.note(`args[0]=${hex(mask)} has bits outside ${v.rejectDisallowed ? 'kvm_get_allowed_disable_exits()' : 'KVM_X86_DISABLE_VALID_EXITS'} = ${hex(allowed)}${v.rejectDisallowed ? ` — ${origin(v, '3/7', '3/6', 'c829ccd4d9dc')}` : ''}`);
    return -EINVAL;
  }
  // 1/7 (v6 1/6, mainline 04cd8f8628d8) takes kvm->lock and refuses once a vCPU exists (the counter
  // rises at the start of KVM_CREATE_VCPU, under the same lock); 5/7 drops the refusal.
  if (kvm.created_vcpus && v.vmCapRejectsAfterCreate) {
    if (rec) rec.note(`kvm->created_vcpus = ${kvm.created_vcpus}: refused once vCPUs exist — ${origin(v, '1/7', '1/6', '04cd8f8628d8')}`);
    return -EINVAL;
  }
  if (v.kernel === 'mainline') {
    // kvm_disable_exits(): OR into the u64 (6fbef8615d35); sticky, no OVERRIDE.
    kvm.arch.disabled_exits |= mask;
    if (rec) rec.note(`kvm->arch.disabled_exits |= ${hex(mask)} → ${hex(kvm.arch.disabled_exits)}`);
    return 0;
  }
  if (v.override) {
    if (kvm.created_vcpus && v.vmCapPropagates) {
      // 5/7: apply to every existing vCPU and queue KVM_REQ_DISABLE_EXITS; no kick.
      for (const vcpu of kvm.vcpus) {
        mask = kvmIoctlDisableExits(kvm, rec, vcpu.arch, `vcpu${vcpu.vcpu_id}->arch`, mask, t);
        kvmMakeRequest(KVM_REQ_DISABLE_EXITS, vcpu);
        if (rec) rec.leaf('kvm_make_request', t, 'void', `KVM_REQ_DISABLE_EXITS on vcpu${vcpu.vcpu_id}: VMCS rewritten at its next VM-entry`);
      }
    }
    // kvm->lock is dropped here: kvm->arch is updated outside it.
    kvmIoctlDisableExits(kvm, rec, kvm.arch, 'kvm->arch', mask, t);
    return 0;
  }
  // 5.19 .. 3/7: sticky OR. Before 3/7 an MWAIT bit is silently ignored when the host cannot MWAIT.
  if (mask & MWAIT && (v.rejectDisallowed || kvmCanMwaitInGuest(kvm))) kvm.arch.mwait_in_guest = true;
  if (mask & HLT) kvm.arch.hlt_in_guest = true;
  if (mask & PAUSE) kvm.arch.pause_in_guest = true;
  if (mask & CSTATE) kvm.arch.cstate_in_guest = true;
  if (rec) {
    const ignored = mask & MWAIT && !kvmCanMwaitInGuest(kvm) ? '; MWAIT ignored: host cannot MWAIT in guest' : '';
    const stale = kvm.created_vcpus ? `; ${kvm.created_vcpus} vCPU(s) already created keep the controls set at their creation` : '';
    rec.note(`sticky OR into kvm->arch${ignored}${stale}`);
  }
  return 0;
}

/** The KVM_CAP_X86_DISABLE_EXITS case of kvm_vcpu_ioctl_enable_cap (5/7, v6 5/6). Returns 0 or -errno. */
export function vcpuEnableCapDisableExits(vcpu: KvmVcpu, args0: bigint): number {
  const kvm = vcpu.kvm;
  const rec = vcpu.rec;
  const t = vcpu.t;
  if (!kvm.variant.vcpuCap) {
    if (rec) rec.note(`no case for KVM_CAP_X86_DISABLE_EXITS in kvm_vcpu_ioctl_enable_cap: default -EINVAL — ${kvm.variant.kernel === 'mainline' ? 'mainline has no vCPU scope' : 'the vCPU scope comes with RFC v4 5/7'}`);
    return -EINVAL;
  }
  const allowed = kvmGetAllowedDisableExits(kvm);
  if (args0 & ~allowed) {
    if (rec) rec.note(`args[0]=${hex(args0)} has bits outside kvm_get_allowed_disable_exits() = ${hex(allowed)}`);
    return -EINVAL;
  }
  kvmIoctlDisableExits(kvm, rec, vcpu.arch, `vcpu${vcpu.vcpu_id}->arch`, args0, t);
  if (kvm.variant.disableExitsRequest) {
    // v4 5/7: the VMCS is rewritten by vcpu_enter_guest at this vCPU's next entry.
    kvmMakeRequest(KVM_REQ_DISABLE_EXITS, vcpu);
    if (rec) rec.leaf('kvm_make_request', t, 'void', 'KVM_REQ_DISABLE_EXITS: takes effect at the next VM-entry');
  } else {
    // v6 5/6: the vCPU is loaded during its own ioctl, so the hook runs now (no request).
    vmxUpdateDisabledExits(vcpu);
  }
  return 0;
}
