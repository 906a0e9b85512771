// The exit handlers and helpers of arch/x86/kvm/x86.c that VMX shares with SVM: port IO (kvm_fast_pio
// and its userspace completions, string IO through the emulator), emulated MMIO (x86_emulate_instruction
// with the core's emulate() replaying the instruction on MMIO fragments, as KVM's emulator does),
// CPUID, RDMSR/WRMSR, hypercalls, MONITOR/MWAIT and the instructions KVM treats as NOPs.
//
// Functions named after an exit handler in kvm_vmx_exit_handlers[] are handler bodies: the dispatcher
// in vmx_exit.ts records their frame. The others record their own.
import * as abi from '../../../wasm/src/abi';
import { guestCpuidHasMwait, kvmCpuid } from './cpuid';
import { intelPmuGetMsr, intelPmuSetMsr, kvmPmuRdpmc } from './pmu';
import { KVM_FEATURE_PV_EOI, MSR_KVM_PV_EOI_EN, guestPvHas, kvmLapicSetPvEoi } from './pv_eoi';
import { kvmSetXcr } from './regs';
import { hex } from './fmt';
import { Memo, type FrameRecorder } from './frames';
import { traced, type CompleteUserspaceIo, type KvmVcpu } from './kvm_host';
import {
  APIC_DM_REMRD, APIC_MODE_MASK, APIC_SHORT_MASK, APIC_DEST_LOGICAL, APIC_DM_FIXED, APIC_VECTOR_MASK, X2APIC_BROADCAST,
  apicAcceptIrq, kvmApicSendIpi, kvmGetLapicTscdeadlineMsr, kvmLapicRegRead, kvmLapicRegWrite, kvmSetApicBase,
  kvmSetLapicTscdeadlineMsr, kvmX2apicMsrRead, kvmX2apicMsrWrite, APIC_ICR, APIC_ICR2,
} from './lapic';
import { KvmIoapic, KvmPic } from './pic';
import {
  KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_IO, KVM_EXIT_IO_IN, KVM_EXIT_IO_OUT, KVM_EXIT_MMIO, KVM_ENOSYS,
  KVM_GUESTDBG_SINGLESTEP, KVM_HC, KVM_INTERNAL_ERROR_EMULATION, KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS,
  KVM_X86_QUIRK_OUT_7E_INC_RIP,
} from './uapi';
import { kvmGetLinearRip, kvmInjectGp, kvmQueueException, kvmSkipEmulatedInstruction, kvmVcpuDoSinglestep } from './x86';
import { kvmSchedYield } from './kvm_main';

const reg = (vcpu: KvmVcpu, i: number) => vcpu.core.u64(vcpu.vcpu_idx, abi.S_GPR + i * 8);
const setReg = (vcpu: KvmVcpu, i: number, v: bigint) => vcpu.core.setU64(vcpu.vcpu_idx, abi.S_GPR + i * 8, v);
/** The low 32 bits of a register (ECX, EAX, EDX for MSR and CPUID), without a BigInt. */
const reg32 = (vcpu: KvmVcpu, i: number) => vcpu.kvm.hw.r32(vcpu.vcpu_idx, abi.S_GPR + i * 8);
/** EDX:EAX as one 64-bit value. */
const edxEax = (vcpu: KvmVcpu) => {
  const hi = reg32(vcpu, RDX), lo = reg32(vcpu, RAX);
  return hi ? (BigInt(hi) << 32n) | BigInt(lo) : BigInt(lo);
};
/** Writes a 32-bit value zero-extended into a register, as MOV to a 32-bit register does. */
const setReg32 = (vcpu: KvmVcpu, i: number, v: number) => vcpu.kvm.hw.wnum(vcpu.vcpu_idx, abi.S_GPR + i * 8, v >>> 0);
const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSI = 6, RDI = 7;

// ---- small handlers ----

/** kvm_complete_insn_gp(): #GP on error (non-zero `err`), else skip the instruction. */
export function completeInsnGp(vcpu: KvmVcpu, err: number): number {
  const rec = vcpu.rec;
  if (rec) rec.enter('kvm_complete_insn_gp', vcpu.t, rec.keeping ? (err ? ERR_ARGS : OK_ARGS) : undefined);
  if (err) {
    kvmInjectGp(vcpu);
    if (rec) rec.leave(1, '#GP(0) queued for the guest');
    return 1;
  }
  const r = kvmSkipEmulatedInstruction(vcpu);
  if (rec) rec.leave(r);
  return r;
}
const OK_ARGS = Object.freeze({ err: 0 }), ERR_ARGS = Object.freeze({ err: 1 });

/** kvm_emulate_as_nop(): just skip the instruction. */
export function kvmEmulateAsNop(vcpu: KvmVcpu): number {
  return traced(vcpu, 'kvm_emulate_as_nop', kvmSkipEmulatedInstruction);
}

/** kvm_emulate_invd(): INVD is a NOP. */
export function kvmEmulateInvd(vcpu: KvmVcpu): number {
  return kvmEmulateAsNop(vcpu);
}

/** kvm_handle_invalid_op(): #UD into the guest. */
export function kvmHandleInvalidOp(vcpu: KvmVcpu): number {
  kvmQueueException(vcpu, abi.UD_VECTOR);
  const rec = vcpu.rec;
  if (rec) rec.leaf('kvm_handle_invalid_op', vcpu.t, 1, '#UD queued for the guest');
  return 1;
}

/**
 * handle_emulation_failure(): at CPL 0, #UD is queued and KVM exits to userspace with
 * KVM_EXIT_INTERNAL_ERROR / KVM_INTERNAL_ERROR_EMULATION.
 */
export function handleEmulationFailure(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  vcpu.stat.insn_emulation_fail++;
  kvmQueueException(vcpu, abi.UD_VECTOR);
  vcpu.run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
  vcpu.run.setInternal(KVM_INTERNAL_ERROR_EMULATION, [BigInt(vcpu.arch.last_vmentry_cpu)]);
  if (rec) rec.leaf('handle_emulation_failure', vcpu.t, 0, 'the emulator cannot do this instruction: KVM_EXIT_INTERNAL_ERROR');
  return 0;
}

/** kvm_emulate_cpuid(): look the leaf up in the guest's CPUID and skip. */
export function kvmEmulateCpuid(vcpu: KvmVcpu): number {
  vcpu.clock += vcpu.kvm.cost.cpuid;
  const fn = reg32(vcpu, RAX);
  const [a, b, c, d] = kvmCpuid(vcpu, fn);
  setReg32(vcpu, RAX, a);
  setReg32(vcpu, RBX, b);
  setReg32(vcpu, RCX, c);
  setReg32(vcpu, RDX, d);
  const rec = vcpu.rec;
  if (rec) rec.note(`leaf ${hex(fn)}: eax=${hex(a)} ebx=${hex(b)} ecx=${hex(c)} edx=${hex(d)}`);
  return kvmSkipEmulatedInstruction(vcpu);
}

/** kvm_emulate_wbinvd(): kvm_emulate_wbinvd_noskip (nothing to flush) and skip. */
export function kvmEmulateWbinvd(vcpu: KvmVcpu): number {
  return kvmSkipEmulatedInstruction(vcpu);
}

/**
 * kvm_emulate_xsetbv(): #GP at CPL > 0 or when __kvm_set_xcr refuses the value, else skip. (It injects
 * the #GP itself rather than through kvm_complete_insn_gp, but ends the same way.)
 */
export function kvmEmulateXsetbv(vcpu: KvmVcpu): number {
  if (vcpu.kvm.hw.r32(vcpu.vcpu_idx, abi.S_CS) & 3 || kvmSetXcr(vcpu, reg32(vcpu, RCX), edxEax(vcpu))) {
    kvmInjectGp(vcpu);
    const rec = vcpu.rec;
    if (rec) rec.note('#GP(0) queued for the guest');
    return 1;
  }
  return kvmSkipEmulatedInstruction(vcpu);
}

/** kvm_emulate_rdpmc(): EDX:EAX = the counter ECX names (kvm_pmu_rdpmc), then skip; #GP for a counter the PMU lacks. */
export function kvmEmulateRdpmc(vcpu: KvmVcpu): number {
  const idx = reg32(vcpu, RCX);
  const data = kvmPmuRdpmc(vcpu, idx);
  const rec = vcpu.rec;
  if (data === null) {
    kvmInjectGp(vcpu);
    if (rec) rec.note(`kvm_pmu_rdpmc: no counter ${hex(idx)}, #GP(0)`);
    return 1;
  }
  setReg32(vcpu, RAX, Number(data & 0xffffffffn));
  setReg32(vcpu, RDX, Number(data >> 32n));
  if (rec) rec.note(`counter ${hex(idx)} = ${hex(data)}`);
  return kvmSkipEmulatedInstruction(vcpu);
}

/**
 * kvm_emulate_mwait / kvm_emulate_monitor. 5.19: "emulated as NOP" (skip). From v6.0
 * (kvm_emulate_monitor_mwait), with KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS disabled by userspace and no
 * MWAIT in the guest's CPUID, #UD instead — the rule the kernel's monitor_mwait_test selftest states
 * ("If both MWAIT and its quirk are disabled, MONITOR/MWAIT should #UD").
 */
function kvmEmulateMonitorMwait(vcpu: KvmVcpu, insn: string): number {
  const kvm = vcpu.kvm;
  const rec = vcpu.rec;
  if (kvm.variant.mwaitUdQuirk && kvm.arch.disabled_quirks & KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS && !guestCpuidHasMwait(vcpu)) {
    if (rec) rec.note('MWAIT_NEVER_UD_FAULTS quirk disabled and no MWAIT in guest CPUID: #UD');
    return kvmHandleInvalidOp(vcpu);
  }
  if (rec) rec.note(`kvm: ${insn} instruction emulated as NOP!`);
  return kvmEmulateAsNop(vcpu);
}
export function kvmEmulateMwait(vcpu: KvmVcpu): number { return kvmEmulateMonitorMwait(vcpu, 'MWAIT'); }
export function kvmEmulateMonitor(vcpu: KvmVcpu): number { return kvmEmulateMonitorMwait(vcpu, 'MONITOR'); }

// ---- MSRs ----

const MSR_IA32_UCODE_REV = 0x8b;
export const MSR_KVM_POLL_CONTROL = 0x4b564d05;
const EFER_SCE = 1n, EFER_LME = 1n << 8n, EFER_LMA = 1n << 10n, EFER_NX = 1n << 11n;

/** kvm_get_msr() for the MSRs the model implements; null = KVM_MSR_RET_INVALID (→ #GP, ignore_msrs=0). */
export function kvmGetMsr(vcpu: KvmVcpu, msr: number): bigint | null {
  const core = vcpu.core, id = vcpu.vcpu_idx;
  if (msr >= abi.MSR_X2APIC_BASE && msr <= abi.MSR_X2APIC_BASE + 0xff) return kvmX2apicMsrRead(vcpu, msr);
  const pmu = intelPmuGetMsr(vcpu, msr);
  if (pmu !== undefined) return pmu;
  switch (msr) {
    case abi.MSR_IA32_APICBASE: return vcpu.apic ? vcpu.apic.apic_base : vcpu.arch.apic_base;
    case abi.MSR_IA32_TSC_DEADLINE: return kvmGetLapicTscdeadlineMsr(vcpu);
    case abi.MSR_IA32_TSC: return BigInt(vcpu.clock) + core.u64(id, abi.S_TSC_OFFSET);
    case abi.MSR_IA32_MISC_ENABLE: return core.u64(id, abi.S_MSR_MISC_ENABLE);
    case abi.MSR_EFER: return core.u64(id, abi.S_MSR_EFER);
    case abi.MSR_TSC_AUX: return core.u64(id, abi.S_MSR_TSC_AUX);
    case MSR_IA32_UCODE_REV: return 0x100000000n;
    case MSR_KVM_POLL_CONTROL: return vcpu.arch.msr_kvm_poll_control;
    case MSR_KVM_PV_EOI_EN: return guestPvHas(vcpu, KVM_FEATURE_PV_EOI) ? vcpu.arch.pv_eoi.msr_val : null;
  }
  return null;
}

/** kvm_set_msr(): 0 on success, 1 for a write KVM refuses (→ #GP). */
export function kvmSetMsr(vcpu: KvmVcpu, msr: number, data: bigint): number {
  const core = vcpu.core, id = vcpu.vcpu_idx;
  if (msr >= abi.MSR_X2APIC_BASE && msr <= abi.MSR_X2APIC_BASE + 0xff) return kvmX2apicMsrWrite(vcpu, msr, Number(data & 0xffffffffn), Number(data >> 32n));
  const pmu = intelPmuSetMsr(vcpu, msr, data);
  if (pmu !== undefined) return pmu;
  switch (msr) {
    case abi.MSR_IA32_APICBASE:
      if (vcpu.apic) return kvmSetApicBase(vcpu, data);
      vcpu.arch.apic_base = data;
      return 0;
    case abi.MSR_IA32_TSC_DEADLINE:
      kvmSetLapicTscdeadlineMsr(vcpu, data);
      return 0;
    case abi.MSR_IA32_TSC:
      core.setU64(id, abi.S_TSC_OFFSET, data - BigInt(vcpu.clock));
      return 0;
    case abi.MSR_IA32_MISC_ENABLE:
      core.setU64(id, abi.S_MSR_MISC_ENABLE, data);
      return 0;
    case abi.MSR_EFER: {
      const old = core.u64(id, abi.S_MSR_EFER);
      if (data & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX) || (data ^ old) & (EFER_LME | EFER_LMA)) return 1;
      core.setU64(id, abi.S_MSR_EFER, data);
      return 0;
    }
    case abi.MSR_TSC_AUX:
      if (data >> 32n) return 1;
      core.setU64(id, abi.S_MSR_TSC_AUX, data);
      return 0;
    case MSR_IA32_UCODE_REV:
      return 0; // guest writes are ignored
    case MSR_KVM_POLL_CONTROL:
      if (data & ~1n) return 1;
      vcpu.arch.msr_kvm_poll_control = data;
      return 0;
    case MSR_KVM_PV_EOI_EN:
      if (!guestPvHas(vcpu, KVM_FEATURE_PV_EOI)) return 1;
      return kvmLapicSetPvEoi(vcpu, data, 1) ? 1 : 0; // one byte: the flag
  }
  return 1;
}

/** kvm_emulate_rdmsr(): EDX:EAX = the MSR, then kvm_complete_insn_gp (#GP for an unknown MSR). */
export function kvmEmulateRdmsr(vcpu: KvmVcpu): number {
  const msr = reg32(vcpu, RCX);
  const data = kvmGetMsr(vcpu, msr);
  const rec = vcpu.rec;
  if (rec?.recording) rec.note(data === null ? `MSR ${hex(msr)}: not handled by KVM` : `MSR ${hex(msr)} = ${hex(data)}`);
  if (data !== null) {
    setReg32(vcpu, RAX, Number(data & 0xffffffffn));
    setReg32(vcpu, RDX, Number((data >> 32n) & 0xffffffffn));
  }
  return completeInsnGp(vcpu, data === null ? 1 : 0);
}

const wrmsrNote = (msr: number, data: bigint) => `MSR ${hex(msr)} ← ${hex(data)}`;
/** The guest's x2APIC writes (EOIs above all) repeat: their notes are made once (keyed value × 256 + register: an EOI's key is small). */
function noteWrmsr(vcpu: KvmVcpu, rec: FrameRecorder, msr: number, x2apic: boolean): void {
  const hi = reg32(vcpu, RDX);
  rec.note(x2apic && hi === 0 ? X2APIC_WRITE_NOTE.get(reg32(vcpu, RAX) * 0x100 + msr - abi.MSR_X2APIC_BASE) : wrmsrNote(msr, edxEax(vcpu)));
}
const X2APIC_WRITE_NOTE = new Memo((k) => wrmsrNote(abi.MSR_X2APIC_BASE + k % 0x100, BigInt(Math.floor(k / 0x100))));

/** kvm_emulate_wrmsr(): the MSR = EDX:EAX, then kvm_complete_insn_gp. */
export function kvmEmulateWrmsr(vcpu: KvmVcpu): number {
  vcpu.clock += vcpu.kvm.cost.msrWrite;
  const msr = reg32(vcpu, RCX);
  // The x2APIC registers take EDX:EAX as two words: no 64-bit value to build on this hot path.
  const x2apic = msr >= abi.MSR_X2APIC_BASE && msr <= abi.MSR_X2APIC_BASE + 0xff;
  if (vcpu.rec?.recording) noteWrmsr(vcpu, vcpu.rec, msr, x2apic);
  const err = x2apic
    ? kvmX2apicMsrWrite(vcpu, msr, reg32(vcpu, RAX), reg32(vcpu, RDX))
    : kvmSetMsr(vcpu, msr, edxEax(vcpu));
  return completeInsnGp(vcpu, err);
}

/**
 * handle_fastpath_set_x2apic_icr_irqoff(): a fixed, physical-destination, no-shorthand, non-broadcast
 * ICR write in x2APIC mode is sent right away. True when it was.
 */
export function kvmX2apicIcrFastpath(vcpu: KvmVcpu): boolean {
  const apic = vcpu.apic;
  if (!apic || !apic.x2apicMode) return false;
  const low = reg32(vcpu, RAX), high = reg32(vcpu, RDX);
  if ((low & APIC_SHORT_MASK) !== 0 || low & APIC_DEST_LOGICAL || (low & APIC_MODE_MASK) !== APIC_DM_FIXED || high === X2APIC_BROADCAST) return false;
  kvmApicSendIpi(vcpu, low, high);
  apic.set(APIC_ICR, low);
  apic.set(APIC_ICR2, high);
  return true;
}

// ---- hypercalls ----

/**
 * kvm_emulate_hypercall(): the number in RAX, arguments in RBX, RCX, RDX, RSI; the result goes to RAX
 * and the VMCALL is skipped. Unknown numbers return -KVM_ENOSYS.
 */
export function kvmEmulateHypercall(vcpu: KvmVcpu): number {
  const nr = reg32(vcpu, RAX);
  const a0 = reg(vcpu, RBX), a1 = reg(vcpu, RCX), a2 = reg(vcpu, RDX), a3 = reg(vcpu, RSI);
  let ret = BigInt(-KVM_ENOSYS);
  const rec = vcpu.rec;
  // The guest runs at CPL 0 in the model, so the -KVM_EPERM check for CPL > 0 never fires.
  switch (nr) {
    case KVM_HC.value('VAPIC_POLL_IRQ'):
      ret = 0n;
      break;
    case KVM_HC.value('KICK_CPU'):
      kvmPvKickCpuOp(vcpu, Number(a1 & 0xffffffffn));
      kvmSchedYield(vcpu, Number(a1 & 0xffffffffn));
      ret = 0n;
      break;
    case KVM_HC.value('SEND_IPI'):
      ret = BigInt(kvmPvSendIpi(vcpu, a0, a1, Number(a2 & 0xffffffffn), Number(a3 & 0xffffffffn)));
      break;
    case KVM_HC.value('SCHED_YIELD'):
      kvmSchedYield(vcpu, Number(a0 & 0xffffffffn));
      ret = 0n;
      break;
  }
  setReg(vcpu, RAX, BigInt.asUintN(64, ret));
  vcpu.stat.hypercalls++;
  if (rec) rec.note(`${KVM_HC.name(nr) ?? `hypercall ${nr}`} → RAX = ${ret}`);
  return kvmSkipEmulatedInstruction(vcpu);
}

/** kvm_pv_kick_cpu_op(): an APIC_DM_REMRD "interrupt" that sets pv_unhalted on the target. */
function kvmPvKickCpuOp(vcpu: KvmVcpu, apicid: number): void {
  for (const target of vcpu.kvm.vcpus) if (target.apic && target.apic.apicId === apicid) apicAcceptIrq(target, APIC_DM_REMRD, 0, vcpu.clock);
}

/** kvm_pv_send_ipi(): a fixed IPI to every APIC ID min + bit set in the 128-bit bitmap; returns how many. */
function kvmPvSendIpi(vcpu: KvmVcpu, low: bigint, high: bigint, min: number, icr: number): number {
  let count = 0;
  for (const target of vcpu.kvm.vcpus) {
    if (!target.apic) continue;
    const i = target.apic.apicId - min;
    const set = i >= 0 && i < 64 ? (low >> BigInt(i)) & 1n : i >= 64 && i < 128 ? (high >> BigInt(i - 64)) & 1n : 0n;
    if (set && apicAcceptIrq(target, icr & APIC_MODE_MASK, icr & APIC_VECTOR_MASK, vcpu.clock)) count++;
  }
  return count;
}

// ---- port IO ----

/** kvm_io_bus_read/write on KVM_PIO_BUS: the in-kernel PIC. Null when no device claims the port. */
function kvmIoBus(vcpu: KvmVcpu, port: number, size: number, write: boolean, val: number): number | null {
  const pic = vcpu.kvm.pic;
  if (!pic || !KvmPic.handles(port)) return null;
  vcpu.clock += vcpu.kvm.cost.pioKernel;
  if (write) {
    pic.write(port, size, val);
    return 0;
  }
  return pic.read(port, size);
}

/**
 * emulator_pio_in_out(): every element through the in-kernel bus (1), or — when the first finds no
 * device — the run structure is filled for userspace: KVM_EXIT_IO with the data in the PIO page (0).
 * IN data is zeroed before userspace sees the page. `data` holds the OUT elements, or receives IN ones.
 */
function emulatorPioInOut(vcpu: KvmVcpu, size: number, port: number, data: number[], count: number, input: boolean): number {
  for (let i = 0; i < count; i++) {
    const r = kvmIoBus(vcpu, port, size, !input, input ? 0 : data[i]);
    if (r === null) {
      if (i > 0) break;
      const arch = vcpu.arch;
      arch.pio.port = port;
      arch.pio.in = input;
      arch.pio.count = count;
      arch.pio.size = size;
      const page = vcpu.run.pioData(size * count);
      page.fill(0);
      if (!input) for (let k = 0; k < count; k++) writeLe(page, k * size, size, data[k]);
      vcpu.run.exit_reason = KVM_EXIT_IO;
      vcpu.run.setIo(input ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT, size, port, count);
      return 0;
    }
    if (input) data[i] = r;
  }
  return 1;
}

function writeLe(b: Uint8Array, at: number, size: number, v: number): void {
  for (let i = 0; i < size; i++) b[at + i] = (v >>> (8 * i)) & 0xff;
}
function readLe(b: Uint8Array, at: number, size: number): number {
  let v = 0;
  for (let i = 0; i < size; i++) v |= b[at + i] << (8 * i);
  return v >>> 0;
}

/** Merges an IN result into RAX: sizes below 4 keep the upper bits, 4 zero-extends. */
function pioRax(vcpu: KvmVcpu, size: number, val: number): bigint {
  if (size >= 4) return BigInt(val >>> 0);
  const mask = (1n << BigInt(size * 8)) - 1n;
  return (reg(vcpu, RAX) & ~mask) | (BigInt(val) & mask);
}

/**
 * kvm_fast_pio(): `ret && kvm_skip_emulated_instruction()` — the skip only runs when the access was
 * handled in the kernel; for userspace the completion callback skips on the next KVM_RUN.
 */
export function kvmFastPio(vcpu: KvmVcpu, size: number, port: number, input: boolean): number {
  const rec = vcpu.rec;
  if (rec) rec.enter('kvm_fast_pio', vcpu.t, rec.keeping ? { size, port: hex(port), in: input } : undefined);
  const ret = input ? kvmFastPioIn(vcpu, size, port) : kvmFastPioOut(vcpu, size, port);
  const r = ret && kvmSkipEmulatedInstruction(vcpu);
  if (rec) rec.leave(r, !rec.recording ? undefined : ret ? 'handled by an in-kernel device' : `to userspace: KVM_EXIT_IO, completion ${vcpu.arch.complete_userspace_io}`);
  return r;
}

/** The one element of a fast (non-string) port access. */
const pioScratch = [0];

/**
 * kvm_fast_pio_out(). With KVM_X86_QUIRK_OUT_7E_INC_RIP (on by default) an OUT to port 0x7e skips the
 * instruction before exiting, for old userspace; its completion only clears the count.
 */
function kvmFastPioOut(vcpu: KvmVcpu, size: number, port: number): number {
  pioScratch[0] = size === 4 ? reg32(vcpu, RAX) : reg32(vcpu, RAX) & ((1 << (size * 8)) - 1);
  const ret = emulatorPioInOut(vcpu, size, port, pioScratch, 1, false);
  if (ret) return ret;
  if (port === 0x7e && !(vcpu.kvm.arch.disabled_quirks & KVM_X86_QUIRK_OUT_7E_INC_RIP)) {
    vcpu.arch.complete_userspace_io = 'complete_fast_pio_out_port_0x7e';
    kvmSkipEmulatedInstruction(vcpu);
  } else {
    vcpu.arch.cui_linear_rip = kvmGetLinearRip(vcpu);
    vcpu.arch.complete_userspace_io = 'complete_fast_pio_out';
  }
  return 0;
}

/** kvm_fast_pio_in(). */
function kvmFastPioIn(vcpu: KvmVcpu, size: number, port: number): number {
  const ret = emulatorPioInOut(vcpu, size, port, pioScratch, 1, true);
  if (ret) {
    setReg(vcpu, RAX, pioRax(vcpu, size, pioScratch[0]));
    return ret;
  }
  vcpu.arch.cui_linear_rip = kvmGetLinearRip(vcpu);
  vcpu.arch.complete_userspace_io = 'complete_fast_pio_in';
  return 0;
}

/** complete_fast_pio_out(): skip the OUT — unless userspace moved RIP meanwhile. */
function completeFastPioOut(vcpu: KvmVcpu): number {
  vcpu.arch.pio.count = 0;
  if (kvmGetLinearRip(vcpu) !== vcpu.arch.cui_linear_rip) return 1;
  return kvmSkipEmulatedInstruction(vcpu);
}

/** complete_fast_pio_in(): RAX from the PIO page (what userspace wrote there), then skip. */
function completeFastPioIn(vcpu: KvmVcpu): number {
  const pio = vcpu.arch.pio;
  if (kvmGetLinearRip(vcpu) !== vcpu.arch.cui_linear_rip) {
    pio.count = 0;
    return 1;
  }
  const val = readLe(vcpu.run.pioData(pio.size), 0, pio.size);
  const rax = pioRax(vcpu, pio.size, val);
  setReg(vcpu, RAX, rax);
  const rec = vcpu.rec;
  if (rec) rec.note(`${hex(val)} from the PIO page (run->io.data_offset): RAX = ${hex(rax)}`);
  pio.count = 0;
  return kvmSkipEmulatedInstruction(vcpu);
}

// ---- the instruction emulator: string IO and MMIO ----

/**
 * kvm_emulate_instruction() → x86_emulate_instruction(): INS/OUTS are emulated here element by element
 * as KVM's emulator does; anything else is replayed by the core on MMIO fragments. Completion of an
 * emulated instruction single-steps through kvm_vcpu_do_singlestep directly — not through
 * kvm_skip_emulated_instruction — so RFC v4 6/7's EXIT_USERSPACE does not apply (Sean's objection).
 */
export function kvmEmulateInstruction(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  if (rec) rec.enter('x86_emulate_instruction', vcpu.t, { rip: hex(kvmGetLinearRip(vcpu)) });
  vcpu.stat.insn_emulation++;
  let r: number;
  const basic = vcpu.vmx.exit_reason & 0xffff;
  if (basic === abi.EXIT_REASON_IO_INSTRUCTION) r = emulateStringIo(vcpu);
  else {
    vcpu.core.setU32(vcpu.vcpu_idx, abi.S_MMIO_COUNT, 0);
    vcpu.mmio_fragments = [];
    r = emulateWithFragments(vcpu);
  }
  if (rec) rec.leave(r);
  return r;
}

/** The instruction completed: single-step if the guest or KVM asked for it. */
function emulationDone(vcpu: KvmVcpu, tf: boolean): number {
  if (tf || vcpu.guest_debug & KVM_GUESTDBG_SINGLESTEP) return kvmVcpuDoSinglestep(vcpu);
  return 1;
}

/** An MMIO access a kernel device takes (the LAPIC page, the IOAPIC window); null for userspace. */
function mmioDevice(vcpu: KvmVcpu, gpa: number, size: number, write: boolean, data: bigint): bigint | null {
  const apic = vcpu.apic;
  if (apic && apic.hwEnabled && gpa >= abi.APIC_BASE_GPA && gpa < abi.APIC_BASE_GPA + 0x1000) {
    const offset = gpa - abi.APIC_BASE_GPA;
    if (apic.x2apicMode) return write ? 0n : (1n << BigInt(size * 8)) - 1n; // KVM_X86_QUIRK_LAPIC_MMIO_HOLE
    if (write) {
      // apic_mmio_write(): only aligned 32-bit writes reach a register.
      if (size === 4 && !(offset & 0xf)) kvmLapicRegWrite(apic, offset & 0xff0, Number(data & 0xffffffffn));
      return 0n;
    }
    const v = kvmLapicRegRead(apic, offset & 0xff0) ?? 0;
    const shifted = BigInt(v >>> 0) >> BigInt((offset & 0xf) * 8);
    return shifted & ((1n << BigInt(size * 8)) - 1n);
  }
  const ioapic = vcpu.kvm.ioapic;
  if (ioapic && KvmIoapic.handles(gpa)) {
    if (write) ioapic.write(gpa, Number(data & 0xffffffffn));
    else return BigInt(ioapic.read(gpa) >>> 0);
    return 0n;
  }
  return null;
}

function pushFragment(vcpu: KvmVcpu, gpa: number, size: number, write: boolean, data: bigint): void {
  const core = vcpu.core, id = vcpu.vcpu_idx;
  const n = core.u32(id, abi.S_MMIO_COUNT);
  if (n >= abi.MMIO_MAX_FRAGS) throw new Error('more MMIO fragments than the core holds');
  const at = abi.S_MMIO_FRAGS + n * abi.MMIO_FRAG_SIZE;
  core.setU64(id, at + abi.F_GPA, BigInt(gpa));
  core.setU32(id, at + abi.F_SIZE, size);
  core.setU32(id, at + abi.F_WRITE, write ? 1 : 0);
  core.setU64(id, at + abi.F_DATA, data);
  core.setU32(id, abi.S_MMIO_COUNT, n + 1);
  vcpu.mmio_fragments.push({ gpa, len: size, data });
}

/**
 * Replays the instruction at RIP on the core until it completes, serving each access outside RAM from
 * a kernel device or — for the first one no device takes — filling run->mmio and exiting with
 * KVM_EXIT_MMIO. A write completes the instruction before the exit (the emulator's writeback); a read
 * is finished by complete_emulated_mmio on the next KVM_RUN.
 */
function emulateWithFragments(vcpu: KvmVcpu): number {
  const core = vcpu.core, id = vcpu.vcpu_idx;
  const rec = vcpu.rec;
  const tf = (Number(core.u64(id, abi.S_RFLAGS) & 0xffffffffn) & abi.X86_EFLAGS_TF) !== 0;
  for (;;) {
    const rc = core.emulate(id);
    if (rc === abi.EMUL_DONE) return emulationDone(vcpu, tf);
    if (rc === abi.EMUL_EXCEPTION) {
      const info = core.u32(id, abi.S_EXIT_INTR_INFO);
      kvmQueueException(vcpu, info & 0xff, info & abi.INTR_INFO_DELIVER_CODE ? core.u32(id, abi.S_EXIT_INTR_ERR) : undefined);
      if (rec) rec.note(`the instruction raised exception ${info & 0xff}: queued for the guest`);
      return 1;
    }
    if (rc !== abi.EMUL_MMIO) return handleEmulationFailure(vcpu);
    const gpa = core.num(id, abi.S_EXIT_GPA);
    const size = core.u32(id, abi.S_ACCESS_SIZE);
    const write = core.u32(id, abi.S_ACCESS_WRITE) !== 0;
    const data = core.u64(id, abi.S_ACCESS_DATA);
    const dev = mmioDevice(vcpu, gpa, size, write, data);
    if (dev !== null) {
      pushFragment(vcpu, gpa, size, write, write ? data : dev);
      continue;
    }
    vcpu.mmio_needed = true;
    vcpu.mmio_is_write = write;
    vcpu.stat.mmio_exits++;
    vcpu.run.setMmio(gpa, Math.min(8, size), write, write ? data : 0n);
    vcpu.run.exit_reason = KVM_EXIT_MMIO;
    vcpu.arch.complete_userspace_io = 'complete_emulated_mmio';
    if (rec) rec.note(`MMIO ${write ? 'write' : 'read'} of ${size} bytes at ${hex(gpa)}: KVM_EXIT_MMIO`);
    if (write) {
      pushFragment(vcpu, gpa, size, true, data);
      if (core.emulate(id) === abi.EMUL_DONE) vcpu.mmio_needed = false;
    }
    return 0;
  }
}

/**
 * complete_emulated_mmio(): a read gets run->mmio.data and the instruction is replayed; a write that
 * already completed returns 1.
 */
function completeEmulatedMmio(vcpu: KvmVcpu): number {
  if (!vcpu.mmio_needed) return 1;
  const frag = { gpa: vcpu.core.num(vcpu.vcpu_idx, abi.S_EXIT_GPA), len: vcpu.core.u32(vcpu.vcpu_idx, abi.S_ACCESS_SIZE) };
  vcpu.mmio_needed = false;
  if (!vcpu.mmio_is_write) {
    const data = vcpu.run.mmioData(frag.len);
    pushFragment(vcpu, frag.gpa, frag.len, false, data);
    const rec = vcpu.rec;
    if (rec) rec.note(`run->mmio.data = ${hex(data)}: the read completes and the instruction is replayed`);
  }
  vcpu.stat.insn_emulation++;
  return emulateWithFragments(vcpu);
}

/**
 * INS/OUTS as the emulator does them. OUTS sends one element per exit to userspace (the REP form stays
 * on the instruction and re-executes); INS reads ahead as many elements as fit in the rest of the page
 * (at most 1024 bytes) in one exit, completed by complete_emulated_pio.
 */
function emulateStringIo(vcpu: KvmVcpu): number {
  const core = vcpu.core, id = vcpu.vcpu_idx;
  const q = vcpu.vmx.exit_qualification >>> 0;
  const size = (q & abi.IOQ_SIZE_MASK) + 1;
  const input = (q & abi.IOQ_IN) !== 0;
  const rep = (q & abi.IOQ_REP) !== 0;
  const port = q >>> abi.IOQ_PORT_SHIFT;
  const rflags = Number(core.u64(id, abi.S_RFLAGS) & 0xffffffffn);
  const step = BigInt((rflags & abi.X86_EFLAGS_DF ? -1 : 1) * size);
  const addrSize = (core.u32(id, abi.S_EXIT_INSN_INFO) >> 7) & 7;
  const mask = addrSize === 2 ? (1n << 64n) - 1n : addrSize === 1 ? 0xffffffffn : 0xffffn;
  const len = BigInt(core.u32(id, abi.S_EXIT_INSN_LEN));
  const tf = (rflags & abi.X86_EFLAGS_TF) !== 0;
  const advance = (r: number, by: bigint) => setReg(vcpu, r, (reg(vcpu, r) & ~mask) | ((reg(vcpu, r) + by) & mask));
  const finish = () => {
    core.setU64(id, abi.S_RIP, kvmGetLinearRip(vcpu) + len);
    return emulationDone(vcpu, tf);
  };
  for (;;) {
    const count = rep ? reg(vcpu, RCX) & mask : 1n;
    if (count === 0n) return finish();
    const addr = Number((input ? reg(vcpu, RDI) : reg(vcpu, RSI)) & mask);
    if (!core.inRam(addr, size)) return handleEmulationFailure(vcpu);
    if (input) {
      const n = rep ? Math.max(1, Math.min(Number(count), Math.floor((4096 - (addr & 0xfff)) / size), 1024 / size)) : 1;
      const data = new Array<number>(n).fill(0);
      if (!emulatorPioInOut(vcpu, size, port, data, n, true)) {
        vcpu.arch.complete_userspace_io = 'complete_emulated_pio';
        vcpu.arch.pio_string = { rep };
        return 0;
      }
      storeIns(vcpu, data, size, step, mask);
    } else {
      const val = readLe(core.ram(addr, size), 0, size);
      const handled = emulatorPioInOut(vcpu, size, port, [val], 1, false);
      advance(RSI, step);
      if (rep) advance(RCX, -1n);
      if (!handled) {
        // The OUT completes now; the REP form stays on the instruction and re-executes.
        vcpu.arch.pio.count = 0;
        if (!rep || (reg(vcpu, RCX) & mask) === 0n) core.setU64(id, abi.S_RIP, kvmGetLinearRip(vcpu) + len);
        return 0;
      }
    }
    if (!rep) return finish();
  }
}

/** Writes INS elements at RDI, moving RDI (and counting RCX down for REP). */
function storeIns(vcpu: KvmVcpu, data: number[], size: number, step: bigint, mask: bigint): void {
  const rep = (vcpu.vmx.exit_qualification & abi.IOQ_REP) !== 0;
  for (const v of data) {
    const rdi = reg(vcpu, RDI);
    writeLe(vcpu.core.ram(Number(rdi & mask), size), 0, size, v);
    vcpu.core.x.invalidateCode(Number(rdi & mask), size);
    setReg(vcpu, RDI, (rdi & ~mask) | ((rdi + step) & mask));
    if (rep) setReg(vcpu, RCX, (reg(vcpu, RCX) & ~mask) | ((reg(vcpu, RCX) - 1n) & mask));
  }
}

/** complete_emulated_pio(): the INS elements userspace supplied go to memory; a REP INS carries on. */
function completeEmulatedPio(vcpu: KvmVcpu): number {
  const pio = vcpu.arch.pio;
  const page = vcpu.run.pioData(pio.size * pio.count);
  const data = Array.from({ length: pio.count }, (_, i) => readLe(page, i * pio.size, pio.size));
  const core = vcpu.core, id = vcpu.vcpu_idx;
  const rflags = Number(core.u64(id, abi.S_RFLAGS) & 0xffffffffn);
  const step = BigInt((rflags & abi.X86_EFLAGS_DF ? -1 : 1) * pio.size);
  const addrSize = (core.u32(id, abi.S_EXIT_INSN_INFO) >> 7) & 7;
  const mask = addrSize === 2 ? (1n << 64n) - 1n : addrSize === 1 ? 0xffffffffn : 0xffffn;
  storeIns(vcpu, data, pio.size, step, mask);
  pio.count = 0;
  const rep = vcpu.arch.pio_string?.rep ?? false;
  vcpu.arch.pio_string = null;
  if (rep && (reg(vcpu, RCX) & mask) !== 0n) return emulateStringIo(vcpu);
  core.setU64(id, abi.S_RIP, kvmGetLinearRip(vcpu) + BigInt(core.u32(id, abi.S_EXIT_INSN_LEN)));
  return emulationDone(vcpu, (rflags & abi.X86_EFLAGS_TF) !== 0);
}

/** Runs the completion callback KVM left for the previous exit to userspace (kvm_arch_vcpu_ioctl_run). */
export function completeUserspaceIo(vcpu: KvmVcpu, cui: CompleteUserspaceIo): number {
  const rec = vcpu.rec;
  if (rec) rec.enter(cui, vcpu.t);
  let r: number;
  switch (cui) {
    case 'complete_fast_pio_out': r = completeFastPioOut(vcpu); break;
    case 'complete_fast_pio_out_port_0x7e': vcpu.arch.pio.count = 0; r = 1; break;
    case 'complete_fast_pio_in': r = completeFastPioIn(vcpu); break;
    case 'complete_emulated_pio': r = completeEmulatedPio(vcpu); break;
    case 'complete_emulated_mmio': r = completeEmulatedMmio(vcpu); break;
  }
  if (rec) rec.leave(r);
  return r;
}
