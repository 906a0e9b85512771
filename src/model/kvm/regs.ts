// The control registers, debug registers and XCR0 as arch/x86/kvm/x86.c changes them for the exit
// handlers: kvm_set_cr0/3/4/8 and kvm_get_cr8, kvm_require_dr, kvm_get_dr/kvm_set_dr, __kvm_set_xcr.
// Each returns what the kernel function returns (0, or 1 for "inject #GP"). Their storage is the
// core's state block, which holds what the guest sees: CR0/CR4 as their read shadows show them (the
// core keeps no guest/host masks), CR3, DR0-7, XCR0. The guest runs in 64-bit mode at CPL 0 in the
// core, so is_long_mode and is_64_bit_mode are both EFER.LMA.
//
// Read against 5.19's x86.c (via the stored copies the `search` tool reaches): kvm_set_cr0's checks
// (bits 63:32, NW without CD, PG without PE, clearing PG in 64-bit mode), kvm_set_cr4's (reserved
// bits from the guest CPUID, PAE required and LA57 fixed in long mode, PCIDE rules), kvm_set_dr's
// DR6/DR7 masks, and __kvm_set_xcr's XCR0 rules.
import * as abi from '../../../wasm/src/abi';
import { kvmCpuid, kvmUpdateCpuidRuntime } from './cpuid';
import { hex } from './fmt';
import type { KvmVcpu } from './kvm_host';
import { lapicInKernel } from './kvm_host';
import { kvmLapicGetCr8, kvmLapicSetTpr } from './lapic';
import { kvmQueueException } from './x86';

// CR0 (SDM Vol. 3 §2.5).
const X86_CR0_PE = 1n, X86_CR0_MP = 2n, X86_CR0_EM = 4n, X86_CR0_TS = 8n, X86_CR0_ET = 0x10n, X86_CR0_NE = 0x20n,
  X86_CR0_WP = 1n << 16n, X86_CR0_AM = 1n << 18n, X86_CR0_NW = 1n << 29n, X86_CR0_CD = 1n << 30n, X86_CR0_PG = 1n << 31n;
const CR0_KNOWN = X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_AM
  | X86_CR0_NW | X86_CR0_CD | X86_CR0_PG;

// CR4.
export const X86_CR4_DE = 1 << 3;
const X86_CR4_PAE = 1 << 5, X86_CR4_UMIP = 1 << 11, X86_CR4_LA57 = 1 << 12, X86_CR4_VMXE = 1 << 13,
  X86_CR4_FSGSBASE = 1 << 16, X86_CR4_PCIDE = 1 << 17, X86_CR4_OSXSAVE = 1 << 18, X86_CR4_SMEP = 1 << 20,
  X86_CR4_SMAP = 1 << 21, X86_CR4_PKE = 1 << 22;
/** CR4_RESERVED_BITS' complement: every CR4 bit KVM knows (VME … PKE). */
const CR4_KNOWN = 0x7fffff & ~(1 << 14 /* SMXE */ | 1 << 15 | 1 << 19);

const EFER_LMA = 1n << 10n;
const DR6_VOLATILE = 0x0001e80fn, DR7_VOLATILE = 0xffff2bffn, DR7_FIXED_1 = 0x400n;
export const DR7_GD = 1 << 13;
export const DR6_BD = 1 << 13;
const XFEATURE_MASK_FP = 1n, XFEATURE_MASK_SSE = 2n, XFEATURE_MASK_YMM = 4n;

const u64 = (vcpu: KvmVcpu, off: number) => vcpu.core.u64(vcpu.vcpu_idx, off);
const setU64 = (vcpu: KvmVcpu, off: number, v: bigint) => vcpu.core.setU64(vcpu.vcpu_idx, off, v);
const isLongMode = (vcpu: KvmVcpu) => (u64(vcpu, abi.S_MSR_EFER) & EFER_LMA) !== 0n;

/** Records a leaf frame for a register write: its value, what it returned and why. */
function done(vcpu: KvmVcpu, fn: string, val: bigint, ret: number, why: string): number {
  const rec = vcpu.rec;
  if (rec) rec.leaf(fn, vcpu.t, ret, why, { val: hex(val) });
  return ret;
}

/** kvm_set_cr0(): reserved bits 31:0 are dropped; the rest of the checks #GP. */
export function kvmSetCr0(vcpu: KvmVcpu, val: bigint): number {
  const fn = 'kvm_set_cr0';
  if (val >> 32n) return done(vcpu, fn, val, 1, 'bits 63:32 set');
  let cr0 = (val | X86_CR0_ET) & CR0_KNOWN;
  if (cr0 & X86_CR0_NW && !(cr0 & X86_CR0_CD)) return done(vcpu, fn, val, 1, 'NW without CD');
  if (cr0 & X86_CR0_PG && !(cr0 & X86_CR0_PE)) return done(vcpu, fn, val, 1, 'PG without PE');
  if (!(cr0 & X86_CR0_PG) && isLongMode(vcpu)) return done(vcpu, fn, val, 1, 'clearing PG in 64-bit mode');
  cr0 = BigInt.asUintN(64, cr0);
  setU64(vcpu, abi.S_CR0, cr0);
  return done(vcpu, fn, val, 0, `CR0 = ${hex(cr0)}`);
}

/**
 * kvm_set_cr3(). Not reached with EPT and unrestricted guest (KVM never sets CR3-load exiting then;
 * 5.19's handle_cr warns if it happens), but handle_cr has the branch, so the model does too.
 */
export function kvmSetCr3(vcpu: KvmVcpu, val: bigint): number {
  const maxPhyAddr = kvmCpuid(vcpu, 0x80000008)[0] & 0xff;
  if (val >> BigInt(maxPhyAddr)) return done(vcpu, 'kvm_set_cr3', val, 1, `beyond MAXPHYADDR (${maxPhyAddr} bits)`);
  setU64(vcpu, abi.S_CR3, val);
  return done(vcpu, 'kvm_set_cr3', val, 0, 'CR3 loaded');
}

/** cr4_reserved_bits | cr4_guest_rsvd_bits: what CR4_RESERVED_BITS and the guest's CPUID leave out. */
function cr4ReservedBits(vcpu: KvmVcpu): number {
  const [, , ecx1] = kvmCpuid(vcpu, 1);
  const [, ebx7, ecx7] = kvmCpuid(vcpu, 7);
  let known = CR4_KNOWN;
  const need = (has: boolean, bit: number) => { if (!has) known &= ~bit; };
  need((ecx1 & (1 << 26)) !== 0, X86_CR4_OSXSAVE);
  need((ecx1 & (1 << 17)) !== 0, X86_CR4_PCIDE);
  need((ecx1 & (1 << 5)) !== 0, X86_CR4_VMXE);
  need((ebx7 & (1 << 0)) !== 0, X86_CR4_FSGSBASE);
  need((ebx7 & (1 << 7)) !== 0, X86_CR4_SMEP);
  need((ebx7 & (1 << 20)) !== 0, X86_CR4_SMAP);
  need((ecx7 & (1 << 2)) !== 0, X86_CR4_UMIP);
  need((ecx7 & (1 << 3)) !== 0, X86_CR4_PKE);
  need((ecx7 & (1 << 16)) !== 0, X86_CR4_LA57);
  return ~known >>> 0;
}

/**
 * kvm_set_cr4(): reserved bits, PAE and LA57 in long mode, PCIDE only with PCID, CR3[11:0] = 0 and
 * long mode. A change of OSXSAVE (or PKE) runs kvm_update_cpuid_runtime (kvm_post_set_cr4).
 */
export function kvmSetCr4(vcpu: KvmVcpu, val: bigint): number {
  const fn = 'kvm_set_cr4';
  const old = Number(u64(vcpu, abi.S_CR4) & 0xffffffffn);
  if (val >> 32n || Number(val) & cr4ReservedBits(vcpu)) return done(vcpu, fn, val, 1, 'a reserved bit, or a feature the guest\'s CPUID lacks');
  const cr4 = Number(val);
  if (isLongMode(vcpu)) {
    if (!(cr4 & X86_CR4_PAE)) return done(vcpu, fn, val, 1, 'clearing PAE in long mode');
    if ((cr4 ^ old) & X86_CR4_LA57) return done(vcpu, fn, val, 1, 'LA57 cannot change in long mode');
  }
  if (cr4 & X86_CR4_PCIDE && !(old & X86_CR4_PCIDE) && (u64(vcpu, abi.S_CR3) & 0xfffn || !isLongMode(vcpu))) {
    return done(vcpu, fn, val, 1, 'PCIDE needs CR3[11:0] = 0 and long mode');
  }
  setU64(vcpu, abi.S_CR4, val);
  if ((cr4 ^ old) & (X86_CR4_OSXSAVE | X86_CR4_PKE)) kvmUpdateCpuidRuntime(vcpu);
  return done(vcpu, fn, val, 0, (cr4 ^ old) & X86_CR4_OSXSAVE ? 'CR4.OSXSAVE changed: kvm_update_cpuid_runtime' : `CR4 = ${hex(val)}`);
}

/** kvm_get_cr8(): the TPR's priority class with an in-kernel LAPIC, else vcpu->arch.cr8. */
export function kvmGetCr8(vcpu: KvmVcpu): number {
  return lapicInKernel(vcpu) ? kvmLapicGetCr8(vcpu) : vcpu.arch.cr8;
}

/** kvm_set_cr8(): bits 7:4 (of the byte handle_cr passes) are reserved. */
export function kvmSetCr8(vcpu: KvmVcpu, cr8: number): number {
  if (cr8 & ~0xf) return done(vcpu, 'kvm_set_cr8', BigInt(cr8), 1, 'reserved bits 7:4 set');
  if (lapicInKernel(vcpu)) kvmLapicSetTpr(vcpu, cr8);
  else vcpu.arch.cr8 = cr8;
  return done(vcpu, 'kvm_set_cr8', BigInt(cr8), 0, lapicInKernel(vcpu) ? 'the LAPIC\'s TPR' : 'vcpu->arch.cr8 (LAPIC in userspace)');
}

/** kvm_require_dr(): DR4/DR5 alias DR6/DR7 unless CR4.DE, where they #UD. */
export function kvmRequireDr(vcpu: KvmVcpu, dr: number): boolean {
  if ((dr !== 4 && dr !== 5) || !(Number(u64(vcpu, abi.S_CR4) & 0xffffffffn) & X86_CR4_DE)) return true;
  kvmQueueException(vcpu, abi.UD_VECTOR);
  const rec = vcpu.rec;
  if (rec) rec.leaf('kvm_require_dr', vcpu.t, 'false', `DR${dr} with CR4.DE set: #UD queued`);
  return false;
}

/** The state-block field of DRn (DR4/DR5 as DR6/DR7). */
function drField(dr: number): number {
  if (dr < 4) return abi.S_DR0 + dr * 8;
  return dr === 4 || dr === 6 ? abi.S_DR6 : abi.S_DR7;
}

/** kvm_get_dr(). */
export function kvmGetDr(vcpu: KvmVcpu, dr: number): bigint {
  return u64(vcpu, drField(dr));
}

/** kvm_set_dr(): DR6/DR7 take no bits 63:32 (#GP); their fixed bits are forced. */
export function kvmSetDr(vcpu: KvmVcpu, dr: number, val: bigint): number {
  let v = val;
  if (dr >= 4) {
    if (val >> 32n) return done(vcpu, 'kvm_set_dr', val, 1, `DR${dr}: bits 63:32 set`);
    v = dr === 4 || dr === 6 ? (val & DR6_VOLATILE) | BigInt(abi.DR6_ACTIVE_LOW) : (val & DR7_VOLATILE) | DR7_FIXED_1;
  }
  setU64(vcpu, drField(dr), v);
  return done(vcpu, 'kvm_set_dr', val, 0, `DR${dr} = ${hex(v)}`);
}

/**
 * __kvm_set_xcr(): only XCR0; x87 must stay on, AVX needs SSE, and nothing beyond what the guest's
 * CPUID leaf 0xD allows (the AVX-512, MPX and AMX pairings cannot arise with that leaf). A change of
 * the extended features runs kvm_update_cpuid_runtime.
 */
export function kvmSetXcr(vcpu: KvmVcpu, index: number, xcr: bigint): number {
  const fn = '__kvm_set_xcr';
  const rec = vcpu.rec;
  const fail = (why: string) => {
    if (rec) rec.leaf(fn, vcpu.t, 1, why, { index, xcr: hex(xcr) });
    return 1;
  };
  if (index !== 0) return fail('only XCR0 exists');
  if (!(xcr & XFEATURE_MASK_FP)) return fail('x87 (bit 0) must stay enabled');
  if (xcr & XFEATURE_MASK_YMM && !(xcr & XFEATURE_MASK_SSE)) return fail('AVX without SSE');
  const [eax, , , edx] = kvmCpuid(vcpu, 0xd);
  const valid = ((BigInt(edx >>> 0) << 32n) | BigInt(eax >>> 0)) | XFEATURE_MASK_FP;
  if (xcr & ~valid) return fail(`beyond what CPUID leaf 0xD allows (${hex(valid)})`);
  const old = u64(vcpu, abi.S_XCR0);
  setU64(vcpu, abi.S_XCR0, xcr);
  if ((xcr ^ old) & ~(XFEATURE_MASK_FP | XFEATURE_MASK_SSE)) kvmUpdateCpuidRuntime(vcpu);
  if (rec) rec.leaf(fn, vcpu.t, 0, `XCR0 = ${hex(xcr)}`, { index, xcr: hex(xcr) });
  return 0;
}
