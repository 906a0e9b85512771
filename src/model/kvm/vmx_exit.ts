// What vmx.c does around and after a VM exit: vmx_vcpu_run's entry and exit bookkeeping (the PLE
// window write, latching the exit information, __vmx_complete_interrupts, the fastpath),
// vmx_handle_exit / __vmx_handle_exit with RFC v4 6/7's store of hw.hardware_exit_reason, and the VMX
// exit handlers. Handlers shared with SVM live in emulate.ts (x86.c).
import * as abi from '../../../wasm/src/abi';
import { kvmPauseInGuest } from './disable_exits';
import {
  completeInsnGp, kvmEmulateAsNop, kvmEmulateCpuid, kvmEmulateHypercall, kvmEmulateInstruction,
  kvmEmulateMonitor, kvmEmulateMwait, kvmEmulateRdmsr, kvmEmulateRdpmc, kvmEmulateWbinvd, kvmEmulateWrmsr, kvmEmulateXsetbv,
  kvmFastPio, kvmX2apicIcrFastpath,
} from './emulate';
import { hex } from './fmt';
import { Memo } from './frames';
import { KVM_DEBUGREG_WONT_EXIT, KVM_REQ_EVENT, kvmMakeRequest, lapicInKernel } from './kvm_host';
import type { KvmVcpu } from './kvm_host';
import { kvmVcpuOnSpin } from './kvm_main';
import { APIC_EOI, kvmLapicSetEoi } from './lapic';
import {
  KVM_EXIT_DEBUG, KVM_EXIT_EXCEPTION, KVM_EXIT_FAIL_ENTRY, KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_SET_TPR, KVM_EXIT_SHUTDOWN, KVM_EXIT_UNKNOWN,
  KVM_GUESTDBG_SINGLESTEP, KVM_GUESTDBG_USE_HW_BP, KVM_INTERNAL_ERROR_DELIVERY_EV, KVM_INTERNAL_ERROR_SIMUL_EX,
  KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, VMX_EXIT_REASON,
} from './uapi';
import { DR6_BD, DR7_GD, kvmGetCr8, kvmGetDr, kvmRequireDr, kvmSetCr0, kvmSetCr3, kvmSetCr4, kvmSetCr8, kvmSetDr } from './regs';
import { execControlsClearbit, execControlsSetbit, growPleWindow, vmxWritePleWindow } from './vmx';
import { kvmEmulateHalt, kvmEmulateHaltBody, kvmGetLinearRip, kvmQueueException, kvmQueueInterrupt, kvmSkipEmulatedInstruction } from './x86';

// fastpath_t (arch/x86/include/asm/kvm_host.h).
export const EXIT_FASTPATH_NONE = 0, EXIT_FASTPATH_REENTER_GUEST = 1, EXIT_FASTPATH_EXIT_HANDLED = 2, EXIT_FASTPATH_EXIT_USERSPACE = 3;
const FASTPATH_NAMES = ['EXIT_FASTPATH_NONE', 'EXIT_FASTPATH_REENTER_GUEST', 'EXIT_FASTPATH_EXIT_HANDLED', 'EXIT_FASTPATH_EXIT_USERSPACE'];

/** vmx_vcpu_run() up to VM entry: a dirty PLE window goes into the VMCS, then the guest runs. */
export function vmxVcpuRunEnter(vcpu: KvmVcpu): void {
  const rec = vcpu.rec;
  if (rec) rec.enter('vmx_vcpu_run', vcpu.t, undefined, true);
  vmxWritePleWindow(vcpu);
  vcpu.arch.last_vmentry_cpu = vcpu.vcpu_idx;
  vcpu.kvm.host.guestEnter(vcpu);
  const changed = vcpu.kvm.host.setActivity(vcpu, 'guest');
  if (vcpu.kvm.events.enabled) traceKvmEntry(vcpu, changed);
}

/** The kvm_entry tracepoint (and the activity change to 'guest' with it). */
function traceKvmEntry(vcpu: KvmVcpu, changed: boolean): void {
  const hw = vcpu.kvm.hw, s = hw.u32, rip = hw.at(vcpu.vcpu_idx, abi.S_RIP);
  vcpu.kvm.events.kvmEntry(vcpu.clock, vcpu.vcpu_id, s[rip], s[rip + 1], changed);
}

/**
 * vmx_vcpu_run() after the VM exit: latch the exit information, trace kvm_exit at the moment of the
 * exit, then pay the exit-plus-entry round trip (it lies between kvm_exit and the next kvm_entry, as
 * perf kvm stat measures it: costs.ts), and __vmx_complete_interrupts() (an event whose delivery was
 * interrupted is queued again).
 */
export function vmxVcpuRunExit(vcpu: KvmVcpu): void {
  const hw = vcpu.kvm.hw, id = vcpu.vcpu_idx;
  const vmx = vcpu.vmx;
  vmx.exit_reason = hw.r32(id, abi.S_EXIT_REASON);
  vmx.exit_qualification = hw.rnum(id, abi.S_EXIT_QUAL);
  vmx.idt_vectoring_info = hw.r32(id, abi.S_IDT_VECTORING_INFO);
  hw.w32(id, abi.S_ENTRY_INTR_INFO, 0); // the valid bit is cleared on every VM exit
  const n = vcpu.exitCount++;
  const changed = vcpu.kvm.host.setActivity(vcpu, 'kvm');
  if (vcpu.kvm.events.enabled) traceKvmExit(vcpu, n, changed);
  vcpu.clock += vcpu.kvm.cost.exit;
  vmxCompleteInterrupts(vcpu);
}

/** The kvm_exit tracepoint (and the activity change to 'kvm' with it). */
function traceKvmExit(vcpu: KvmVcpu, n: number, changed: boolean): void {
  const hw = vcpu.kvm.hw, s = hw.u32, k = hw.at(vcpu.vcpu_idx, 0), vmx = vcpu.vmx;
  const rip = k + (abi.S_RIP >> 2);
  vcpu.kvm.events.kvmExit(vcpu.clock, vcpu.vcpu_id, n, vmx.exit_reason & 0xffff, s[rip], s[rip + 1],
    vmx.exit_qualification, s[k + (abi.S_EXIT_INTR_INFO >> 2)], s[k + (abi.S_EXIT_INTR_ERR >> 2)], changed);
}

/** __vmx_complete_interrupts(). */
function vmxCompleteInterrupts(vcpu: KvmVcpu): void {
  const arch = vcpu.arch;
  arch.nmi_injected = false;
  arch.exception.pending = false;
  arch.exception.injected = false;
  arch.interrupt.injected = false;
  const info = vcpu.vmx.idt_vectoring_info;
  if (info & abi.INTR_INFO_VALID) requeueInterruptedEvent(vcpu, info);
}

/** The rest of __vmx_complete_interrupts(), out of line (an exit rarely interrupts a delivery): queue the event again. */
function requeueInterruptedEvent(vcpu: KvmVcpu, info: number): void {
  const arch = vcpu.arch;
  kvmMakeRequest(KVM_REQ_EVENT, vcpu);
  const vector = info & abi.INTR_INFO_VECTOR_MASK;
  const type = (info >>> abi.INTR_INFO_TYPE_SHIFT) & 7;
  switch (type) {
    case abi.INTR_TYPE_NMI:
      arch.nmi_injected = true;
      break;
    case abi.INTR_TYPE_SOFT_EXCEPTION:
    case abi.INTR_TYPE_HARD_EXCEPTION: {
      const ex = arch.exception;
      ex.injected = true;
      ex.nr = vector;
      ex.has_error_code = (info & abi.INTR_INFO_DELIVER_CODE) !== 0;
      ex.error_code = ex.has_error_code ? vcpu.kvm.hw.r32(vcpu.vcpu_idx, abi.S_IDT_VECTORING_ERR) : 0;
      ex.has_payload = false;
      break;
    }
    case abi.INTR_TYPE_SOFT_INTR:
    case abi.INTR_TYPE_EXT_INTR:
      kvmQueueInterrupt(vcpu, vector, type === abi.INTR_TYPE_SOFT_INTR);
      break;
  }
}

/**
 * The end of vmx_vcpu_run(): vmx_exit_handlers_fastpath(). 5.19 handles x2APIC ICR writes here;
 * mainline also HLT (handle_fastpath_hlt, 1876dd69dfe8, v6.12). Returns the fastpath_t.
 */
export function vmxVcpuRunComplete(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  let fp = EXIT_FASTPATH_NONE;
  const basic = vcpu.vmx.exit_reason & 0xffff;
  if (!(vcpu.vmx.exit_reason & abi.VMX_EXIT_REASONS_FAILED_VMENTRY)) {
    if (basic === abi.EXIT_REASON_MSR_WRITE) fp = handleFastpathSetMsrIrqoff(vcpu);
    else if (basic === abi.EXIT_REASON_HLT && vcpu.kvm.variant.hltFastpath) fp = handleFastpathHlt(vcpu);
  }
  if (rec) {
    rec.mark('exit', vcpu.exitCount - 1);
    rec.leave(FASTPATH_NAMES[fp], rec.recording ? EXIT_NOTE.get(basic) : undefined);
  }
  return fp;
}
const EXIT_NOTE = new Memo((basic) => `VM exit: ${VMX_EXIT_REASON.name(basic) ?? `reason ${basic}`}`);

/**
 * handle_fastpath_set_msr_irqoff(): a fixed, physical, no-shorthand x2APIC ICR write is sent without
 * leaving the inner run loop. The skip's return value is ignored here in 5.19, so RFC v4 6/7's
 * EXIT_USERSPACE cannot take effect on this path (fixed only in v6.12, f7f39c50edb9).
 */
function handleFastpathSetMsrIrqoff(vcpu: KvmVcpu): number {
  const msr = vcpu.kvm.hw.r32(vcpu.vcpu_idx, abi.S_GPR + 8);
  if (msr !== abi.MSR_X2APIC_BASE + (0x300 >> 4)) return EXIT_FASTPATH_NONE;
  const rec = vcpu.rec;
  if (rec) {
    rec.enter('handle_fastpath_set_msr_irqoff', vcpu.t, { msr: hex(msr) }, true);
    rec.mark('handles_exit', vcpu.exitCount - 1);
  }
  if (!kvmX2apicIcrFastpath(vcpu)) {
    if (rec) rec.leave('EXIT_FASTPATH_NONE', 'not a fixed physical IPI in x2APIC mode: the slow path handles it');
    return EXIT_FASTPATH_NONE;
  }
  kvmSkipEmulatedInstruction(vcpu);
  if (rec) rec.leave('EXIT_FASTPATH_EXIT_HANDLED', 'IPI sent; the skip\'s return value is ignored');
  return EXIT_FASTPATH_EXIT_HANDLED;
}

/** handle_fastpath_hlt() (mainline v6.12): 0 from kvm_emulate_halt exits to userspace; a still-running vCPU re-enters. */
function handleFastpathHlt(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  if (rec) {
    rec.enter('handle_fastpath_hlt', vcpu.t, undefined, true);
    rec.mark('handles_exit', vcpu.exitCount - 1);
  }
  const ret = kvmEmulateHalt(vcpu);
  let fp: number;
  if (!ret) fp = EXIT_FASTPATH_EXIT_USERSPACE;
  else if (vcpu.arch.mp_state === 0) fp = EXIT_FASTPATH_REENTER_GUEST;
  else fp = EXIT_FASTPATH_EXIT_HANDLED;
  if (rec) rec.leave(FASTPATH_NAMES[fp]);
  return fp;
}

/** vmx_handle_exit(): __vmx_handle_exit; bus-lock detection is not modelled. */
export function vmxHandleExit(vcpu: KvmVcpu, fastpath: number): number {
  const rec = vcpu.rec;
  if (rec) rec.enter('vmx_handle_exit', vcpu.t);
  const r = vmxHandleExitInner(vcpu, fastpath);
  if (rec) rec.leave(r);
  return r;
}

const DELIVERY_EV_OK = new Set([
  abi.EXIT_REASON_EXCEPTION_NMI, abi.EXIT_REASON_EPT_VIOLATION, abi.EXIT_REASON_PML_FULL, abi.EXIT_REASON_APIC_ACCESS,
  abi.EXIT_REASON_TASK_SWITCH,
]);

/** __vmx_handle_exit(). */
function vmxHandleExitInner(vcpu: KvmVcpu, fastpath: number): number {
  const rec = vcpu.rec;
  const full = vcpu.vmx.exit_reason;
  const basic = full & 0xffff;
  if (rec) rec.enter('__vmx_handle_exit', vcpu.t, rec.keeping ? EXIT_ARGS.get(basic) : undefined, true);
  const run = vcpu.run;
  if (full & abi.VMX_EXIT_REASONS_FAILED_VMENTRY) {
    run.exit_reason = KVM_EXIT_FAIL_ENTRY;
    run.setFailEntry(BigInt(full >>> 0), vcpu.arch.last_vmentry_cpu);
    if (rec) {
      rec.mark('handles_exit', vcpu.exitCount - 1); // returned before dispatching
      rec.leave(0, 'VM-entry failed: KVM_EXIT_FAIL_ENTRY');
    }
    return 0;
  }
  const vect = vcpu.vmx.idt_vectoring_info;
  if (vect & abi.INTR_INFO_VALID && !DELIVERY_EV_OK.has(basic)) {
    run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
    run.setInternal(KVM_INTERNAL_ERROR_DELIVERY_EV, [BigInt(vect >>> 0), BigInt(full >>> 0), BigInt(vcpu.vmx.exit_qualification), BigInt(vcpu.arch.last_vmentry_cpu)]);
    if (rec) {
      rec.mark('handles_exit', vcpu.exitCount - 1); // returned before dispatching
      rec.leave(0, 'exit while delivering an event: KVM_INTERNAL_ERROR_DELIVERY_EV');
    }
    return 0;
  }
  if (fastpath !== EXIT_FASTPATH_NONE) {
    if (rec) rec.leave(1, 'already handled in the fastpath');
    return 1;
  }
  const handler = basic < EXIT_HANDLERS.length ? EXIT_HANDLERS[basic] : undefined;
  if (!handler) {
    run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
    run.setInternal(KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, [BigInt(full >>> 0), BigInt(vcpu.arch.last_vmentry_cpu)]);
    if (rec) {
      rec.mark('handles_exit', vcpu.exitCount - 1); // returned before dispatching
      rec.leave(0, `no handler for exit reason ${basic}: KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON`);
    }
    return 0;
  }
  // RFC v4 6/7: before dispatching (and only here), tell userspace which exit this was. Read in the
  // patch: the store follows the kvm_vmx_max_exit_handlers check, so the earlier returns never store.
  if (vcpu.kvm.variant.guestdbgExitUserspace) run.setHardwareExitReason(basic);
  if (rec) {
    rec.enter(handler.name, vcpu.t, undefined, true);
    rec.mark('handles_exit', vcpu.exitCount - 1);
  }
  const r = handler.fn(vcpu);
  if (rec) {
    rec.leave(r);
    rec.leave(r, vcpu.kvm.variant.guestdbgExitUserspace && rec.recording ? HW_EXIT_NOTE.get(basic) : undefined);
  }
  return r;
}
const EXIT_ARGS = new Memo((basic) => ({ exit_reason: VMX_EXIT_REASON.name(basic) ?? basic }));
const HW_EXIT_NOTE = new Memo((basic) => `hw.hardware_exit_reason = ${basic}`);

// ---- VMX exit handlers ----

/** handle_exception_nmi(): #UD through the emulator, #DB/#BP to userspace under guest debug, others reflected. */
function handleExceptionNmi(vcpu: KvmVcpu): number {
  const core = vcpu.core, id = vcpu.vcpu_idx;
  const rec = vcpu.rec;
  const intrInfo = core.u32(id, abi.S_EXIT_INTR_INFO);
  const type = (intrInfo >>> abi.INTR_INFO_TYPE_SHIFT) & 7;
  const ex = intrInfo & abi.INTR_INFO_VECTOR_MASK;
  if (type === abi.INTR_TYPE_NMI || ex === 18 /* #MC */) return 1; // handled in handle_exception_nmi_irqoff
  if (ex === abi.UD_VECTOR) return handleUd(vcpu);
  const errorCode = intrInfo & abi.INTR_INFO_DELIVER_CODE ? core.u32(id, abi.S_EXIT_INTR_ERR) : 0;
  const vect = vcpu.vmx.idt_vectoring_info;
  const run = vcpu.run;
  if (vect & abi.INTR_INFO_VALID) {
    run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
    run.setInternal(KVM_INTERNAL_ERROR_SIMUL_EX, [BigInt(vect >>> 0), BigInt(intrInfo >>> 0), BigInt(errorCode), BigInt(vcpu.arch.last_vmentry_cpu)]);
    if (rec) rec.note('exception while delivering another: KVM_INTERNAL_ERROR_SIMUL_EX');
    return 0;
  }
  switch (ex) {
    case abi.DB_VECTOR: {
      const dr6 = vcpu.vmx.exit_qualification >>> 0;
      if (!(vcpu.guest_debug & (KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_USE_HW_BP))) {
        kvmQueueException(vcpu, abi.DB_VECTOR, undefined, dr6);
        if (rec) rec.note('#DB not caused by the debugger: reflected into the guest');
        return 1;
      }
      run.setDebug(abi.DB_VECTOR, kvmGetLinearRip(vcpu), BigInt((dr6 | abi.DR6_ACTIVE_LOW) >>> 0), core.u64(id, abi.S_DR7));
      run.exit_reason = KVM_EXIT_DEBUG;
      if (rec) rec.note('#DB under KVM_GUESTDBG_SINGLESTEP/USE_HW_BP: KVM_EXIT_DEBUG');
      return 0;
    }
    case abi.BP_VECTOR:
      // debug.arch.dr6/dr7 are left as they were: only pc and exception are written for #BP.
      run.dv.setUint32(32, ex, true);
      run.setU64(40, kvmGetLinearRip(vcpu));
      run.filled = 'debug';
      run.exit_reason = KVM_EXIT_DEBUG;
      if (rec) rec.note('#BP under KVM_GUESTDBG_USE_SW_BP: KVM_EXIT_DEBUG');
      return 0;
    case 17 /* #AC */:
      kvmQueueException(vcpu, 17, errorCode);
      if (rec) rec.note('#AC reflected into the guest');
      return 1;
  }
  run.exit_reason = KVM_EXIT_EXCEPTION;
  run.dv.setUint32(32, ex, true);
  run.dv.setUint32(36, errorCode, true);
  run.filled = 'hw';
  if (rec) rec.note(`unexpected exception ${ex}: KVM_EXIT_EXCEPTION`);
  return 0;
}

/**
 * handle_ud(): KVM's emulator is asked to handle the opcode (EMULTYPE_TRAP_UD); it only takes a few
 * (vendor-swapped hypercalls and the like, not modelled), so the #UD is reflected into the guest.
 */
function handleUd(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  if (rec) rec.enter('handle_ud', vcpu.t);
  kvmQueueException(vcpu, abi.UD_VECTOR);
  if (rec) rec.leave(1, 'not an instruction KVM emulates on #UD: #UD queued for the guest');
  return 1;
}

/**
 * handle_external_interrupt(): the host already serviced its interrupt (handle_external_interrupt_irqoff
 * ran its handler, which takes time: costs.ts); count it and resume.
 */
function handleExternalInterrupt(vcpu: KvmVcpu): number {
  vcpu.clock += vcpu.kvm.cost.externalInterrupt;
  vcpu.stat.irq_exits++;
  return 1;
}

/** handle_triple_fault(): KVM_EXIT_SHUTDOWN. */
function handleTripleFault(vcpu: KvmVcpu): number {
  vcpu.run.exit_reason = KVM_EXIT_SHUTDOWN;
  vcpu.mmio_needed = false;
  return 0;
}

/** handle_interrupt_window(): close the window and let KVM_REQ_EVENT inject. */
function handleInterruptWindow(vcpu: KvmVcpu): number {
  execControlsClearbit(vcpu, abi.CPU_BASED_INTR_WINDOW_EXITING);
  kvmMakeRequest(KVM_REQ_EVENT, vcpu);
  vcpu.stat.irq_window_exits++;
  return 1;
}

/** handle_nmi_window(). */
function handleNmiWindow(vcpu: KvmVcpu): number {
  execControlsClearbit(vcpu, abi.CPU_BASED_NMI_WINDOW_EXITING);
  vcpu.stat.nmi_window_exits++;
  kvmMakeRequest(KVM_REQ_EVENT, vcpu);
  return 1;
}

/** handle_io(): string forms go to the full emulator, the rest to kvm_fast_pio(). */
function handleIo(vcpu: KvmVcpu): number {
  const q = vcpu.vmx.exit_qualification >>> 0;
  vcpu.stat.io_exits++;
  if (q & abi.IOQ_STRING) return kvmEmulateInstruction(vcpu);
  const port = q >>> abi.IOQ_PORT_SHIFT;
  const size = (q & abi.IOQ_SIZE_MASK) + 1;
  const rec = vcpu.rec;
  if (rec) rec.note(`port 0x${port.toString(16)}, size ${size}, ${q & abi.IOQ_IN ? 'in' : 'out'}`);
  return kvmFastPio(vcpu, size, port, (q & abi.IOQ_IN) !== 0);
}

/**
 * handle_pause(): PAUSE-loop exiting. Grow the PLE window unless pause_in_guest (which RFC v4 5/7 can
 * set at runtime without turning PLE off), yield to a preempted vCPU, skip the PAUSE.
 */
function handlePause(vcpu: KvmVcpu): number {
  if (!kvmPauseInGuest(vcpu)) growPleWindow(vcpu);
  kvmVcpuOnSpin(vcpu, true);
  return kvmSkipEmulatedInstruction(vcpu);
}

/**
 * handle_apic_access(): a plain MOV to the EOI register is handled without the emulator (fasteoi) and
 * skipped — so it goes through kvm_skip_emulated_instruction; any other access is emulated.
 */
function handleApicAccess(vcpu: KvmVcpu): number {
  const q = vcpu.vmx.exit_qualification & 0xffff;
  const type = q >>> abi.APICQ_TYPE_SHIFT;
  const offset = q & abi.APICQ_OFFSET_MASK;
  if (type === abi.APIC_ACCESS_LINEAR_WRITE && offset === APIC_EOI && vcpu.apic) {
    kvmLapicSetEoi(vcpu);
    return kvmSkipEmulatedInstruction(vcpu);
  }
  return kvmEmulateInstruction(vcpu);
}

/**
 * handle_ept_violation() → kvm_mmu_page_fault(): a GPA with no memslot is MMIO, so the instruction is
 * emulated. (KVM then caches an MMIO SPTE and later accesses come as EPT_MISCONFIG; the core reports
 * every such access as an EPT violation, so the model takes this path each time.)
 */
function handleEptViolation(vcpu: KvmVcpu): number {
  vcpu.clock += vcpu.kvm.cost.mmio; // the page-fault walk and the emulator (costs.ts)
  const rec = vcpu.rec;
  if (rec) rec.note(`GPA ${hex(vcpu.core.u64(vcpu.vcpu_idx, abi.S_EXIT_GPA))} has no memslot: MMIO`);
  return kvmEmulateInstruction(vcpu);
}

/**
 * handle_cr() (5.19): MOV to CR0/CR3/CR4 through kvm_set_cr* and kvm_complete_insn_gp; MOV to CR8 the
 * same, then, without an in-kernel LAPIC, KVM_EXIT_SET_TPR when the priority dropped; MOV from CR3/CR8
 * through kvm_skip_emulated_instruction. Anything else (CLTS, LMSW and reads the core never makes
 * exit) is "unhandled": KVM_EXIT_UNKNOWN. Which of these the core exits on: CR0/CR4 writes always (it
 * keeps no guest/host masks), CR8 without a TPR shadow (LAPIC in userspace), CR3 never (EPT).
 */
function handleCr(vcpu: KvmVcpu): number {
  const q = vcpu.vmx.exit_qualification & 0xffff;
  const cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
  const rec = vcpu.rec;
  if (type === 0) {
    const val = gpr(vcpu, reg);
    switch (cr) {
      case 0: return completeInsnGp(vcpu, kvmSetCr0(vcpu, val));
      case 3: return completeInsnGp(vcpu, kvmSetCr3(vcpu, val));
      case 4: return completeInsnGp(vcpu, kvmSetCr4(vcpu, val));
      case 8: {
        const prev = kvmGetCr8(vcpu);
        const cr8 = Number(val & 0xffn); // (u8)val: bits above 7 are dropped before the reserved check
        const ret = completeInsnGp(vcpu, kvmSetCr8(vcpu, cr8));
        if (lapicInKernel(vcpu) || prev <= cr8) return ret;
        vcpu.run.exit_reason = KVM_EXIT_SET_TPR;
        if (rec) rec.note(`CR8 lowered ${prev} → ${cr8} with the LAPIC in userspace: KVM_EXIT_SET_TPR`);
        return 0;
      }
    }
  } else if (type === 1 && (cr === 3 || cr === 8)) {
    const val = cr === 3 ? vcpu.core.u64(vcpu.vcpu_idx, abi.S_CR3) : BigInt(kvmGetCr8(vcpu));
    vcpu.core.setU64(vcpu.vcpu_idx, abi.S_GPR + reg * 8, val);
    if (rec) rec.note(`MOV from CR${cr}: ${hex(val)}`);
    return kvmSkipEmulatedInstruction(vcpu);
  }
  vcpu.run.exit_reason = KVM_EXIT_UNKNOWN;
  if (rec) rec.note(`unhandled control register access: type ${type}, CR${cr}`);
  return 0;
}

/** A general register, as the exit handlers read it (kvm_register_read). */
function gpr(vcpu: KvmVcpu, reg: number): bigint {
  return vcpu.core.u64(vcpu.vcpu_idx, abi.S_GPR + reg * 8);
}

/**
 * handle_dr() (5.19): DR4/DR5 #UD with CR4.DE (kvm_require_dr); at CPL > 0 #GP; with DR7.GD set the
 * access is a debug trap to emulate (KVM_EXIT_DEBUG for a hardware-breakpoint debugger, else #DB with
 * DR6.BD); with no debugger attached KVM stops intercepting MOV DR and lets the guest re-execute the
 * instruction (KVM_DEBUGREG_WONT_EXIT: the next VM exit syncs the registers and intercepts again);
 * otherwise kvm_get_dr/kvm_set_dr and kvm_complete_insn_gp.
 */
function handleDr(vcpu: KvmVcpu): number {
  const q = vcpu.vmx.exit_qualification & 0xffff;
  const dr = q & 7, reg = (q >> 8) & 15, fromDr = (q & abi.DRQ_FROM_DR) !== 0;
  const core = vcpu.core, id = vcpu.vcpu_idx;
  const rec = vcpu.rec;
  if (!kvmRequireDr(vcpu, dr)) return 1;
  if (core.u32(id, abi.S_CS) & 3) return completeInsnGp(vcpu, 1);
  const dr7 = core.u32(id, abi.S_DR7);
  if (dr7 & DR7_GD) {
    if (vcpu.guest_debug & KVM_GUESTDBG_USE_HW_BP) {
      vcpu.run.setDebug(abi.DB_VECTOR, kvmGetLinearRip(vcpu), BigInt((DR6_BD | abi.DR6_ACTIVE_LOW) >>> 0), BigInt(dr7 >>> 0));
      vcpu.run.exit_reason = KVM_EXIT_DEBUG;
      if (rec) rec.note('DR7.GD with a hardware-breakpoint debugger: KVM_EXIT_DEBUG');
      return 0;
    }
    kvmQueueException(vcpu, abi.DB_VECTOR, undefined, DR6_BD);
    if (rec) rec.note('DR7.GD: the access is a debug trap, #DB (DR6.BD) queued for the guest');
    return 1;
  }
  if (vcpu.guest_debug === 0) {
    execControlsClearbit(vcpu, abi.CPU_BASED_MOV_DR_EXITING);
    vcpu.arch.switch_db_regs |= KVM_DEBUGREG_WONT_EXIT;
    if (rec) rec.note('no debugger: MOV DR exiting off until the next exit; the guest re-executes the instruction');
    return 1;
  }
  let err = 0;
  if (fromDr) core.setU64(id, abi.S_GPR + reg * 8, kvmGetDr(vcpu, dr));
  else err = kvmSetDr(vcpu, dr, gpr(vcpu, reg));
  return completeInsnGp(vcpu, err);
}

/**
 * vmx_sync_dirty_debug_regs(), from vcpu_enter_guest right after a VM exit while
 * KVM_DEBUGREG_WONT_EXIT is set: the guest's debug registers are read back (the model keeps them in
 * the state block all along) and MOV DR exiting is turned on again.
 */
export function vmxSyncDirtyDebugRegs(vcpu: KvmVcpu): void {
  vcpu.arch.switch_db_regs &= ~KVM_DEBUGREG_WONT_EXIT;
  execControlsSetbit(vcpu, abi.CPU_BASED_MOV_DR_EXITING);
  const rec = vcpu.rec;
  if (rec) rec.leaf('vmx_sync_dirty_debug_regs', vcpu.t, 'void', 'KVM_DEBUGREG_WONT_EXIT: debug registers read back, MOV DR exiting on again');
}

/** handle_invlpg(): with EPT there is nothing to flush for the guest's own mappings. */
function handleInvlpg(vcpu: KvmVcpu): number {
  return kvmSkipEmulatedInstruction(vcpu);
}

/** handle_monitor_trap(): nothing to do (KVM never arms MTF in the model). */
function handleMonitorTrap(): number {
  return 1;
}

/** Table entries are handler bodies: __vmx_handle_exit records the frame under the kernel's name. */
interface ExitHandler { name: string; fn: (vcpu: KvmVcpu) => number }

/** kvm_vmx_exit_handlers[]: the exits the modelled CPU can produce, by basic reason. */
const EXIT_HANDLER_TABLE: Record<number, ExitHandler> = {
  [abi.EXIT_REASON_EXCEPTION_NMI]: { name: 'handle_exception_nmi', fn: handleExceptionNmi },
  [abi.EXIT_REASON_EXTERNAL_INTERRUPT]: { name: 'handle_external_interrupt', fn: handleExternalInterrupt },
  [abi.EXIT_REASON_TRIPLE_FAULT]: { name: 'handle_triple_fault', fn: handleTripleFault },
  [abi.EXIT_REASON_NMI_WINDOW]: { name: 'handle_nmi_window', fn: handleNmiWindow },
  [abi.EXIT_REASON_IO_INSTRUCTION]: { name: 'handle_io', fn: handleIo },
  [abi.EXIT_REASON_CR_ACCESS]: { name: 'handle_cr', fn: handleCr },
  [abi.EXIT_REASON_DR_ACCESS]: { name: 'handle_dr', fn: handleDr },
  [abi.EXIT_REASON_CPUID]: { name: 'kvm_emulate_cpuid', fn: kvmEmulateCpuid },
  [abi.EXIT_REASON_MSR_READ]: { name: 'kvm_emulate_rdmsr', fn: kvmEmulateRdmsr },
  [abi.EXIT_REASON_MSR_WRITE]: { name: 'kvm_emulate_wrmsr', fn: kvmEmulateWrmsr },
  [abi.EXIT_REASON_INTERRUPT_WINDOW]: { name: 'handle_interrupt_window', fn: handleInterruptWindow },
  [abi.EXIT_REASON_HLT]: { name: 'kvm_emulate_halt', fn: kvmEmulateHaltBody },
  [abi.EXIT_REASON_INVD]: { name: 'kvm_emulate_invd', fn: kvmEmulateAsNop },
  [abi.EXIT_REASON_INVLPG]: { name: 'handle_invlpg', fn: handleInvlpg },
  [abi.EXIT_REASON_RDPMC]: { name: 'kvm_emulate_rdpmc', fn: kvmEmulateRdpmc },
  [abi.EXIT_REASON_VMCALL]: { name: 'kvm_emulate_hypercall', fn: kvmEmulateHypercall },
  [abi.EXIT_REASON_APIC_ACCESS]: { name: 'handle_apic_access', fn: handleApicAccess },
  [abi.EXIT_REASON_WBINVD]: { name: 'kvm_emulate_wbinvd', fn: kvmEmulateWbinvd },
  [abi.EXIT_REASON_XSETBV]: { name: 'kvm_emulate_xsetbv', fn: kvmEmulateXsetbv },
  [abi.EXIT_REASON_EPT_VIOLATION]: { name: 'handle_ept_violation', fn: handleEptViolation },
  [abi.EXIT_REASON_PAUSE_INSTRUCTION]: { name: 'handle_pause', fn: handlePause },
  [abi.EXIT_REASON_MWAIT_INSTRUCTION]: { name: 'kvm_emulate_mwait', fn: kvmEmulateMwait },
  [abi.EXIT_REASON_MONITOR_TRAP_FLAG]: { name: 'handle_monitor_trap', fn: handleMonitorTrap },
  [abi.EXIT_REASON_MONITOR_INSTRUCTION]: { name: 'kvm_emulate_monitor', fn: kvmEmulateMonitor },
};
/** The table as a dense array (kvm_vmx_max_exit_handlers entries): one indexed load per exit. */
const EXIT_HANDLERS: (ExitHandler | undefined)[] = Array.from({ length: 1 + Math.max(...Object.keys(EXIT_HANDLER_TABLE).map(Number)) }, (_, i) => EXIT_HANDLER_TABLE[i]);
