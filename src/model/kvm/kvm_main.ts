// The generic parts of KVM the exit paths use (virt/kvm/kvm_main.c): kicking and waking a vCPU,
// kvm_vcpu_halt's halt-polling with its grow/shrink window, kvm_vcpu_block, kvm_vcpu_check_block,
// and the directed yield of kvm_vcpu_on_spin. kvm_vcpu_halt and kvm_vcpu_block are where a vCPU thread
// waits in virtual time: they return SUSPEND when it must yield, and kvmVcpuWaitResume continues them.
import { EXITING_GUEST_MODE, IN_GUEST_MODE, KVM_REQ_UNBLOCK, KVM_REQ_UNHALT, kvmCheckRequest, kvmMakeRequest } from './kvm_host';
import type { KvmVcpu } from './kvm_host';
import { Memo, type FrameRecorder } from './frames';
import { kvmCpuHasPendingTimer } from './lapic';
import { vmxSchedIn } from './vmx';
import { SUSPEND, kvmArchNoPoll, kvmArchVcpuRunnable } from './x86';

/** The host's reschedule IPI: what kvm_vcpu_kick sends to a pCPU running another vCPU in guest mode. */
export const RESCHEDULE_VECTOR = 0xfd;
/** halt_poll_ns_grow and halt_poll_ns_grow_start (kvm_main.c module parameters). */
export const HALT_POLL_NS_GROW = 2;
export const HALT_POLL_NS_GROW_START = 10_000;

/** kvm_vcpu_wake_up(): wakes a vCPU sleeping in kvm_vcpu_block; counts halt_wakeup. */
export function kvmVcpuWakeUp(vcpu: KvmVcpu, t: number): boolean {
  if (!vcpu.kvm.host.wakeUp(vcpu, t)) return false;
  vcpu.ready = true;
  vcpu.stat.halt_wakeup++;
  return true;
}

/**
 * kvm_vcpu_kick(): wake the vCPU if it sleeps; else, if it runs guest code, move it to
 * EXITING_GUEST_MODE and — unless the kick comes from the vCPU's own pCPU (its own thread, or its
 * LAPIC hrtimer, whose interrupt already made it exit) — send its pCPU a reschedule IPI. `t` in cycles.
 */
export function kvmVcpuKick(vcpu: KvmVcpu, t: number): void {
  if (kvmVcpuWakeUp(vcpu, t)) return;
  if (vcpu.mode !== IN_GUEST_MODE) return;
  vcpu.mode = EXITING_GUEST_MODE;
  if (vcpu.kvm.host.onCpuOf(vcpu)) return;
  vcpu.kvm.host.interruptCpu(vcpu, t, RESCHEDULE_VECTOR);
}

/**
 * kvm_vcpu_check_block(): < 0 when the vCPU must stop waiting: runnable (5.19 also makes
 * KVM_REQ_UNHALT), a pending LAPIC timer tick, a signal, or KVM_REQ_UNBLOCK.
 */
export function kvmVcpuCheckBlock(vcpu: KvmVcpu): number {
  if (kvmArchVcpuRunnable(vcpu)) {
    // Removed with KVM_REQ_UNHALT in v6.1: vcpu_block re-checks kvm_arch_vcpu_runnable instead.
    if (vcpu.kvm.variant.reqUnhalt) kvmMakeRequest(KVM_REQ_UNHALT, vcpu);
    return -4;
  }
  if (kvmCpuHasPendingTimer(vcpu)) return -4;
  if (vcpu.kvm.host.signalPending(vcpu)) return -4;
  if (kvmCheckRequest(KVM_REQ_UNBLOCK, vcpu)) return -4;
  return 0;
}

/**
 * kvm_vcpu_block(): sleep until kvm_vcpu_check_block() says stop. The host scheduler sees the thread
 * sleeping and its pCPU is free. 0 when done (vcpu.wait.waited: it really slept), or SUSPEND.
 */
export function kvmVcpuBlock(vcpu: KvmVcpu): number {
  vcpu.wait.phase = 'block';
  return blockBegin(vcpu);
}

function blockBegin(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  if (rec) rec.enter('kvm_vcpu_block', vcpu.t);
  vcpu.wait.waited = false;
  vcpu.blocking = true;
  vcpu.stat.blocking = 1;
  return blockLoop(vcpu);
}

function blockLoop(vcpu: KvmVcpu): number {
  const w = vcpu.wait;
  for (;;) {
    if (kvmVcpuCheckBlock(vcpu) < 0) break;
    w.waited = true;
    if (!vcpu.kvm.host.wait(vcpu, Infinity, 'blocked')) return SUSPEND;
    blockSchedIn(vcpu);
  }
  vcpu.blocking = false;
  vcpu.stat.blocking = 0;
  const rec = vcpu.rec;
  if (rec) rec.leave(w.waited ? 1 : 0, w.waited ? 'slept until a wake event' : 'a wake event was already pending');
  return 0;
}

/** kvm_sched_in(): scheduled back in after the sleep. */
function blockSchedIn(vcpu: KvmVcpu): void {
  vcpu.ready = false;
  vcpu.preempted = false;
  vmxSchedIn(vcpu);
}

/** kvm_vcpu_can_poll(): the model's pCPUs are dedicated, so only the deadline matters. */
function kvmVcpuCanPoll(cur: number, stop: number): boolean {
  return cur < stop;
}

const HALT_ARGS = new Memo((halt_poll_ns) => ({ halt_poll_ns }));

/**
 * kvm_vcpu_halt(): poll for up to vcpu->halt_poll_ns for a wake event, then kvm_vcpu_block(); then
 * update the stats and grow or shrink the per-vCPU polling window (capped by kvm->max_halt_poll_ns).
 * 0 when done, or SUSPEND.
 */
export function kvmVcpuHalt(vcpu: KvmVcpu): number {
  const rec = vcpu.rec;
  const w = vcpu.wait;
  if (rec) rec.enter('kvm_vcpu_halt', vcpu.t, rec.keeping ? HALT_ARGS.get(vcpu.halt_poll_ns) : undefined);
  w.pollAllowed = !kvmArchNoPoll(vcpu);
  w.doPoll = w.pollAllowed && vcpu.halt_poll_ns > 0;
  w.start = w.pollEnd = vcpu.clock;
  w.waited = false;
  if (!w.doPoll) return haltBlock(vcpu);
  w.phase = 'poll';
  w.stop = w.start + vcpu.kvm.cycles(vcpu.halt_poll_ns);
  return haltPoll(vcpu);
}

function haltPoll(vcpu: KvmVcpu): number {
  const w = vcpu.wait;
  for (;;) {
    if (kvmVcpuCheckBlock(vcpu) < 0) return haltDone(vcpu);
    w.pollEnd = vcpu.clock;
    if (!kvmVcpuCanPoll(w.pollEnd, w.stop)) return haltBlock(vcpu);
    if (!vcpu.kvm.host.wait(vcpu, w.stop, 'polling')) return SUSPEND;
    w.pollEnd = vcpu.clock;
  }
}

/** Polling found nothing (or was off): kvm_vcpu_block(). */
function haltBlock(vcpu: KvmVcpu): number {
  vcpu.wait.phase = 'halt_block';
  return blockBegin(vcpu) === SUSPEND ? SUSPEND : haltBlocked(vcpu);
}

function haltBlocked(vcpu: KvmVcpu): number {
  const w = vcpu.wait;
  if (w.waited) vcpu.stat.halt_wait_ns += vcpu.kvm.ktime(vcpu.clock) - vcpu.kvm.ktime(w.pollEnd);
  return haltDone(vcpu);
}

function haltDone(vcpu: KvmVcpu): number {
  const kvm = vcpu.kvm;
  const w = vcpu.wait;
  w.phase = null;
  const { start, pollEnd, waited, doPoll } = w;
  const haltNs = kvm.ns(vcpu.clock - start);
  if (doPoll) updateHaltPollStats(vcpu, start, pollEnd, !waited);
  const old = vcpu.halt_poll_ns;
  if (w.pollAllowed) {
    // vcpu_valid_wakeup() is always true on x86.
    const max = kvm.max_halt_poll_ns;
    if (max) {
      if (haltNs <= vcpu.halt_poll_ns) { /* the poll window was long enough */ }
      else if (vcpu.halt_poll_ns && haltNs > max) shrinkHaltPollNs(vcpu); // a long block
      else if (vcpu.halt_poll_ns < max && haltNs < max) growHaltPollNs(vcpu); // a short halt: poll longer
    } else vcpu.halt_poll_ns = 0;
  }
  const ev = kvm.events;
  if (ev.enabled && doPoll) ev.haltPoll(vcpu.clock, vcpu.vcpu_id, pollEnd - start, !waited, vcpu.halt_poll_ns);
  if (vcpu.rec) leaveHalt(vcpu, vcpu.rec, haltNs, old);
  return 0;
}

/** Closes kvm_vcpu_halt's frame, saying how it polled and what became of the window. */
function leaveHalt(vcpu: KvmVcpu, rec: FrameRecorder, haltNs: number, old: number): void {
  if (!rec.recording) {
    rec.leave('void');
    return;
  }
  const { start, pollEnd, waited, doPoll, pollAllowed } = vcpu.wait;
  const polled = Math.round(vcpu.kvm.ns(pollEnd - start));
  const how = !doPoll ? (pollAllowed ? 'no polling (window 0)' : 'guest disabled polling (MSR_KVM_POLL_CONTROL)')
    : waited ? `polled ${polled} ns, then slept` : `woke while polling after ${polled} ns`;
  rec.leave('void', `${how}; halted ${Math.round(haltNs)} ns; halt_poll_ns ${old} → ${vcpu.halt_poll_ns}`);
}

/** Continues kvm_vcpu_halt / kvm_vcpu_block after their thread waited: 0 when done, or SUSPEND again. */
export function kvmVcpuWaitResume(vcpu: KvmVcpu): number {
  const w = vcpu.wait;
  switch (w.phase) {
    case 'poll':
      w.pollEnd = vcpu.clock;
      return haltPoll(vcpu);
    case 'halt_block':
      blockSchedIn(vcpu);
      return blockLoop(vcpu) === SUSPEND ? SUSPEND : haltBlocked(vcpu);
    case 'block':
      blockSchedIn(vcpu);
      if (blockLoop(vcpu) === SUSPEND) return SUSPEND;
      w.phase = null;
      return 0;
  }
  throw new Error(`vcpu${vcpu.vcpu_id}: no halt or block to resume`);
}

/** update_halt_poll_stats(): polling counts as successful when the vCPU never slept. */
function updateHaltPollStats(vcpu: KvmVcpu, start: number, pollEnd: number, success: boolean): void {
  const pollNs = vcpu.kvm.ktime(pollEnd) - vcpu.kvm.ktime(start);
  vcpu.stat.halt_attempted_poll++;
  if (success) {
    vcpu.stat.halt_successful_poll++;
    vcpu.stat.halt_poll_success_ns += pollNs;
  } else vcpu.stat.halt_poll_fail_ns += pollNs;
}

/** grow_halt_poll_ns(): ×halt_poll_ns_grow, at least grow_start, at most kvm->max_halt_poll_ns. */
function growHaltPollNs(vcpu: KvmVcpu): void {
  let val = vcpu.halt_poll_ns * HALT_POLL_NS_GROW;
  if (val < HALT_POLL_NS_GROW_START) val = HALT_POLL_NS_GROW_START;
  if (val > vcpu.kvm.max_halt_poll_ns) val = vcpu.kvm.max_halt_poll_ns;
  vcpu.halt_poll_ns = val;
}

/** shrink_halt_poll_ns(): shrink 0 resets the window (to v6.10); 2 halves it (v6.11, aeb1b22a3ac8). */
function shrinkHaltPollNs(vcpu: KvmVcpu): void {
  const shrink = vcpu.kvm.variant.haltPollShrink;
  let val = shrink === 0 ? 0 : Math.floor(vcpu.halt_poll_ns / shrink);
  if (val < HALT_POLL_NS_GROW_START) val = 0;
  vcpu.halt_poll_ns = val;
}

/**
 * kvm_vcpu_on_spin(): a directed yield to a vCPU of the same VM that is ready to run but preempted.
 * In the model every vCPU thread has its own pCPU, so none is ever "ready" and preempted: the search
 * finds no candidate (as on a host with dedicated pCPUs).
 */
export function kvmVcpuOnSpin(me: KvmVcpu, yieldToKernelMode: boolean): void {
  const rec = me.rec;
  if (rec) rec.enter('kvm_vcpu_on_spin', me.t, { yield_to_kernel_mode: yieldToKernelMode });
  const kvm = me.kvm;
  let yielded: KvmVcpu | null = null;
  const n = kvm.vcpus.length;
  for (let k = 1; k <= n && !yielded; k++) {
    const vcpu = kvm.vcpus[(kvm.last_boosted_vcpu + k + n) % n];
    if (vcpu === me || !vcpu.ready || !vcpu.preempted) continue;
    yielded = vcpu;
    kvm.last_boosted_vcpu = vcpu.vcpu_idx;
  }
  if (rec) rec.leave('void', yielded ? `yielded to vcpu${yielded.vcpu_id}` : 'no preempted vCPU to yield to (each vCPU has its own pCPU)');
}


/**
 * kvm_sched_yield() (KVM_HC_SCHED_YIELD, KVM_HC_KICK_CPU): counts the attempt; with the vCPU thread
 * alone on its pCPU (single_task_running()) there is nothing to yield to.
 */
export function kvmSchedYield(vcpu: KvmVcpu, destId: number): void {
  vcpu.stat.directed_yield_attempted++;
  const rec = vcpu.rec;
  if (rec) rec.leaf('kvm_sched_yield', vcpu.t, 'void', `to APIC ID ${destId}: single_task_running(), no yield`);
}
