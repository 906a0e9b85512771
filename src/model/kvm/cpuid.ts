// The guest CPUID the model's vCPUs get at creation: what the selftest library sets with
// KVM_SET_CPUID2 from KVM_GET_SUPPORTED_CPUID, trimmed to the leaves a small guest looks at.
// KVM_GET_SUPPORTED_CPUID does not report MONITOR/MWAIT (cpuid.c leaves them out), so MWAIT is absent
// unless a VMM adds it — which matters for the MWAIT_NEVER_UD_FAULTS quirk. The bits that follow the
// vCPU's state are kvm_update_cpuid_runtime()'s.
import * as abi from '../../../wasm/src/abi';
import { kvmHltInGuest } from './disable_exits';
import type { KvmVcpu } from './kvm_host';

export type CpuidEntry = [eax: number, ebx: number, ecx: number, edx: number];

const KVM_CPUID_SIGNATURE = 0x40000000;
export const KVM_CPUID_FEATURES = 0x40000001;
export const KVM_FEATURE_PV_UNHALT = 7;
const KVM_FEATURES = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 9) | (1 << 11) | (1 << 12) | (1 << 13);
export const X86_FEATURE_MWAIT_ECX = 1 << 3; // CPUID.1:ECX.MONITOR
const X86_FEATURE_OSXSAVE_ECX = 1 << 27; // CPUID.1:ECX.OSXSAVE mirrors CR4.OSXSAVE
const X86_CR4_OSXSAVE = 1 << 18;
const XFEATURE_MASK_YMM = 4n;
const ascii = (s: string) => s.split('').reduce((v, c, i) => v | (c.charCodeAt(0) << (8 * i)), 0) >>> 0;

/** The entries KVM_SET_CPUID2 sets; kvmUpdateCpuidRuntime() then fills in the state-dependent bits. */
export function defaultCpuid(vcpu: KvmVcpu): Map<number, CpuidEntry> {
  const m = new Map<number, CpuidEntry>();
  m.set(0, [0xd, ascii('Genu'), ascii('ntel'), ascii('ineI')]);
  // Family 6; CLFLUSH line 64 bytes; the initial APIC ID in EBX[31:24].
  // ECX: SSE3, PCLMULQDQ, SSSE3, CX16, SSE4.1/4.2, x2APIC, MOVBE, POPCNT, TSC_DEADLINE_TIMER, AES, XSAVE, hypervisor.
  // EDX: FPU..SSE2 as KVM reports them (including TSC, MSR, APIC).
  const ecx1 = [0, 1, 9, 13, 19, 20, 21, 22, 23, 24, 25, 26, 31].reduce((v, b) => v | (1 << b), 0) >>> 0;
  m.set(1, [0x000906ea, ((vcpu.vcpu_id & 0xff) << 24) | 0x0800, ecx1, 0x178bfbff]);
  m.set(7, [0, 0, 0, 0]);
  // Architectural PMU version 2: 4 general-purpose counters and 3 fixed ones, 48 bits wide (pmu.ts).
  m.set(0xa, [2 | (4 << 8) | (48 << 16) | (7 << 24), 0, 0, 3 | (48 << 5)]);
  m.set(0xd, [0x7, 0x240, 0x340, 0]);
  m.set(0x80000000, [0x80000008, 0, 0, 0]);
  m.set(0x80000001, [0, 0, 0x1, 0x2c100800]); // LAHF; SYSCALL, NX, RDTSCP, LM
  m.set(0x80000008, [0x3027, 0, 0, 0]);
  m.set(KVM_CPUID_SIGNATURE, [KVM_CPUID_FEATURES, ascii('KVMK'), ascii('VMKV'), ascii('M')]);
  m.set(KVM_CPUID_FEATURES, [KVM_FEATURES, 0, 0, 0]);
  return m;
}

/**
 * kvm_update_cpuid_runtime() (__kvm_update_cpuid_runtime in 5.19): CPUID.1:ECX.OSXSAVE follows
 * CR4.OSXSAVE, CPUID.0xD:EBX is the XSAVE area size for the features XCR0 enables, and
 * KVM_FEATURE_PV_UNHALT is stripped while HLT exits are disabled. It runs at KVM_SET_CPUID2 and when
 * the guest changes CR4.OSXSAVE or XCR0 — not when exits are toggled (spec §2.b 5/7), so a per-vCPU
 * HLT disable reaches the PV_UNHALT bit only through such a later change.
 */
export function kvmUpdateCpuidRuntime(vcpu: KvmVcpu): void {
  const m = vcpu.arch.cpuid, id = vcpu.vcpu_idx;
  const leaf1 = m.get(1)!;
  const osxsave = (vcpu.kvm.hw.r32(id, abi.S_CR4) & X86_CR4_OSXSAVE) !== 0;
  leaf1[2] = osxsave ? (leaf1[2] | X86_FEATURE_OSXSAVE_ECX) >>> 0 : (leaf1[2] & ~X86_FEATURE_OSXSAVE_ECX) >>> 0;
  // The legacy area and header (576 bytes) hold x87 and SSE; AVX's YMM upper halves follow at 576.
  m.get(0xd)![1] = vcpu.core.u64(id, abi.S_XCR0) & XFEATURE_MASK_YMM ? 0x340 : 0x240;
  const kvmFeatures = m.get(KVM_CPUID_FEATURES)!;
  if (kvmHltInGuest(vcpu)) kvmFeatures[0] &= ~(1 << KVM_FEATURE_PV_UNHALT);
}

/** kvm_cpuid(): an unknown leaf above the basic range reads as the highest basic leaf (Intel's rule). */
export function kvmCpuid(vcpu: KvmVcpu, fn: number): CpuidEntry {
  const m = vcpu.arch.cpuid;
  const e = m.get(fn);
  if (e) return e;
  const maxBasic = m.get(0)?.[0] ?? 0;
  const maxExt = m.get(0x80000000)?.[0] ?? 0;
  const outOfRange = fn < 0x40000000 ? fn > maxBasic : fn >= 0x80000000 ? fn > maxExt : false;
  return outOfRange ? m.get(maxBasic) ?? [0, 0, 0, 0] : [0, 0, 0, 0];
}

export function guestCpuidHasMwait(vcpu: KvmVcpu): boolean {
  return ((vcpu.arch.cpuid.get(1)?.[2] ?? 0) & X86_FEATURE_MWAIT_ECX) !== 0;
}
