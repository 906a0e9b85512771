// KVM_RUN as arch/x86/kvm/x86.c walks it (spec §3): kvm_arch_vcpu_ioctl_run → vcpu_run →
// vcpu_enter_guest / vcpu_block, the event injection before entry, kvm_skip_emulated_instruction with
// single-step and RFC v4 6/7's EXIT_USERSPACE mask, and the HLT helpers.
//
// The frames that can wait in virtual time (vcpu_enter_guest while guest code runs or at a stop,
// vcpu_block and kvm_main.ts's halt/block) return SUSPEND when their thread must yield, keep where
// they stand in the vCPU (runWait, enterPhase, wait) and are continued by their *Resume function. No
// generators: the loop of vcpu_run runs once per exit, and plain functions are what the compiler
// optimizes best.
import * as abi from '../../../wasm/src/abi';
import { kvmHltInGuest } from './disable_exits';
import {
  EXIT_FASTPATH_EXIT_HANDLED, EXIT_FASTPATH_EXIT_USERSPACE, EXIT_FASTPATH_REENTER_GUEST, vmxHandleExit, vmxSyncDirtyDebugRegs,
  vmxVcpuRunComplete, vmxVcpuRunEnter, vmxVcpuRunExit,
} from './vmx_exit';
import { completeUserspaceIo } from './emulate';
import {
  IN_GUEST_MODE, EXITING_GUEST_MODE, KVM_DEBUGREG_WONT_EXIT, KVM_REQ_DISABLE_EXITS, KVM_REQ_EVENT, KVM_REQ_NMI, KVM_REQ_TRIPLE_FAULT,
  KVM_REQ_UNBLOCK, KVM_REQ_UNHALT, OUTSIDE_GUEST_MODE, kvmCheckRequest, kvmClearRequest, kvmMakeRequest, lapicInKernel,
  traced,
} from './kvm_host';
import type { KvmVcpu } from './kvm_host';
import { RESCHEDULE_VECTOR, kvmVcpuBlock, kvmVcpuHalt, kvmVcpuWaitResume } from './kvm_main';
import { kvmApicHasInterrupt, kvmCpuHasPendingTimer, kvmGetApicInterrupt, kvmInjectApicTimerIrqs, kvmLapicEnabled } from './lapic';
import { kvmLapicSyncFromVapic, kvmLapicSyncToVapic } from './pv_eoi';
import {
  EINTR, KVM_EXIT_DEBUG, KVM_EXIT_HLT, KVM_EXIT_INTR, KVM_EXIT_IRQ_WINDOW_OPEN, KVM_EXIT_SHUTDOWN,
  KVM_GUESTDBG_EXIT_USERSPACE, KVM_GUESTDBG_SINGLESTEP, KVM_MP_STATE_AP_RESET_HOLD, KVM_MP_STATE_HALTED,
  KVM_MP_STATE_INIT_RECEIVED, KVM_MP_STATE_RUNNABLE,
} from './uapi';
import {
  vmxEnableIrqWindow, vmxEnableNmiWindow, vmxGetRflags, vmxInjectException, vmxInjectIrq, vmxInjectNmi, vmxInterruptBlocked,
  vmxNmiBlocked, vmxSetRflags, vmxSkipEmulatedInstruction, vmxUpdateDisabledExits,
} from './vmx';

/** Returned by the resumable parts of vcpu_enter_guest/vcpu_block: the thread must yield. Never a kernel value. */
export const SUSPEND = -0x7fffffff;

// ---- vCPU state predicates ----

/** kvm_vcpu_running(): RUNNABLE and not halted for an async page fault. */
export function kvmVcpuRunning(vcpu: KvmVcpu): boolean {
  return vcpu.arch.mp_state === KVM_MP_STATE_RUNNABLE && !vcpu.arch.apf_halted;
}

/** kvm_arch_interrupt_allowed() → vmx_interrupt_allowed(): RFLAGS.IF and no STI/MOV-SS shadow. */
export function kvmArchInterruptAllowed(vcpu: KvmVcpu): boolean {
  return !vmxInterruptBlocked(vcpu);
}

/** kvm_cpu_has_extint(): without an in-kernel LAPIC, the KVM_INTERRUPT vector queued by userspace. */
function kvmCpuHasExtint(vcpu: KvmVcpu): boolean {
  return !lapicInKernel(vcpu) && vcpu.arch.interrupt.injected;
}

/** kvm_cpu_has_injectable_intr() / kvm_cpu_has_interrupt() (no APICv, so both are the same here). */
export function kvmCpuHasInterrupt(vcpu: KvmVcpu): boolean {
  return kvmCpuHasExtint(vcpu) || kvmApicHasInterrupt(vcpu) !== -1;
}

/** kvm_is_exception_pending(). */
function kvmIsExceptionPending(vcpu: KvmVcpu): boolean {
  return vcpu.arch.exception.pending;
}

/**
 * kvm_vcpu_has_events(): what ends a halt. A maskable interrupt counts only when it could be
 * delivered now (IF=1, no shadow) — so `cli; hlt` with an IRR bit set sleeps (H10). Of the kernel's
 * list (spec §3.3, pieced together from diffs) the model has no async PF, INIT/SIPI, SMI or nested
 * events; the rest is here.
 */
export function kvmVcpuHasEvents(vcpu: KvmVcpu): boolean {
  if (vcpu.arch.pv_unhalted) return true;
  if (kvmIsExceptionPending(vcpu)) return true;
  if ((vcpu.requests & KVM_REQ_NMI) !== 0 || (vcpu.arch.nmi_pending > 0 && !vmxNmiBlocked(vcpu))) return true;
  // kvm_arch_interrupt_allowed() && kvm_cpu_has_interrupt(), tested the other way round: both have no
  // effect that matters, and an empty IRR (the usual answer) is cheaper to see than RFLAGS.
  if (kvmCpuHasInterrupt(vcpu) && kvmArchInterruptAllowed(vcpu)) return true;
  return false;
}

/** kvm_arch_vcpu_runnable(). */
export function kvmArchVcpuRunnable(vcpu: KvmVcpu): boolean {
  return kvmVcpuRunning(vcpu) || kvmVcpuHasEvents(vcpu);
}

/** kvm_arch_no_poll(): the guest turned host halt-polling off through MSR_KVM_POLL_CONTROL. */
export function kvmArchNoPoll(vcpu: KvmVcpu): boolean {
  return vcpu.arch.msr_kvm_poll_control === 0n; // bit 0 is the only one a write may set
}

// ---- exceptions and interrupts queued for the next entry ----

const CONTRIBUTORY = new Set([abi.DE_VECTOR, abi.TS_VECTOR, abi.NP_VECTOR, abi.SS_VECTOR, abi.GP_VECTOR]);

/** kvm_multiple_exception(): queue, promote to #DF, or escalate a fault during #DF to a triple fault. */
export function kvmQueueException(vcpu: KvmVcpu, nr: number, errorCode?: number, payload?: number): void {
  const ex = vcpu.arch.exception;
  kvmMakeRequest(KVM_REQ_EVENT, vcpu);
  if (ex.pending || ex.injected) {
    if (ex.nr === abi.DF_VECTOR) {
      kvmMakeRequest(KVM_REQ_TRIPLE_FAULT, vcpu);
      return;
    }
    const double = (CONTRIBUTORY.has(ex.nr) && CONTRIBUTORY.has(nr)) || (ex.nr === abi.PF_VECTOR && (CONTRIBUTORY.has(nr) || nr === abi.PF_VECTOR));
    if (double) { nr = abi.DF_VECTOR; errorCode = 0; payload = undefined; }
  }
  ex.pending = true;
  ex.injected = false;
  ex.nr = nr;
  ex.has_error_code = errorCode !== undefined;
  ex.error_code = errorCode ?? 0;
  ex.has_payload = payload !== undefined;
  ex.payload = payload ?? 0;
}

/** kvm_inject_gp(vcpu, 0). */
export function kvmInjectGp(vcpu: KvmVcpu): void {
  kvmQueueException(vcpu, abi.GP_VECTOR, 0);
}

/** kvm_queue_interrupt(). */
export function kvmQueueInterrupt(vcpu: KvmVcpu, vector: number, soft: boolean): void {
  const i = vcpu.arch.interrupt;
  i.injected = true;
  i.nr = vector;
  i.soft = soft;
}

// ---- RFLAGS as userspace and single-step see them ----

/** kvm_get_linear_rip(): flat segments, so the RIP itself. */
export function kvmGetLinearRip(vcpu: KvmVcpu): bigint {
  return vcpu.core.u64(vcpu.vcpu_idx, abi.S_RIP);
}

/** kvm_get_rflags(): hides the TF that KVM's own single-step put there. */
export function kvmGetRflags(vcpu: KvmVcpu): number {
  let rflags = vmxGetRflags(vcpu);
  if (vcpu.guest_debug & KVM_GUESTDBG_SINGLESTEP) rflags &= ~abi.X86_EFLAGS_TF;
  return rflags;
}

/** kvm_set_rflags(): adds TF while KVM single-steps and RIP is still where single-stepping began. */
export function kvmSetRflags(vcpu: KvmVcpu, rflags: number): void {
  if (vcpu.guest_debug & KVM_GUESTDBG_SINGLESTEP && kvmGetLinearRip(vcpu) === vcpu.arch.singlestep_rip) rflags |= abi.X86_EFLAGS_TF;
  vmxSetRflags(vcpu, rflags);
  kvmMakeRequest(KVM_REQ_EVENT, vcpu);
}

/**
 * kvm_vcpu_do_singlestep(): with KVM_GUESTDBG_SINGLESTEP, fill run->debug (DR6.BS, the RIP after the
 * instruction, #DB) and exit to userspace (0); otherwise queue a #DB for the guest (1).
 */
export function kvmVcpuDoSinglestep(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  if (vcpu.guest_debug & KVM_GUESTDBG_SINGLESTEP) {
    const run = vcpu.run;
    run.setDebug(abi.DB_VECTOR, kvmGetLinearRip(vcpu), BigInt(abi.DR6_BS | abi.DR6_ACTIVE_LOW) & 0xffffffffn, run.u64(56));
    run.exit_reason = KVM_EXIT_DEBUG;
    if (rec) rec.leaf('kvm_vcpu_do_singlestep', vcpu.t, 0, 'KVM_GUESTDBG_SINGLESTEP: run->exit_reason = KVM_EXIT_DEBUG');
    return 0;
  }
  kvmQueueException(vcpu, abi.DB_VECTOR, undefined, abi.DR6_BS);
  if (rec) rec.leaf('kvm_vcpu_do_singlestep', vcpu.t, 1, 'TF set by the guest itself: #DB queued for the guest');
  return 1;
}

/**
 * kvm_skip_emulated_instruction(): advance RIP past the exiting instruction (1); with the old RFLAGS.TF,
 * single-step; RFC v4 6/7 finally masks the result with !(guest_debug & EXIT_USERSPACE).
 */
export function kvmSkipEmulatedInstruction(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  if (rec) rec.enter('kvm_skip_emulated_instruction', vcpu.t);
  const rflags = vmxGetRflags(vcpu);
  let r = vmxSkipEmulatedInstruction(vcpu);
  let note = 'RIP advanced past the instruction';
  if (rflags & abi.X86_EFLAGS_TF) {
    r = kvmVcpuDoSinglestep(vcpu);
    note = 'RFLAGS.TF was set: single-step';
  }
  if (vcpu.kvm.variant.guestdbgExitUserspace && vcpu.guest_debug & KVM_GUESTDBG_EXIT_USERSPACE) {
    r &= 0;
    note = `guest_debug has EXIT_USERSPACE: r &= 0`;
  }
  if (rec) rec.leave(r, note);
  return r;
}

// ---- HLT ----

/**
 * __kvm_emulate_halt(): counts halt_exits; with an in-kernel LAPIC the vCPU becomes HALTED (1), else
 * run->exit_reason is set for userspace (0). Mainline 1876dd69dfe8 (v6.12) leaves a vCPU that already
 * has a wake event RUNNABLE.
 */
function kvmEmulateHaltState(vcpu: KvmVcpu, state: number, reason: number): number {
  const rec = vcpu.rec;
  if (rec) rec.enter('__kvm_emulate_halt', vcpu.t);
  vcpu.clock += vcpu.kvm.cost.halt;
  vcpu.stat.halt_exits++;
  if (lapicInKernel(vcpu)) {
    if (vcpu.kvm.variant.hltFastpath && kvmVcpuHasEvents(vcpu)) {
      vcpu.arch.pv_unhalted = false;
      if (rec) rec.leave(1, 'a wake event is already pending: mp_state stays RUNNABLE');
      return 1;
    }
    vcpu.arch.mp_state = state;
    if (rec) rec.leave(1, 'in-kernel LAPIC: mp_state = HALTED');
    return 1;
  }
  vcpu.run.exit_reason = reason;
  if (rec) rec.leave(0, 'LAPIC in userspace: run->exit_reason = KVM_EXIT_HLT');
  return 0;
}

/** kvm_emulate_halt_noskip(). */
export function kvmEmulateHaltNoskip(vcpu: KvmVcpu): number {
  return traced(vcpu, 'kvm_emulate_halt_noskip', haltedOrExitHlt);
}
function haltedOrExitHlt(vcpu: KvmVcpu): number {
  return kvmEmulateHaltState(vcpu, KVM_MP_STATE_HALTED, KVM_EXIT_HLT);
}

/**
 * kvm_emulate_halt(): `ret = skip(); return noskip() && ret;` — noskip always runs (C evaluates the left
 * operand first), so a single-step KVM_EXIT_DEBUG can be overwritten by KVM_EXIT_HLT (the kernel's TODO).
 */
export function kvmEmulateHalt(vcpu: KvmVcpu): number {
  return traced(vcpu, 'kvm_emulate_halt', kvmEmulateHaltBody);
}

/** The body of kvm_emulate_halt, for callers that record its frame themselves (the exit dispatcher). */
export function kvmEmulateHaltBody(vcpu: KvmVcpu): number {
  const ret = kvmSkipEmulatedInstruction(vcpu);
  const r = kvmEmulateHaltNoskip(vcpu) && ret;
  const rec = vcpu.rec;
  if (rec) rec.note(r ? 'both returned 1: stay in the kernel' : ret === 0 ? 'the skip returned 0: back to userspace' : '__kvm_emulate_halt returned 0: back to userspace');
  return r;
}

// ---- event injection ----

/**
 * kvm_check_and_inject_events() (5.19's inject_pending_event): re-inject an event whose delivery an
 * exit interrupted, then a pending exception, NMI, and interrupt if the guest can take it now —
 * else open an interrupt window. -EBUSY becomes an immediate exit request: the result is
 * req_immediate_exit (the model never fails otherwise).
 */
function kvmCheckAndInjectEvents(vcpu: KvmVcpu): boolean {
  const arch = vcpu.arch, ex = arch.exception;
  let canInject = true;
  if (ex.injected || ex.pending || arch.nmi_injected || arch.nmi_pending) {
    const r = injectExceptionsAndNmis(vcpu);
    if (r === IMMEDIATE_EXIT) return true;
    canInject = r === CAN_INJECT;
  } else if (arch.interrupt.injected) {
    vmxInjectIrq(vcpu, true);
    canInject = false;
  }
  if (kvmCpuHasInterrupt(vcpu)) {
    if (!canInject) return true;
    if (kvmArchInterruptAllowed(vcpu)) {
      kvmQueueInterrupt(vcpu, kvmGetApicInterrupt(vcpu), false);
      vmxInjectIrq(vcpu, false);
    }
    if (kvmCpuHasInterrupt(vcpu)) vmxEnableIrqWindow(vcpu);
  }
  return false;
}

const CAN_INJECT = 0, CANNOT_INJECT = 1, IMMEDIATE_EXIT = 2;

/**
 * kvm_check_and_inject_events() up to the interrupts, when an exception or NMI is injected or pending
 * (out of line: the usual entry has neither). Re-injects what an exit interrupted (an exception, else
 * an NMI, else an interrupt), then the pending exception, then a pending NMI if none of those went in.
 * Whether an interrupt may still be injected (CAN_INJECT, CANNOT_INJECT), or IMMEDIATE_EXIT.
 */
function injectExceptionsAndNmis(vcpu: KvmVcpu): number {
  const arch = vcpu.arch;
  let canInject = true;
  if (arch.exception.injected) {
    vmxInjectException(vcpu);
    canInject = false;
  } else if (!arch.exception.pending) {
    if (arch.nmi_injected) {
      vmxInjectNmi(vcpu);
      canInject = false;
    } else if (arch.interrupt.injected) {
      vmxInjectIrq(vcpu, true);
      canInject = false;
    }
  }
  if (arch.exception.pending) {
    arch.exception.pending = false;
    arch.exception.injected = true;
    if (arch.exception.has_payload && arch.exception.nr === abi.DB_VECTOR) {
      // kvm_deliver_exception_payload(): DR6 gets the #DB's payload.
      const dr6 = vcpu.core.u64(vcpu.vcpu_idx, abi.S_DR6);
      vcpu.core.setU64(vcpu.vcpu_idx, abi.S_DR6, (dr6 | BigInt(arch.exception.payload)) & ~0x1000n);
    }
    vmxInjectException(vcpu);
    canInject = false;
  }
  if (arch.nmi_pending) {
    if (!canInject) return IMMEDIATE_EXIT;
    if (!vmxNmiBlocked(vcpu)) {
      arch.nmi_pending--;
      arch.nmi_injected = true;
      vmxInjectNmi(vcpu);
      canInject = false;
    }
    if (arch.nmi_pending) vmxEnableNmiWindow(vcpu);
  }
  return canInject ? CAN_INJECT : CANNOT_INJECT;
}

/**
 * process_nmi(): at most two NMIs pending (one if one is already being handled: NMIs blocked or one
 * injected), then KVM_REQ_EVENT so that kvm_check_and_inject_events sees them. (The model counts
 * nmi_pending directly, without the nmi_queued atomic in front of it.)
 */
function processNmi(vcpu: KvmVcpu): void {
  const arch = vcpu.arch;
  const limit = vcpu.kvm.hw.r32(vcpu.vcpu_idx, abi.S_INTERRUPTIBILITY) & abi.INTR_BLOCK_NMI || arch.nmi_injected ? 1 : 2;
  if (arch.nmi_pending > limit) arch.nmi_pending = limit;
  kvmMakeRequest(KVM_REQ_EVENT, vcpu);
}

/** kvm_vcpu_exit_request(): do not enter if a kick arrived or a request/signal is pending. */
function kvmVcpuExitRequest(vcpu: KvmVcpu): boolean {
  return vcpu.mode === EXITING_GUEST_MODE || vcpu.requests !== 0 || vcpu.kvm.host.signalPending(vcpu);
}

/** vmx_cancel_injection(): the event stays queued as "injected" for the next entry. */
function cancelInjection(vcpu: KvmVcpu): void {
  vcpu.kvm.hw.w32(vcpu.vcpu_idx, abi.S_ENTRY_INTR_INFO, 0);
}

/** vcpu_enter_guest() when kvm_vcpu_exit_request() says not to enter after all: back out, and loop (1). */
function cancelEntry(vcpu: KvmVcpu, reqImmediateExit: boolean): number {
  vcpu.mode = OUTSIDE_GUEST_MODE;
  if (reqImmediateExit) kvmMakeRequest(KVM_REQ_EVENT, vcpu);
  cancelInjection(vcpu);
  if (vcpu.arch.apic_attention) kvmLapicSyncFromVapic(vcpu);
  if (vcpu.rec) vcpu.rec.leave(1, 'kvm_vcpu_exit_request(): a kick, request or signal arrived before entry');
  return 1;
}

// ---- vcpu_enter_guest ----

/**
 * vcpu_enter_guest(): requests (RFC v4 5/7's KVM_REQ_DISABLE_EXITS rewrites the VMCS here), event
 * injection, entry into the core, and on exit vmx_handle_exit(). Returns the handler's r, or SUSPEND
 * when the thread must yield while the guest runs (resume with vcpuEnterGuestResume).
 */
export function vcpuEnterGuest(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  if (rec) rec.enter('vcpu_enter_guest', vcpu.t);
  if (vcpu.requests & (KVM_REQ_TRIPLE_FAULT | KVM_REQ_NMI | KVM_REQ_DISABLE_EXITS) && !serviceRequests(vcpu)) return 0;
  let reqImmediateExit = false;
  if (kvmCheckRequest(KVM_REQ_EVENT, vcpu)) {
    vcpu.stat.req_event++;
    reqImmediateExit = kvmCheckAndInjectEvents(vcpu);
    if (kvmLapicEnabled(vcpu)) kvmLapicSyncToVapic(vcpu); // (update_cr8_intercept before it: no TPR shadow here)
  }
  vcpu.mode = IN_GUEST_MODE;
  if (kvmVcpuExitRequest(vcpu)) return cancelEntry(vcpu, reqImmediateExit);
  // Without a VMX-preemption timer, an immediate exit is a reschedule IPI to this pCPU.
  if (reqImmediateExit) vcpu.kvm.host.interruptCpu(vcpu, vcpu.clock, RESCHEDULE_VECTOR);
  vmxVcpuRunEnter(vcpu);
  vcpu.enterPhase = 'guest';
  return vcpuEnterGuestResume(vcpu);
}

/**
 * The requests vcpu_enter_guest services before KVM_REQ_EVENT, the rare ones (out of line: the entry
 * path stays small). False when the vCPU must not enter: a triple fault, KVM_EXIT_SHUTDOWN.
 */
function serviceRequests(vcpu: KvmVcpu): boolean {
  const rec = vcpu.rec;
  if (kvmCheckRequest(KVM_REQ_TRIPLE_FAULT, vcpu)) {
    vcpu.run.exit_reason = KVM_EXIT_SHUTDOWN;
    vcpu.mmio_needed = false;
    if (rec) rec.leave(0, 'KVM_REQ_TRIPLE_FAULT: run->exit_reason = KVM_EXIT_SHUTDOWN');
    return false;
  }
  if (kvmCheckRequest(KVM_REQ_NMI, vcpu)) processNmi(vcpu);
  // v4 5/7: checked right after KVM_REQ_UPDATE_CPU_DIRTY_LOGGING.
  if (vcpu.kvm.variant.disableExitsRequest && kvmCheckRequest(KVM_REQ_DISABLE_EXITS, vcpu)) {
    if (rec) rec.note('KVM_REQ_DISABLE_EXITS pending: update_disabled_exits before entry');
    vmxUpdateDisabledExits(vcpu);
  }
  return true;
}

/** The rest of vcpu_enter_guest after the thread yielded in guest mode or at a VM exit. */
export function vcpuEnterGuestResume(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  let fastpath = 0;
  for (;;) {
    if (vcpu.enterPhase === 'guest') {
      if (!runGuest(vcpu)) return SUSPEND;
      vmxVcpuRunExit(vcpu);
      vcpu.enterPhase = 'exited';
      if (vcpu.kvm.host.stopPoint(vcpu, 'exit')) return SUSPEND;
    }
    fastpath = vmxVcpuRunComplete(vcpu);
    if (fastpath !== EXIT_FASTPATH_REENTER_GUEST) break;
    // The fastpath handled the exit (mainline's HLT with an event pending): re-enter at once.
    if (kvmVcpuExitRequest(vcpu)) { fastpath = EXIT_FASTPATH_EXIT_HANDLED; break; }
    vcpu.stat.exits++;
    vmxVcpuRunEnter(vcpu);
    vcpu.enterPhase = 'guest';
  }
  // Before the exit is handled, so that a MOV DR exit reads the right registers and can set WONT_EXIT again.
  if (vcpu.arch.switch_db_regs & KVM_DEBUGREG_WONT_EXIT) vmxSyncDirtyDebugRegs(vcpu);
  vcpu.mode = OUTSIDE_GUEST_MODE;
  vcpu.stat.exits++;
  // After the fastpath loop, before handle_exit: a PV EOI the guest did since the entry is done here.
  if (vcpu.arch.apic_attention) kvmLapicSyncFromVapic(vcpu);
  let r: number;
  if (fastpath === EXIT_FASTPATH_EXIT_USERSPACE) r = 0;
  else r = vmxHandleExit(vcpu, fastpath);
  if (rec) rec.leave(r, r > 0 ? 'handled in the kernel: loop' : r === 0 ? 'return to userspace' : 'error');
  return r;
}

/**
 * Runs the core for this vCPU until a VM exit (true), or until the thread must yield (false): its
 * budget is spent, the CPU is halted in guest mode with nothing to wake it, or one instruction was
 * asked for.
 */
function runGuest(vcpu: KvmVcpu): boolean {
  const host = vcpu.kvm.host;
  const core = vcpu.core;
  const id = vcpu.vcpu_idx;
  const hw = vcpu.kvm.hw;
  for (;;) {
    const budget = host.budget(vcpu);
    if (budget <= 0) return false;
    hw.wnum(id, abi.S_TSC, vcpu.clock);
    const step = host.singleStep(vcpu);
    const rc = core.run(id, step ? 1 : budget);
    vcpu.clock = hw.rnum(id, abi.S_TSC);
    if (rc === abi.RUN_EXIT) return true;
    if (rc === abi.RUN_HALTED) {
      if (host.wait(vcpu, Infinity, 'guest_halted')) continue;
      return false;
    }
    if (step && host.stopPoint(vcpu, 'insn')) return false;
  }
}

// ---- vcpu_block ----

// vcpu_block(): if the vCPU cannot run, halt (poll, then sleep) or block; 5.19 then needs
// KVM_REQ_UNHALT, v6.1+ re-checks kvm_arch_vcpu_runnable(). A woken HALTED vCPU becomes RUNNABLE.
// Its wait is written inline in vcpuRunLoop; these are its two halves.

/** vcpu_block() up to the wait: opens the frame; true when the vCPU cannot run and must halt or block. */
function vcpuBlockEnter(vcpu: KvmVcpu): boolean {
  const rec = vcpu.rec;
  if (rec) rec.enter('vcpu_block', vcpu.t);
  return !kvmArchVcpuRunnable(vcpu);
}

/** vcpu_block() after kvm_vcpu_halt/kvm_vcpu_block returned. Closes the frame. */
function vcpuBlockWoken(vcpu: KvmVcpu): number {
  const still = vcpu.kvm.variant.reqUnhalt ? !kvmCheckRequest(KVM_REQ_UNHALT, vcpu) : !kvmArchVcpuRunnable(vcpu);
  if (!still) return vcpuUnhalt(vcpu);
  const rec = vcpu.rec;
  if (rec) rec.leave(1, vcpu.kvm.variant.reqUnhalt
    ? 'woken without KVM_REQ_UNHALT (a timer tick or signal to service): mp_state unchanged'
    : 'still not runnable (a timer tick or signal to service): mp_state unchanged');
  return 1;
}

/** The end of vcpu_block(): a HALTED vCPU with a wake event becomes RUNNABLE. Closes the frame. */
function vcpuUnhalt(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  const mp = vcpu.arch.mp_state;
  if (mp === KVM_MP_STATE_HALTED || mp === KVM_MP_STATE_AP_RESET_HOLD) {
    vcpu.arch.pv_unhalted = false;
    vcpu.arch.mp_state = KVM_MP_STATE_RUNNABLE;
  }
  if (vcpu.arch.mp_state === KVM_MP_STATE_RUNNABLE) vcpu.arch.apf_halted = false;
  else if (mp !== KVM_MP_STATE_INIT_RECEIVED) {
    if (rec) rec.leave(-EINTR);
    return -EINTR;
  }
  if (rec) rec.leave(1, 'a wake event: mp_state = RUNNABLE');
  return 1;
}

// ---- vcpu_run and the ioctl ----

/** kvm_inject_pending_timer_irqs(). */
function kvmInjectPendingTimerIrqs(vcpu: KvmVcpu): void {
  kvmInjectApicTimerIrqs(vcpu);
}

/** kvm_vcpu_ready_for_interrupt_injection(). */
function kvmVcpuReadyForInterruptInjection(vcpu: KvmVcpu): boolean {
  return kvmArchInterruptAllowed(vcpu) && !kvmCpuHasInterrupt(vcpu) && !kvmIsExceptionPending(vcpu);
}

/**
 * vcpu_run(): enter the guest while the vCPU is runnable, block while it is not; stop at the first
 * r ≤ 0. Between rounds: pending timer ticks are injected, a requested interrupt window ends the run,
 * a pending signal ends it with -EINTR / KVM_EXIT_INTR. Returns r, or SUSPEND when the thread must
 * wait in virtual time (vcpu.runWait says where; vcpuRunLoop continues there).
 */
function vcpuRun(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  if (rec) rec.enter('vcpu_run', vcpu.t);
  return vcpuRunLoop(vcpu);
}

/** The loop of vcpu_run(), from the start of a round or from where the thread waited. */
function vcpuRunLoop(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  let r: number;
  for (;;) {
    const waited = vcpu.runWait;
    if (waited === 'guest' || (waited === null && kvmVcpuRunning(vcpu))) {
      r = waited ? vcpuEnterGuestResume(vcpu) : vcpuEnterGuest(vcpu);
      vcpu.runWait = r === SUSPEND ? 'guest' : null;
      if (r === SUSPEND) return SUSPEND;
    } else if (waited === 'block' || vcpuBlockEnter(vcpu)) {
      const w = waited ? kvmVcpuWaitResume(vcpu) : vcpu.arch.mp_state === KVM_MP_STATE_HALTED ? kvmVcpuHalt(vcpu) : kvmVcpuBlock(vcpu);
      vcpu.runWait = w === SUSPEND ? 'block' : null;
      if (w === SUSPEND) return SUSPEND;
      r = vcpuBlockWoken(vcpu);
    } else r = vcpuUnhalt(vcpu);
    if (r <= 0) break;
    kvmClearRequest(KVM_REQ_UNBLOCK, vcpu);
    if (kvmCpuHasPendingTimer(vcpu)) kvmInjectPendingTimerIrqs(vcpu);
    if (!lapicInKernel(vcpu) && vcpu.run.request_interrupt_window && kvmVcpuReadyForInterruptInjection(vcpu)) {
      r = irqWindowOpen(vcpu);
      break;
    }
    if (vcpu.kvm.host.signalPending(vcpu)) {
      r = signalExit(vcpu);
      break;
    }
  }
  if (rec) rec.leave(r);
  return kvmArchVcpuIoctlRunEnd(vcpu, r, undefined);
}

// The two ways out of vcpu_run's loop between rounds, out of line (the loop runs once per exit).

/** Userspace asked for an interrupt window (no in-kernel LAPIC) and it is open: KVM_EXIT_IRQ_WINDOW_OPEN. */
function irqWindowOpen(vcpu: KvmVcpu): number {
  vcpu.run.exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
  vcpu.stat.request_irq_exits++;
  if (vcpu.rec) vcpu.rec.note('userspace asked for an interrupt window and it is open');
  return 0;
}

/** xfer_to_guest_mode_handle_work(): a pending signal ends KVM_RUN with -EINTR, KVM_EXIT_INTR. */
function signalExit(vcpu: KvmVcpu): number {
  vcpu.run.exit_reason = KVM_EXIT_INTR;
  vcpu.stat.signal_exits++;
  if (vcpu.rec) vcpu.rec.note('signal pending: -EINTR, KVM_EXIT_INTR');
  return -EINTR;
}

/**
 * kvm_arch_vcpu_ioctl_run(): complete_userspace_io first (returning at once if it says ≤ 0),
 * immediate_exit, then vcpu_run; post_kvm_run_save fills the run structure's status fields.
 * Returns the ioctl's result, or SUSPEND while the thread waits (continue with
 * kvmArchVcpuIoctlRunResume).
 */
export function kvmArchVcpuIoctlRun(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  if (rec) rec.enter('kvm_arch_vcpu_ioctl_run', vcpu.t);
  const run = vcpu.run;
  run.flags = 0;
  vcpu.runWait = null;
  let r: number;
  const cui = vcpu.arch.complete_userspace_io;
  if (cui) {
    vcpu.arch.complete_userspace_io = null;
    r = completeUserspaceIo(vcpu, cui);
    if (r <= 0) return kvmArchVcpuIoctlRunEnd(vcpu, r, `${cui} returned ${r}: back to userspace before entering the guest`);
  }
  if (run.immediate_exit) return kvmArchVcpuIoctlRunEnd(vcpu, -EINTR, 'run->immediate_exit is set');
  return vcpuRun(vcpu);
}

/** Continues a KVM_RUN whose thread waited: its result, or SUSPEND again. */
export function kvmArchVcpuIoctlRunResume(vcpu: KvmVcpu): number {
  return vcpuRunLoop(vcpu);
}

/** The end of kvm_arch_vcpu_ioctl_run(). Closes its frame. */
function kvmArchVcpuIoctlRunEnd(vcpu: KvmVcpu, r: number, note: string | undefined): number {
  postKvmRunSave(vcpu);
  const rec = vcpu.rec;
  if (rec) {
    rec.markOrigin(r);
    rec.leave(r, note);
  }
  return r;
}

/** post_kvm_run_save(). */
function postKvmRunSave(vcpu: KvmVcpu): void {
  const apic = vcpu.apic;
  vcpu.run.setPostRun(
    (kvmGetRflags(vcpu) & abi.X86_EFLAGS_IF) !== 0,
    apic ? (apic.get(0x80) >> 4) & 0xf : 0,
    apic ? apic.apic_base : 0n,
    kvmVcpuReadyForInterruptInjection(vcpu),
  );
}

/** Whether a vCPU with hlt_in_guest is sitting in the HLT activity state (for the lab). */
export function haltedInGuest(vcpu: KvmVcpu): boolean {
  return kvmHltInGuest(vcpu) && vcpu.core.u32(vcpu.vcpu_idx, abi.S_ACTIVITY) === abi.ACTIVITY_HLT;
}
