// The guest CPUID the model's vCPUs get at creation: what the selftest library sets with
// KVM_SET_CPUID2 from KVM_GET_SUPPORTED_CPUID, trimmed to the leaves a small guest looks at.
// KVM_GET_SUPPORTED_CPUID does not report MONITOR/MWAIT (cpuid.c leaves them out), so MWAIT is absent
// unless a VMM adds it — which matters for the MWAIT_NEVER_UD_FAULTS quirk.
import { kvmHltInGuest } from './disable_exits';
import type { KvmVcpu } from './kvm_host';

export type CpuidEntry = [eax: number, ebx: number, ecx: number, edx: number];

const KVM_CPUID_SIGNATURE = 0x40000000;
const KVM_CPUID_FEATURES = 0x40000001;
export const KVM_FEATURE_PV_UNHALT = 7;
const KVM_FEATURES = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 9) | (1 << 11) | (1 << 12) | (1 << 13);
export const X86_FEATURE_MWAIT_ECX = 1 << 3; // CPUID.1:ECX.MONITOR
const ascii = (s: string) => s.split('').reduce((v, c, i) => v | (c.charCodeAt(0) << (8 * i)), 0) >>> 0;

/** The entries, with KVM_FEATURE_PV_UNHALT stripped when HLT exits are disabled (__kvm_update_cpuid_runtime). */
export function defaultCpuid(vcpu: KvmVcpu): Map<number, CpuidEntry> {
  const m = new Map<number, CpuidEntry>();
  m.set(0, [0xd, ascii('Genu'), ascii('ntel'), ascii('ineI')]);
  // Family 6; CLFLUSH line 64 bytes; the initial APIC ID in EBX[31:24].
  // ECX: SSE3, PCLMULQDQ, SSSE3, CX16, SSE4.1/4.2, x2APIC, MOVBE, POPCNT, TSC_DEADLINE_TIMER, AES, XSAVE, hypervisor.
  // EDX: FPU..SSE2 as KVM reports them (including TSC, MSR, APIC).
  const ecx1 = [0, 1, 9, 13, 19, 20, 21, 22, 23, 24, 25, 26, 31].reduce((v, b) => v | (1 << b), 0) >>> 0;
  m.set(1, [0x000906ea, ((vcpu.vcpu_id & 0xff) << 24) | 0x0800, ecx1, 0x178bfbff]);
  m.set(7, [0, 0, 0, 0]);
  m.set(0xd, [0x7, 0x340, 0x340, 0]);
  m.set(0x80000000, [0x80000008, 0, 0, 0]);
  m.set(0x80000001, [0, 0, 0x1, 0x2c100800]); // LAHF; SYSCALL, NX, RDTSCP, LM
  m.set(0x80000008, [0x3027, 0, 0, 0]);
  m.set(KVM_CPUID_SIGNATURE, [KVM_CPUID_FEATURES, ascii('KVMK'), ascii('VMKV'), ascii('M')]);
  let features = KVM_FEATURES;
  if (kvmHltInGuest(vcpu)) features &= ~(1 << KVM_FEATURE_PV_UNHALT);
  m.set(KVM_CPUID_FEATURES, [features, 0, 0, 0]);
  return m;
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
