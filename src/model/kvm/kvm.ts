// The ioctls other than KVM_RUN, as the kernel handles them: the VM's (KVM_CHECK_EXTENSION,
// KVM_ENABLE_CAP, KVM_CREATE_VCPU) in virt/kvm/kvm_main.c and arch/x86/kvm/x86.c, and the vCPU's
// (KVM_ENABLE_CAP, KVM_SET_GUEST_DEBUG, KVM_GET/SET_REGS, KVM_GET/SET_MP_STATE, KVM_INTERRUPT).
// Each returns what the kernel function returns: a value ≥ 0, or -errno.
import * as abi from '../../../wasm/src/abi';
import type { Core, RegName, Regs } from '../cpu/core';
import { GPR_NAMES } from '../cpu/core';
import { KVM_CPUID_FEATURES, defaultCpuid, kvmCpuid, kvmUpdateCpuidRuntime } from './cpuid';
import { checkExtensionDisableExits, copyFlagsToVcpu, vcpuEnableCapDisableExits, vmEnableCapDisableExits } from './disable_exits';
import { hex } from './fmt';
import { Host } from './host';
import type { EventSink, KvmHostParams } from './kvm_host';
import { KVM_REQ_EVENT, Kvm, KvmVcpu, kvmMakeRequest, lapicInKernel } from './kvm_host';
import { KvmLapic } from './lapic';
import { KvmIoapic, KvmPic } from './pic';
import {
  EBUSY, EEXIST, EINVAL, ENXIO, KVM_CAP, KVM_GUESTDBG_ENABLE, KVM_GUESTDBG_INJECT_BP, KVM_GUESTDBG_INJECT_DB,
  KVM_GUESTDBG_SINGLESTEP, KVM_GUESTDBG_VALID_MASK, KVM_MP_STATE_AP_RESET_HOLD, KVM_MP_STATE_HALTED, KVM_MP_STATE_RUNNABLE,
  KVM_MP_STATE_UNINITIALIZED,
} from './uapi';
import type { KernelVariant } from './variant';
import { vmxUpdateExceptionBitmap, vmxVcpuCreate } from './vmx';
import { kvmGetLinearRip, kvmGetRflags, kvmQueueException, kvmQueueInterrupt, kvmSetRflags } from './x86';

/** KVM_MAX_VCPU_IDS on x86; the model's own limit on vCPUs is the core's MAX_VCPUS. */
export const KVM_MAX_VCPU_IDS = 4096;
const CAP = (n: string) => KVM_CAP.value(n)!;

/** KVM_CREATE_VM, plus KVM_CREATE_IRQCHIP when `irqchipInKernel`: the VM, its in-kernel devices and its host. */
export function kvmCreateVm(variant: KernelVariant, params: KvmHostParams, core: Core, irqchipInKernel: boolean, events: EventSink): Kvm {
  const kvm = new Kvm(variant, params, core, irqchipInKernel, events);
  if (irqchipInKernel) {
    kvm.pic = new KvmPic();
    kvm.ioapic = new KvmIoapic();
  }
  new Host(kvm);
  return kvm;
}

/** kvm_vm_ioctl_check_extension() for the caps the model knows; 0 for the rest. */
export function kvmVmIoctlCheckExtension(kvm: Kvm, cap: number): number {
  switch (cap) {
    case CAP('IRQCHIP'): case CAP('HLT'): case CAP('USER_MEMORY'): case CAP('SET_GUEST_DEBUG'):
    case CAP('IMMEDIATE_EXIT'): case CAP('DISABLE_QUIRKS'): case CAP('HALT_POLL'): case CAP('ENFORCE_PV_FEATURE_CPUID'):
      return 1;
    case CAP('NR_VCPUS'): return Math.min(kvm.params.pcpus, abi.MAX_VCPUS);
    case CAP('MAX_VCPUS'): return abi.MAX_VCPUS; // the model's limit (the core holds 16 vCPUs)
    case CAP('MAX_VCPU_ID'): return KVM_MAX_VCPU_IDS;
    case CAP('X86_DISABLE_EXITS'): return checkExtensionDisableExits(kvm);
    case CAP('SET_GUEST_DEBUG2'): return KVM_GUESTDBG_VALID_MASK;
    case CAP('DISABLE_QUIRKS2'): return kvm.variant.validQuirks;
  }
  return 0;
}

/** kvm_vm_ioctl_enable_cap() (with the generic KVM_CAP_HALT_POLL). */
export function kvmVmIoctlEnableCap(kvm: Kvm, cap: number, args: readonly bigint[], flags: number, t: number): number {
  const rec = kvm.rec;
  if (flags) {
    if (rec) rec.note('cap->flags != 0');
    return -EINVAL;
  }
  const a0 = args[0] ?? 0n;
  switch (cap) {
    case CAP('HALT_POLL'):
      if (a0 !== BigInt.asUintN(32, a0)) return -EINVAL;
      kvm.max_halt_poll_ns = Number(a0);
      if (rec) rec.note(`kvm->max_halt_poll_ns = ${a0}`);
      return 0;
    case CAP('DISABLE_QUIRKS'):
      kvm.arch.disabled_quirks = Number(a0 & 0xffffffffn);
      return 0;
    case CAP('DISABLE_QUIRKS2'):
      if (a0 & ~BigInt(kvm.variant.validQuirks)) {
        if (rec) rec.note(`args[0] has bits outside KVM_X86_VALID_QUIRKS = ${hex(kvm.variant.validQuirks)}`);
        return -EINVAL;
      }
      kvm.arch.disabled_quirks = Number(a0);
      return 0;
    case CAP('X86_DISABLE_EXITS'):
      return vmEnableCapDisableExits(kvm, a0, t);
  }
  if (rec) rec.note('not a capability this VM can enable');
  return -EINVAL;
}

/**
 * kvm_vm_ioctl_create_vcpu(): created_vcpus counts the vCPU from the start (so a VM-scope cap issued
 * meanwhile sees it), then kvm_arch_vcpu_create() builds it. Returns the vCPU or -errno.
 */
export function kvmVmIoctlCreateVcpu(kvm: Kvm, id: number, t: number): KvmVcpu | number {
  const rec = kvm.rec;
  if (!Number.isInteger(id) || id < 0 || id >= KVM_MAX_VCPU_IDS) {
    if (rec) rec.note(`id ${id} ≥ KVM_MAX_VCPU_IDS`);
    return -EINVAL;
  }
  if (kvm.created_vcpus >= abi.MAX_VCPUS) {
    if (rec) rec.note(`kvm->created_vcpus = ${kvm.created_vcpus} = max_vcpus`);
    return -EINVAL;
  }
  kvm.created_vcpus++;
  if (kvm.vcpuById(id)) {
    // kvm_get_vcpu_by_id() finds the id taken only after the vCPU was built; it is destroyed again.
    kvm.created_vcpus--;
    if (rec) rec.note(`vCPU id ${id} already exists`);
    return -EEXIST;
  }
  const vcpu = new KvmVcpu(kvm, id, kvm.vcpus.length);
  vcpu.clock = t;
  vcpu.rec = rec;
  kvmArchVcpuCreate(vcpu);
  vcpu.rec = null;
  kvm.vcpus.push(vcpu);
  (kvm.host as Host).adopt(vcpu);
  return vcpu;
}

/**
 * kvm_arch_vcpu_create(): mp_state (an AP waits for INIT/SIPI with an in-kernel irqchip), the
 * per-vCPU flags copied from the VM (RFC v4 2/7), the LAPIC, then the vendor vmx_vcpu_create().
 */
function kvmArchVcpuCreate(vcpu: KvmVcpu): void {
  const kvm = vcpu.kvm;
  const rec = vcpu.rec;
  if (rec) rec.enter('kvm_arch_vcpu_create', vcpu.t);
  vcpu.arch.mp_state = !kvm.irqchipInKernel || vcpu.vcpu_id === 0 ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_UNINITIALIZED;
  copyFlagsToVcpu(vcpu);
  if (kvm.irqchipInKernel) vcpu.apic = new KvmLapic(vcpu);
  kvm.core.x.resetVcpu(vcpu.vcpu_idx);
  kvm.core.setU64(vcpu.vcpu_idx, abi.S_MSR_APIC_BASE, vcpu.apic ? vcpu.apic.apic_base : vcpu.arch.apic_base);
  vmxVcpuCreate(vcpu);
  vcpu.arch.cpuid = defaultCpuid(vcpu);
  kvmUpdateCpuidRuntime(vcpu);
  if (rec) rec.leave(0, kvm.variant.perVcpuFlags ? 'vcpu->arch.*_in_guest copied from kvm->arch before vmx_vcpu_create' : 'the VMCS is built from kvm->arch');
}

/** kvm_vcpu_ioctl_enable_cap(). */
export function kvmVcpuIoctlEnableCap(vcpu: KvmVcpu, cap: number, args: readonly bigint[], flags: number): number {
  const rec = vcpu.rec;
  if (flags) {
    if (rec) rec.note('cap->flags != 0');
    return -EINVAL;
  }
  if (cap === CAP('X86_DISABLE_EXITS')) return vcpuEnableCapDisableExits(vcpu, args[0] ?? 0n);
  if (cap === CAP('ENFORCE_PV_FEATURE_CPUID')) {
    const pv = vcpu.arch.pv_cpuid;
    pv.enforce = (args[0] ?? 0n) !== 0n;
    if (pv.enforce) pv.features = kvmCpuid(vcpu, KVM_CPUID_FEATURES)[0]; // kvm_update_pv_runtime()
    if (rec) rec.note(`vcpu->arch.pv_cpuid.enforce = ${pv.enforce ? 1 : 0}`);
    return 0;
  }
  if (rec) rec.note('not a capability a vCPU can enable: default -EINVAL');
  return -EINVAL;
}

/**
 * kvm_arch_vcpu_ioctl_set_guest_debug(): control bits are not checked against KVM_GUESTDBG_VALID_MASK
 * on x86 (so RFC v4 6/7's EXIT_USERSPACE is stored as soon as ENABLE is set); without ENABLE the whole
 * word is cleared. INJECT_DB/BP fail with -EBUSY while an exception is pending. (Spec §1.3 marks the
 * missing check [derived]; checked against an x86 copy of the function found with the code search:
 * it copies dbg->control unchecked.)
 */
export function kvmArchVcpuIoctlSetGuestDebug(vcpu: KvmVcpu, control: number): number {
  const rec = vcpu.rec;
  if (control & (KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP)) {
    if (vcpu.arch.exception.pending) {
      if (rec) rec.note('an exception is already pending');
      return -EBUSY;
    }
    kvmQueueException(vcpu, control & KVM_GUESTDBG_INJECT_DB ? abi.DB_VECTOR : abi.BP_VECTOR);
  }
  const rflags = kvmGetRflags(vcpu);
  vcpu.guest_debug = control >>> 0;
  if (!(vcpu.guest_debug & KVM_GUESTDBG_ENABLE)) vcpu.guest_debug = 0;
  if (vcpu.guest_debug & KVM_GUESTDBG_SINGLESTEP) vcpu.arch.singlestep_rip = kvmGetLinearRip(vcpu);
  kvmSetRflags(vcpu, rflags);
  vmxUpdateExceptionBitmap(vcpu);
  if (rec) rec.note(vcpu.guest_debug ? `vcpu->guest_debug = ${hex(vcpu.guest_debug)}` : 'KVM_GUESTDBG_ENABLE clear: vcpu->guest_debug = 0');
  return 0;
}

/** KVM_GET_REGS: the general registers, RIP, and RFLAGS as kvm_get_rflags() shows them. */
export function kvmArchVcpuIoctlGetRegs(vcpu: KvmVcpu): Regs {
  const regs = vcpu.core.regs(vcpu.vcpu_idx);
  regs.rflags = BigInt(kvmGetRflags(vcpu) >>> 0);
  return regs;
}

/** KVM_SET_REGS (__set_regs): RFLAGS through kvm_set_rflags; a pending exception is dropped. */
export function kvmArchVcpuIoctlSetRegs(vcpu: KvmVcpu, regs: Partial<Record<RegName, bigint>>): number {
  const core = vcpu.core, id = vcpu.vcpu_idx;
  for (const n of GPR_NAMES) if (regs[n] !== undefined) core.setReg(id, n, regs[n]!);
  if (regs.rip !== undefined) core.setReg(id, 'rip', regs.rip);
  if (regs.rflags !== undefined) kvmSetRflags(vcpu, Number(BigInt.asUintN(32, regs.rflags)) | abi.X86_EFLAGS_FIXED);
  vcpu.arch.exception.pending = false;
  kvmMakeRequest(KVM_REQ_EVENT, vcpu);
  return 0;
}

/** KVM_GET_MP_STATE: a HALTED vCPU with pv_unhalted set reads as RUNNABLE. */
export function kvmArchVcpuIoctlGetMpstate(vcpu: KvmVcpu): number {
  const mp = vcpu.arch.mp_state;
  if ((mp === KVM_MP_STATE_HALTED || mp === KVM_MP_STATE_AP_RESET_HOLD) && vcpu.arch.pv_unhalted) return KVM_MP_STATE_RUNNABLE;
  return mp;
}

/** KVM_SET_MP_STATE, for the states the model uses. */
export function kvmArchVcpuIoctlSetMpstate(vcpu: KvmVcpu, state: number): number {
  if (state !== KVM_MP_STATE_RUNNABLE && state !== KVM_MP_STATE_HALTED && state !== KVM_MP_STATE_UNINITIALIZED) return -EINVAL;
  vcpu.arch.mp_state = state;
  kvmMakeRequest(KVM_REQ_EVENT, vcpu);
  return 0;
}

/**
 * kvm_vcpu_ioctl_interrupt(): with the LAPIC in userspace the vector is queued as already "injected"
 * and goes in at the next entry (userspace is trusted to check the interrupt window); with the whole
 * irqchip in the kernel KVM_INTERRUPT is refused.
 */
export function kvmVcpuIoctlInterrupt(vcpu: KvmVcpu, irq: number): number {
  const rec = vcpu.rec;
  if (irq < 0 || irq >= 256) return -EINVAL;
  if (!lapicInKernel(vcpu)) {
    kvmQueueInterrupt(vcpu, irq, false);
    kvmMakeRequest(KVM_REQ_EVENT, vcpu);
    if (rec) rec.note(`vector ${irq} queued: injected at the next VM entry`);
    return 0;
  }
  if (rec) rec.note('the PIC is in the kernel: KVM_INTERRUPT is for userspace irqchips');
  return -ENXIO;
}
