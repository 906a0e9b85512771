// The VMX side of the vCPU that is not exit handling (arch/x86/kvm/vmx/vmx.c): the VMCS controls KVM
// derives from the *_in_guest flags at vCPU creation (vmx_exec_control, vmx_secondary_exec_control,
// init_vmcs, the MSR bitmap of vmx_vcpu_create), RFC v4 5/7's vmx_update_disabled_exits, the
// exception bitmap, event injection into the VM-entry fields, and the PLE window.
//
// The modelled CPU: EPT, VPID, unrestricted guest, flexpriority (TPR shadow + virtualized APIC
// accesses), PLE, MSR bitmaps; no APICv (no posted interrupts), no VMX-preemption timer
// (kvm_intel.preemption_timer=0), so the LAPIC timer is a host hrtimer. The control words go into the
// core's state block (wasm/src/abi.ts): the core then exits, or not, by itself.
import * as abi from '../../../wasm/src/abi';
import { kvmAperfmperfInGuest, kvmCstateInGuest, kvmHltInGuest, kvmMwaitInGuest, kvmPauseInGuest } from './disable_exits';
import type { KvmVcpu } from './kvm_host';
import { lapicInKernel } from './kvm_host';
import { Memo, type FrameRecorder } from './frames';
import { KVM_GUESTDBG_ENABLE, KVM_GUESTDBG_USE_SW_BP } from './uapi';

const hex = (v: number) => '0x' + (v >>> 0).toString(16);

// Module parameters (arch/x86/kvm/x86.h defaults).
export const ple_gap = 128; // KVM_DEFAULT_PLE_GAP
export const ple_window = 4096; // KVM_VMX_DEFAULT_PLE_WINDOW
export const ple_window_grow = 2; // KVM_DEFAULT_PLE_WINDOW_GROW
export const ple_window_shrink = 0; // KVM_DEFAULT_PLE_WINDOW_SHRINK
export const ple_window_max = 0xffffffff; // KVM_VMX_DEFAULT_PLE_WINDOW_MAX (UINT_MAX)

/** vmcs_config.pin_based_exec_ctrl: external-interrupt and NMI exiting, virtual NMIs. */
const PIN_BASED = abi.PIN_EXT_INTR_EXITING | abi.PIN_NMI_EXITING | abi.PIN_VIRTUAL_NMIS;

/**
 * vmcs_config.cpu_based_exec_ctrl as setup_vmcs_config leaves it with EPT and a TPR shadow: the
 * required controls (HLT, IO, MOV-DR, TSC offsetting, MWAIT, MONITOR, RDPMC exiting) plus TPR shadow,
 * MSR bitmaps and secondary controls; CR3/CR8/INVLPG exiting dropped because EPT and the TPR shadow
 * make them unnecessary.
 */
const CPU_BASED = abi.CPU_BASED_HLT_EXITING | abi.CPU_BASED_UNCOND_IO_EXITING | abi.CPU_BASED_MOV_DR_EXITING
  | abi.CPU_BASED_USE_TSC_OFFSETTING | abi.CPU_BASED_MWAIT_EXITING | abi.CPU_BASED_MONITOR_EXITING
  | abi.CPU_BASED_RDPMC_EXITING | abi.CPU_BASED_TPR_SHADOW | abi.CPU_BASED_USE_MSR_BITMAPS
  | abi.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;

/** vmcs_config.cpu_based_2nd_exec_ctrl of the modelled CPU. */
const CPU_BASED_2ND = abi.SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES | abi.SECONDARY_EXEC_ENABLE_EPT
  | abi.SECONDARY_EXEC_ENABLE_VPID | abi.SECONDARY_EXEC_UNRESTRICTED_GUEST | abi.SECONDARY_EXEC_PAUSE_LOOP_EXITING
  | abi.SECONDARY_EXEC_ENABLE_RDTSCP | abi.SECONDARY_EXEC_ENABLE_INVPCID | abi.SECONDARY_EXEC_WBINVD_EXITING;

/** vmx_exec_control(): the primary controls for this vCPU (mwait/hlt_in_guest clear their exits). */
export function vmxExecControl(vcpu: KvmVcpu): number {
  let exec = CPU_BASED;
  // KVM never sets RDTSC, IO-bitmap, MTF or PAUSE exiting at creation; the window exits are dynamic.
  exec &= ~(abi.CPU_BASED_RDTSC_EXITING | abi.CPU_BASED_USE_IO_BITMAPS | abi.CPU_BASED_MONITOR_TRAP_FLAG | abi.CPU_BASED_PAUSE_EXITING);
  exec &= ~(abi.CPU_BASED_INTR_WINDOW_EXITING | abi.CPU_BASED_NMI_WINDOW_EXITING);
  if (!lapicInKernel(vcpu)) {
    // cpu_need_tpr_shadow() is false without an in-kernel LAPIC: CR8 accesses exit instead.
    exec &= ~abi.CPU_BASED_TPR_SHADOW;
    exec |= abi.CPU_BASED_CR8_STORE_EXITING | abi.CPU_BASED_CR8_LOAD_EXITING;
  }
  if (kvmMwaitInGuest(vcpu)) exec &= ~(abi.CPU_BASED_MWAIT_EXITING | abi.CPU_BASED_MONITOR_EXITING);
  if (kvmHltInGuest(vcpu)) exec &= ~abi.CPU_BASED_HLT_EXITING;
  const rec = vcpu.rec;
  if (rec) rec.leaf('vmx_exec_control', vcpu.t, hex(exec), `hlt_in_guest=${kvmHltInGuest(vcpu)}, mwait_in_guest=${kvmMwaitInGuest(vcpu)}`);
  return exec >>> 0;
}

/** vmx_secondary_exec_control(): PLE is dropped when pause_in_guest is set. */
export function vmxSecondaryExecControl(vcpu: KvmVcpu): number {
  let exec = CPU_BASED_2ND;
  // cpu_need_virtualize_apic_accesses(): flexpriority with an in-kernel LAPIC.
  if (!lapicInKernel(vcpu)) exec &= ~abi.SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES;
  if (kvmPauseInGuest(vcpu)) exec &= ~abi.SECONDARY_EXEC_PAUSE_LOOP_EXITING;
  const rec = vcpu.rec;
  if (rec) rec.leaf('vmx_secondary_exec_control', vcpu.t, hex(exec), `pause_in_guest=${kvmPauseInGuest(vcpu)}`);
  return exec >>> 0;
}

/** Writes a control word, remembering the previous value for the lab's "what changed" view. */
function writeControls(vcpu: KvmVcpu, primary: number, secondary: number): void {
  const hw = vcpu.kvm.hw, id = vcpu.vcpu_idx;
  const oldP = hw.r32(id, abi.S_PROC_CONTROLS), oldS = hw.r32(id, abi.S_PROC_CONTROLS2);
  if (oldP !== primary >>> 0 || oldS !== secondary >>> 0) vcpu.vmx.prev_controls = { primary: oldP, secondary: oldS, at: vcpu.t };
  hw.w32(id, abi.S_PROC_CONTROLS, primary >>> 0);
  hw.w32(id, abi.S_PROC_CONTROLS2, secondary >>> 0);
}

export function execControls(vcpu: KvmVcpu): number {
  return vcpu.kvm.hw.r32(vcpu.vcpu_idx, abi.S_PROC_CONTROLS);
}
export function secondaryExecControls(vcpu: KvmVcpu): number {
  return vcpu.kvm.hw.r32(vcpu.vcpu_idx, abi.S_PROC_CONTROLS2);
}
export function execControlsSetbit(vcpu: KvmVcpu, bits: number): void {
  writeControls(vcpu, execControls(vcpu) | bits, secondaryExecControls(vcpu));
}
export function execControlsClearbit(vcpu: KvmVcpu, bits: number): void {
  writeControls(vcpu, execControls(vcpu) & ~bits, secondaryExecControls(vcpu));
}

/**
 * vmx_vcpu_create(): intercept every MSR, then pass through the ones KVM always lets the guest touch
 * (TSC reads, FS/GS/KERNEL_GS base), the four C-state residency MSRs when cstate_in_guest is set (the
 * only effect of CSTATE on VMX), and APERF/MPERF reads with mainline's APERFMPERF; then init_vmcs().
 */
export function vmxVcpuCreate(vcpu: KvmVcpu): void {
  const rec = vcpu.rec;
  if (rec) rec.enter('vmx_vcpu_create', vcpu.t);
  const core = vcpu.core, id = vcpu.vcpu_idx;
  core.interceptAllMsrs(id);
  core.setMsrIntercept(id, abi.MSR_IA32_TSC, false, true);
  for (const msr of [abi.MSR_FS_BASE, abi.MSR_GS_BASE, abi.MSR_KERNEL_GS_BASE]) core.setMsrIntercept(id, msr, false, false);
  const cstate = kvmCstateInGuest(vcpu);
  setCstateIntercepts(vcpu, !cstate);
  if (kvmAperfmperfInGuest(vcpu.kvm)) {
    core.setMsrIntercept(id, abi.MSR_IA32_APERF, false, true);
    core.setMsrIntercept(id, abi.MSR_IA32_MPERF, false, true);
  }
  initVmcs(vcpu);
  if (rec) rec.leave(0, cstate ? 'cstate_in_guest: C-state residency MSR reads pass through' : 'every MSR intercepted except TSC reads and FS/GS bases');
}

const CSTATE_MSRS = [abi.MSR_CORE_C1_RES, abi.MSR_CORE_C3_RESIDENCY, abi.MSR_CORE_C6_RESIDENCY, abi.MSR_CORE_C7_RESIDENCY];
function setCstateIntercepts(vcpu: KvmVcpu, intercept: boolean): void {
  for (const msr of CSTATE_MSRS) vcpu.core.setMsrIntercept(vcpu.vcpu_idx, msr, intercept, true);
}

/** init_vmcs(): the control words, and PLE_GAP/the PLE window only while pause_in_guest is clear. */
export function initVmcs(vcpu: KvmVcpu): void {
  const rec = vcpu.rec;
  if (rec) rec.enter('init_vmcs', vcpu.t);
  const core = vcpu.core, id = vcpu.vcpu_idx;
  core.setU32(id, abi.S_PIN_CONTROLS, PIN_BASED);
  writeControls(vcpu, vmxExecControl(vcpu), vmxSecondaryExecControl(vcpu));
  vcpu.vmx.prev_controls = null; // creation is not a change
  if (!kvmPauseInGuest(vcpu)) {
    core.setU32(id, abi.S_PLE_GAP, ple_gap);
    vcpu.vmx.ple_window = ple_window;
    vcpu.vmx.ple_window_dirty = true;
  }
  core.setU64(id, abi.S_TSC_OFFSET, 0n);
  vmxUpdateExceptionBitmap(vcpu);
  if (rec) rec.leave(0, kvmPauseInGuest(vcpu) ? 'pause_in_guest: PLE_GAP and PLE_WINDOW left 0' : `PLE_GAP=${ple_gap}, ple_window=${ple_window}`);
}

/**
 * vmx_update_disabled_exits() of RFC v4 5/7 (same in v6 5/6): HLT, MWAIT and MONITOR exiting follow
 * the flags, the C-state MSR reads are passed through or intercepted again. PAUSE is only half
 * handled: SECONDARY_EXEC_PAUSE_LOOP_EXITING is never touched, and PLE_GAP/the window are rewritten
 * only when PAUSE exits are re-enabled [spec §2.b 5/7, derived from the patch].
 */
export function vmxUpdateDisabledExits(vcpu: KvmVcpu): void {
  const rec = vcpu.rec;
  if (rec) rec.enter('vmx_update_disabled_exits', vcpu.t);
  const before = execControls(vcpu);
  if (kvmHltInGuest(vcpu)) execControlsClearbit(vcpu, abi.CPU_BASED_HLT_EXITING);
  else execControlsSetbit(vcpu, abi.CPU_BASED_HLT_EXITING);
  if (kvmMwaitInGuest(vcpu)) execControlsClearbit(vcpu, abi.CPU_BASED_MWAIT_EXITING | abi.CPU_BASED_MONITOR_EXITING);
  else execControlsSetbit(vcpu, abi.CPU_BASED_MWAIT_EXITING | abi.CPU_BASED_MONITOR_EXITING);
  if (!kvmPauseInGuest(vcpu)) {
    vcpu.core.setU32(vcpu.vcpu_idx, abi.S_PLE_GAP, ple_gap);
    vcpu.vmx.ple_window = ple_window;
    vcpu.vmx.ple_window_dirty = true;
  }
  setCstateIntercepts(vcpu, !kvmCstateInGuest(vcpu));
  if (rec) {
    const after = execControls(vcpu);
    rec.leave('void', `primary ${hex(before)} → ${hex(after)}; SECONDARY_EXEC_PAUSE_LOOP_EXITING untouched`);
  }
}

/** vmx_update_exception_bitmap(): #UD, #MC, #DB and #AC always (#PF not with EPT); #BP with a SW-breakpoint debugger. */
export function vmxUpdateExceptionBitmap(vcpu: KvmVcpu): void {
  // Verified against a 5.x vmx.c (update_exception_bitmap): DB is intercepted unconditionally.
  let eb = (1 << abi.UD_VECTOR) | (1 << 18 /* MC */) | (1 << abi.DB_VECTOR) | (1 << 17 /* AC */);
  if ((vcpu.guest_debug & (KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP)) === (KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP)) eb |= 1 << abi.BP_VECTOR;
  vcpu.core.setU32(vcpu.vcpu_idx, abi.S_EXCEPTION_BITMAP, eb);
}

/** RFLAGS: the architectural flags are all in the low 32 bits. */
export function vmxGetRflags(vcpu: KvmVcpu): number {
  return vcpu.kvm.hw.r32(vcpu.vcpu_idx, abi.S_RFLAGS);
}
export function vmxSetRflags(vcpu: KvmVcpu, rflags: number): void {
  vcpu.kvm.hw.wnum(vcpu.vcpu_idx, abi.S_RFLAGS, rflags >>> 0);
}
export function vmxGetInterruptShadow(vcpu: KvmVcpu): number {
  return vcpu.kvm.hw.r32(vcpu.vcpu_idx, abi.S_INTERRUPTIBILITY) & (abi.INTR_BLOCK_STI | abi.INTR_BLOCK_MOV_SS);
}

/** vmx_interrupt_blocked(): RFLAGS.IF clear, or an STI/MOV-SS shadow. */
export function vmxInterruptBlocked(vcpu: KvmVcpu): boolean {
  return (vmxGetRflags(vcpu) & abi.X86_EFLAGS_IF) === 0 || vmxGetInterruptShadow(vcpu) !== 0;
}
/** vmx_nmi_blocked(): an interrupt shadow or NMI blocking (interruptibility bit 3). */
export function vmxNmiBlocked(vcpu: KvmVcpu): boolean {
  return (vcpu.kvm.hw.r32(vcpu.vcpu_idx, abi.S_INTERRUPTIBILITY) & (abi.INTR_BLOCK_STI | abi.INTR_BLOCK_MOV_SS | GUEST_INTR_STATE_NMI)) !== 0;
}
export const GUEST_INTR_STATE_NMI = 1 << 3;

/**
 * vmx_skip_emulated_instruction() → skip_emulated_instruction(): RIP += the VM-exit instruction length,
 * and the STI/MOV-SS shadow is cleared. Returns 1.
 */
export function vmxSkipEmulatedInstruction(vcpu: KvmVcpu): number {
  const hw = vcpu.kvm.hw, id = vcpu.vcpu_idx;
  hw.add64(id, abi.S_RIP, hw.r32(id, abi.S_EXIT_INSN_LEN));
  const intr = hw.r32(id, abi.S_INTERRUPTIBILITY);
  if (intr & (abi.INTR_BLOCK_STI | abi.INTR_BLOCK_MOV_SS)) hw.w32(id, abi.S_INTERRUPTIBILITY, intr & ~(abi.INTR_BLOCK_STI | abi.INTR_BLOCK_MOV_SS));
  return 1;
}

/**
 * vmx_clear_hlt(): a vCPU that executed HLT natively (hlt_in_guest) is still in the HLT activity state
 * after unrelated exits; KVM moves it to ACTIVE only when it injects an event.
 */
export function vmxClearHlt(vcpu: KvmVcpu): void {
  const hw = vcpu.kvm.hw, id = vcpu.vcpu_idx;
  if (kvmHltInGuest(vcpu) && hw.r32(id, abi.S_ACTIVITY) === abi.ACTIVITY_HLT) {
    hw.w32(id, abi.S_ACTIVITY, abi.ACTIVITY_ACTIVE);
    const rec = vcpu.rec;
    if (rec) rec.leaf('vmx_clear_hlt', vcpu.t, 'void', 'guest activity state HLT → ACTIVE before injecting');
  }
}

/** vmx_inject_irq(): the VM-entry interruption-information field gets the vector (external interrupt). */
export function vmxInjectIrq(vcpu: KvmVcpu, reinjected: boolean): void {
  const irq = vcpu.arch.interrupt;
  vcpu.stat.irq_injections++;
  const type = irq.soft ? abi.INTR_TYPE_SOFT_INTR : abi.INTR_TYPE_EXT_INTR;
  const hw = vcpu.kvm.hw, id = vcpu.vcpu_idx;
  hw.w32(id, abi.S_ENTRY_INTR_INFO, (irq.nr | (type << abi.INTR_INFO_TYPE_SHIFT) | abi.INTR_INFO_VALID) >>> 0);
  if (irq.soft) hw.w32(id, abi.S_ENTRY_INSN_LEN, hw.r32(id, abi.S_EXIT_INSN_LEN));
  if (vcpu.rec) recordInjectIrq(vcpu, vcpu.rec, reinjected);
  vmxClearHlt(vcpu);
  const ev = vcpu.kvm.events;
  if (ev.enabled) ev.injVirq(vcpu.clock, vcpu.vcpu_id, irq.nr, irq.soft);
}
function recordInjectIrq(vcpu: KvmVcpu, rec: FrameRecorder, reinjected: boolean): void {
  const nr = vcpu.arch.interrupt.nr;
  rec.leaf('vmx_inject_irq', vcpu.t, 'void', rec.keeping ? INJECT_IRQ_NOTE.get(nr | (reinjected ? 0x100 : 0)) : undefined);
}
const INJECT_IRQ_NOTE = new Memo((k) => `vector ${k & 0xff}${k & 0x100 ? ' (re-injected)' : ''} into VM_ENTRY_INTR_INFO`);

/** vmx_inject_nmi(). */
export function vmxInjectNmi(vcpu: KvmVcpu): void {
  vcpu.stat.nmi_injections++;
  vcpu.core.setU32(vcpu.vcpu_idx, abi.S_ENTRY_INTR_INFO, (abi.NMI_VECTOR | (abi.INTR_TYPE_NMI << abi.INTR_INFO_TYPE_SHIFT) | abi.INTR_INFO_VALID) >>> 0);
  const rec = vcpu.rec;
  if (rec) rec.leaf('vmx_inject_nmi', vcpu.t, 'void');
  vmxClearHlt(vcpu);
}

/** vmx_inject_exception(): hardware exception (with error code), or #BP/#OF as a software exception. */
export function vmxInjectException(vcpu: KvmVcpu): void {
  const ex = vcpu.arch.exception;
  const core = vcpu.core, id = vcpu.vcpu_idx;
  let info = ex.nr | abi.INTR_INFO_VALID;
  if (ex.has_error_code) {
    info |= abi.INTR_INFO_DELIVER_CODE;
    core.setU32(id, abi.S_ENTRY_EXC_ERR, ex.error_code);
  }
  if (ex.nr === abi.BP_VECTOR || ex.nr === abi.OF_VECTOR) {
    info |= abi.INTR_TYPE_SOFT_EXCEPTION << abi.INTR_INFO_TYPE_SHIFT;
    core.setU32(id, abi.S_ENTRY_INSN_LEN, core.u32(id, abi.S_EXIT_INSN_LEN));
  } else info |= abi.INTR_TYPE_HARD_EXCEPTION << abi.INTR_INFO_TYPE_SHIFT;
  core.setU32(id, abi.S_ENTRY_INTR_INFO, info >>> 0);
  const rec = vcpu.rec;
  if (rec) rec.leaf('vmx_inject_exception', vcpu.t, 'void', `vector ${ex.nr}${ex.has_error_code ? ` error code ${ex.error_code}` : ''}`);
  vmxClearHlt(vcpu);
}

/** vmx_enable_irq_window() / its clearing in handle_interrupt_window. */
export function vmxEnableIrqWindow(vcpu: KvmVcpu): void {
  execControlsSetbit(vcpu, abi.CPU_BASED_INTR_WINDOW_EXITING);
}
export function vmxEnableNmiWindow(vcpu: KvmVcpu): void {
  execControlsSetbit(vcpu, abi.CPU_BASED_NMI_WINDOW_EXITING);
}

/** __grow_ple_window() as grow_ple_window uses it: ×2 from 4096, capped at UINT_MAX. */
export function growPleWindow(vcpu: KvmVcpu): void {
  const old = vcpu.vmx.ple_window;
  let val = old;
  if (ple_window_grow < 1) val = ple_window;
  else if (ple_window_grow < ple_window) val *= ple_window_grow;
  else val += ple_window_grow;
  vcpu.vmx.ple_window = Math.min(val, ple_window_max);
  if (vcpu.vmx.ple_window !== old) vcpu.vmx.ple_window_dirty = true;
  const rec = vcpu.rec;
  if (rec) rec.leaf('grow_ple_window', vcpu.t, 'void', `ple_window ${old} → ${vcpu.vmx.ple_window} (written at the next entry)`);
}

/** shrink_ple_window() (from vmx_sched_in): shrink factor 0 resets the window to its base. */
export function shrinkPleWindow(vcpu: KvmVcpu): void {
  const old = vcpu.vmx.ple_window;
  let val = old;
  if (ple_window_shrink < 1) val = ple_window;
  else if (ple_window_shrink < ple_window) val = Math.floor(val / ple_window_shrink);
  else val -= ple_window_shrink;
  vcpu.vmx.ple_window = Math.max(val, ple_window);
  if (vcpu.vmx.ple_window !== old) vcpu.vmx.ple_window_dirty = true;
}

/** vmx_sched_in(): after the vCPU thread was scheduled back in, shrink the PLE window unless pause_in_guest. */
export function vmxSchedIn(vcpu: KvmVcpu): void {
  if (!kvmPauseInGuest(vcpu)) shrinkPleWindow(vcpu);
}

/** At VM entry (vmx_vcpu_run): a dirty PLE window is written to the VMCS. */
export function vmxWritePleWindow(vcpu: KvmVcpu): void {
  if (!vcpu.vmx.ple_window_dirty) return;
  vcpu.vmx.ple_window_dirty = false;
  vcpu.kvm.hw.w32(vcpu.vcpu_idx, abi.S_PLE_WINDOW, vcpu.vmx.ple_window);
}
