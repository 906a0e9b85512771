// The guest's virtual PMU as far as RDPMC and the counter MSRs reach it (arch/x86/kvm/pmu.c,
// vmx/pmu_intel.c): the architectural PMU that KVM_GET_SUPPORTED_CPUID leaf 0xA advertises and the
// selftest library hands to KVM_SET_CPUID2 (cpuid.ts). The model keeps what the guest writes to the
// counters and their controls but counts no events: KVM backs each enabled counter with a host perf
// event, and the model has no host perf. A counter therefore reads what was last written to it.
import type { KvmVcpu } from './kvm_host';
import { kvmCpuid } from './cpuid';

const MSR_IA32_PERFCTR0 = 0xc1, MSR_P6_EVNTSEL0 = 0x186, MSR_CORE_PERF_FIXED_CTR0 = 0x309;
const MSR_CORE_PERF_FIXED_CTR_CTRL = 0x38d, MSR_CORE_PERF_GLOBAL_STATUS = 0x38e, MSR_CORE_PERF_GLOBAL_CTRL = 0x38f,
  MSR_CORE_PERF_GLOBAL_OVF_CTRL = 0x390;
/** The bits of IA32_PERFEVTSELx a write may not set (pmu->reserved_bits in 5.19). */
const EVENTSEL_RESERVED = 0xffffffff00200000n;

/** struct kvm_pmu: the counters and controls, as numbers the guest wrote. */
export interface KvmPmu {
  gp: bigint[];
  fixed: bigint[];
  eventsel: bigint[];
  fixed_ctr_ctrl: bigint;
  global_ctrl: bigint;
}

export function newPmu(): KvmPmu {
  return { gp: [], fixed: [], eventsel: [], fixed_ctr_ctrl: 0n, global_ctrl: 0n };
}

/** kvm_pmu_refresh(): what the guest's CPUID leaf 0xA gives it. */
function pmuShape(vcpu: KvmVcpu) {
  const [eax, , , edx] = kvmCpuid(vcpu, 0xa);
  const version = eax & 0xff;
  return {
    version,
    nrGp: version ? (eax >> 8) & 0xff : 0,
    gpMask: (1n << BigInt((eax >> 16) & 0xff)) - 1n,
    nrFixed: version > 1 ? edx & 0x1f : 0,
    fixedMask: (1n << BigInt((edx >> 5) & 0xff)) - 1n,
  };
}

/**
 * kvm_pmu_rdpmc() with intel_rdpmc_ecx_to_pmc(): ECX bit 30 picks the fixed counters, bit 31 asks for
 * the low 32 bits only; an index past the counters (or no PMU) fails, and RDPMC at CPL > 0 needs
 * CR4.PCE (the model's guest runs at CPL 0). The counter's value, or null for #GP.
 */
export function kvmPmuRdpmc(vcpu: KvmVcpu, idx: number): bigint | null {
  const pmu = pmuShape(vcpu);
  if (!pmu.version) return null;
  const fixed = (idx & (1 << 30)) !== 0;
  const fast = (idx & (1 << 31)) !== 0;
  const i = idx & ~(3 << 30);
  if (i >= (fixed ? pmu.nrFixed : pmu.nrGp)) return null;
  const value = (fixed ? vcpu.arch.pmu.fixed[i] : vcpu.arch.pmu.gp[i]) ?? 0n;
  return value & (fixed ? pmu.fixedMask : pmu.gpMask) & (fast ? 0xffffffffn : ~0n);
}

/** A PMU MSR's index in its bank, or -1. */
function bank(msr: number, base: number, n: number): number {
  return msr >= base && msr < base + n ? msr - base : -1;
}

/** intel_pmu_get_msr() for the MSRs this PMU has; undefined when `msr` is none of them. */
export function intelPmuGetMsr(vcpu: KvmVcpu, msr: number): bigint | undefined {
  const pmu = pmuShape(vcpu), s = vcpu.arch.pmu;
  let i: number;
  if ((i = bank(msr, MSR_IA32_PERFCTR0, pmu.nrGp)) >= 0) return (s.gp[i] ?? 0n) & pmu.gpMask;
  if ((i = bank(msr, MSR_P6_EVNTSEL0, pmu.nrGp)) >= 0) return s.eventsel[i] ?? 0n;
  if ((i = bank(msr, MSR_CORE_PERF_FIXED_CTR0, pmu.nrFixed)) >= 0) return (s.fixed[i] ?? 0n) & pmu.fixedMask;
  if (pmu.version < 2) return undefined;
  switch (msr) {
    case MSR_CORE_PERF_FIXED_CTR_CTRL: return s.fixed_ctr_ctrl;
    case MSR_CORE_PERF_GLOBAL_STATUS: return 0n; // nothing counts, so nothing overflows
    case MSR_CORE_PERF_GLOBAL_CTRL: return s.global_ctrl;
    case MSR_CORE_PERF_GLOBAL_OVF_CTRL: return 0n;
  }
  return undefined;
}

/**
 * intel_pmu_set_msr() for the MSRs this PMU has: 0, 1 for a write KVM refuses (→ #GP), undefined when
 * `msr` is none of them. A guest write to a counter through its legacy MSR is sign-extended from 32
 * bits; reserved bits of the controls are refused.
 */
export function intelPmuSetMsr(vcpu: KvmVcpu, msr: number, data: bigint): number | undefined {
  const pmu = pmuShape(vcpu), s = vcpu.arch.pmu;
  let i: number;
  if ((i = bank(msr, MSR_IA32_PERFCTR0, pmu.nrGp)) >= 0) {
    s.gp[i] = BigInt.asUintN(64, BigInt.asIntN(32, data));
    return 0;
  }
  if ((i = bank(msr, MSR_P6_EVNTSEL0, pmu.nrGp)) >= 0) {
    if (data & EVENTSEL_RESERVED) return 1;
    s.eventsel[i] = data;
    return 0;
  }
  if ((i = bank(msr, MSR_CORE_PERF_FIXED_CTR0, pmu.nrFixed)) >= 0) {
    s.fixed[i] = data;
    return 0;
  }
  if (pmu.version < 2) return undefined;
  // Each fixed counter has 4 control bits, of which AnyThread (bit 2) is reserved here; GLOBAL_CTRL has
  // one enable bit per counter: general-purpose from bit 0, fixed from bit 32.
  const fixedBits = (1n << BigInt(4 * pmu.nrFixed)) - 1n;
  const fixedCtrlMask = ~fixedBits | (0x4444444444444444n & fixedBits);
  const globalCtrlMask = ~(((1n << BigInt(pmu.nrGp)) - 1n) | (((1n << BigInt(pmu.nrFixed)) - 1n) << 32n));
  switch (msr) {
    case MSR_CORE_PERF_FIXED_CTR_CTRL:
      if (data & fixedCtrlMask) return 1;
      s.fixed_ctr_ctrl = data;
      return 0;
    case MSR_CORE_PERF_GLOBAL_STATUS:
      return 1; // read-only for the guest (only userspace may set it)
    case MSR_CORE_PERF_GLOBAL_CTRL:
      if (data & globalCtrlMask) return 1;
      s.global_ctrl = data;
      return 0;
    case MSR_CORE_PERF_GLOBAL_OVF_CTRL:
      return data & globalCtrlMask ? 1 : 0;
  }
  return undefined;
}
