// The host the VM runs on, in virtual time: one thread per vCPU, each on its own physical CPU, issuing
// KVM_RUN; the hrtimers of the LAPIC timers; interrupts between pCPUs; and the scheduler that
// interleaves the threads deterministically.
//
// Time is per thread (vcpu.clock, in cycles). The scheduler always continues the thread whose slice is
// in progress, else processes the earliest due event (a timer expiry, the end of a halt-poll window)
// if no runnable thread is behind it, else runs the runnable thread with the lowest clock (ties: lowest
// vCPU index). A running thread stops at the next event, at the op's deadline, and — while another
// thread is runnable too — at the next multiple of INTERLEAVE_QUANTUM_NS. Every decision depends only
// on the state, so pausing (a cycle budget, a stop at an instruction, exit or return) and resuming
// gives the same run as not pausing: that is what makes Step back by replay exact.
import * as abi from '../../../wasm/src/abi';
import type { VcpuActivity } from '../trace/events';
import { INTERLEAVE_QUANTUM_NS, KVM_RUN_IOCTL_CYCLES, SCHED_WAKEUP_NS } from './costs';
import { OUTSIDE_GUEST_MODE, type HostOps, type Kvm, type KvmVcpu } from './kvm_host';
import { LOCAL_TIMER_VECTOR, apicTimerFn } from './lapic';
import { SUSPEND, kvmArchVcpuIoctlRun, kvmArchVcpuIoctlRunResume } from './x86';

export type WaitKind = 'polling' | 'blocked' | 'guest_halted';

/** The userspace thread that runs one vCPU, and the pCPU it runs on. */
export class VcpuThread {
  /** A KVM_RUN is in flight (started: its kvm_arch_vcpu_ioctl_run has begun and now waits or runs on). */
  inKvmRun = false;
  started = false;
  waiting: WaitKind | null = null;
  waitUntil = Infinity;
  haltStart = 0;
  /** An interrupt for this pCPU: raised at `irqAt` (cycles) with `irqVector`. */
  irqAt = Infinity;
  irqVector = 0;
  signal = false;
  activity: VcpuActivity = 'userspace';
  /** When the current KVM_RUN was issued (cycles). */
  runStart = 0;
  /** The clock at the last VM entry: an interrupt that arrived before it found the CPU in root mode. */
  enteredAt = 0;
  /** End of the current interleaving slice (cycles). */
  sliceEnd = 0;
  constructor(readonly vcpu: KvmVcpu) {}
  get runnable(): boolean { return this.inKvmRun && this.waiting === null; }
}

/** Where to stop besides the run's own end: a guest instruction, a VM exit or a KVM_RUN return (of one vCPU, or any). */
export interface StopRequest {
  kind: 'insn' | 'exit' | 'run_return';
  vcpu?: number;
}

export type RunStatus =
  | 'done' // the caller's condition became true
  | 'deadline' // every thread reached the deadline or waits past it
  | 'stopped' // a StopRequest matched (see `stoppedAt`)
  | 'budget'; // the cycle budget of this call ran out

export class Host implements HostOps {
  readonly threads: VcpuThread[] = [];
  /** The thread whose slice is in progress (it continues before anything else is decided). */
  private current: VcpuThread | null = null;
  private deadline = 0;
  private budgetEnd = Infinity;
  private stop: StopRequest | null = null;
  private stopHit = false;
  /** budget() returned 0 because of the cycle budget (a pause), not the end of a slice. */
  private paused = false;
  private quantum: number;
  private wakeupCycles: number;
  /** Where the last 'stopped' run stopped. */
  stoppedAt: { kind: StopRequest['kind']; vcpu: number } | null = null;
  /** How many threads sit in the HLT/MWAIT state in guest mode (only they need the monitor check). */
  private haltedInGuest = 0;
  /** The vCPU whose pCPU is executing kernel code right now (kvm_running_vcpu), or null (the program's thread). */
  private running: KvmVcpu | null = null;
  /**
   * Rebuilds the threads (none inside KVM_RUN) after a snapshot was restored. A vCPU's thread object
   * stays the same one, like the kernel objects (sim/snapshot.ts): fresh objects each restore are what
   * the exit path would then look up, at new addresses.
   */
  restoreThreads(saved: readonly Record<string, unknown>[]): void {
    const old = this.threads.slice();
    this.threads.length = 0;
    this.current = null;
    this.running = null;
    this.haltedInGuest = 0;
    this.kvm.vcpus.forEach((vcpu, i) => {
      const kept = old[vcpu.vcpu_idx];
      const th = kept?.vcpu === vcpu ? Object.assign(kept, new VcpuThread(vcpu)) : new VcpuThread(vcpu);
      Object.assign(th, saved[i]);
      this.threads[vcpu.vcpu_idx] = th;
    });
  }

  /** Called when a KVM_RUN returns, with its result; the caller may issue the next one. */
  onRunReturn: (thread: VcpuThread, r: number) => void = () => {};

  constructor(readonly kvm: Kvm) {
    kvm.host = this;
    this.quantum = kvm.cycles(INTERLEAVE_QUANTUM_NS);
    this.wakeupCycles = kvm.cycles(SCHED_WAKEUP_NS);
  }

  adopt(vcpu: KvmVcpu): VcpuThread {
    const t = new VcpuThread(vcpu);
    this.threads[vcpu.vcpu_idx] = t;
    return t;
  }
  thread(vcpu: KvmVcpu): VcpuThread {
    return this.threads[vcpu.vcpu_idx];
  }

  /** Issues KVM_RUN on the vCPU's thread at time `t` (cycles). */
  startKvmRun(vcpu: KvmVcpu, t: number): void {
    const th = this.thread(vcpu);
    if (th.inKvmRun) throw new Error(`vcpu${vcpu.vcpu_id} is already inside KVM_RUN`);
    vcpu.clock = Math.max(vcpu.clock, t) + KVM_RUN_IOCTL_CYCLES / 2;
    th.runStart = vcpu.clock;
    th.inKvmRun = true;
    th.started = false; // kvm_arch_vcpu_ioctl_run begins when the scheduler first runs the thread
    this.activity(vcpu, 'kvm');
  }

  /** A signal to the vCPU thread (pthread_kill): a waiting thread wakes, one in guest mode is interrupted. */
  signalThread(vcpu: KvmVcpu, t: number): void {
    const th = this.thread(vcpu);
    th.signal = true;
    if (th.waiting === 'blocked' || th.waiting === 'polling') this.resume(th, t, th.waiting === 'blocked');
    else if (th.inKvmRun) this.interruptCpu(vcpu, t, 0xfd);
  }

  /**
   * Runs the threads inside KVM_RUN until `until()` holds, every thread reached `deadline` (cycles), a
   * stop request matched, or the global time passed `budgetEnd`.
   */
  runUntil(o: { deadline: number; budgetEnd?: number; stop?: StopRequest | null; until: () => boolean }): RunStatus {
    this.deadline = o.deadline;
    this.budgetEnd = o.budgetEnd ?? Infinity;
    this.stop = o.stop ?? null;
    this.stoppedAt = null;
    for (;;) {
      if (o.until()) return 'done';
      let th = this.current;
      if (!th) {
        const r = this.minRunnable();
        const e = this.nextEvent();
        const tr = r ? r.vcpu.clock : Infinity;
        if (e <= tr) {
          if (e > this.deadline) return 'deadline';
          if (e > this.budgetEnd) return 'budget';
          this.fire(e);
          continue;
        }
        if (!r || tr >= this.deadline) return 'deadline';
        if (tr >= this.budgetEnd) return 'budget';
        th = this.current = r;
        th.sliceEnd = (Math.floor(tr / this.quantum) + 1) * this.quantum;
      }
      this.stopHit = false;
      this.paused = false;
      this.running = th.vcpu;
      let r: number;
      if (th.started) r = kvmArchVcpuIoctlRunResume(th.vcpu);
      else {
        th.started = true;
        r = kvmArchVcpuIoctlRun(th.vcpu);
      }
      this.running = null;
      if (r !== SUSPEND) {
        this.current = null;
        this.finishRun(th, r);
        if (this.stopsAtReturn(th.vcpu)) {
          this.stoppedAt = { kind: 'run_return', vcpu: th.vcpu.vcpu_id };
          return 'stopped';
        }
        continue;
      }
      if (this.stopHit) return 'stopped';
      if (this.paused && !th.waiting) return 'budget';
      this.current = null; // it waits, or its slice is over
    }
  }

  /** The lowest clock among runnable threads (Infinity when none runs). */
  get minClock(): number {
    return this.minRunnable()?.vcpu.clock ?? Infinity;
  }

  private finishRun(th: VcpuThread, r: number): void {
    const vcpu = th.vcpu;
    th.inKvmRun = false;
    th.waiting = null;
    vcpu.clock += KVM_RUN_IOCTL_CYCLES / 2;
    if (r === -4) th.signal = false; // the signal handler ran on the way out
    this.activity(vcpu, 'userspace');
    const ev = this.kvm.events;
    if (ev.enabled) ev.userspaceExit(vcpu.clock, vcpu.vcpu_id, vcpu.run.exit_reason, r < 0 ? -r : 0);
    this.onRunReturn(th, r);
  }

  /** The current stop request is for a KVM_RUN return of `vcpu` (asked while the return is being reported). */
  stopsAtReturn(vcpu: KvmVcpu): boolean {
    return this.stop?.kind === 'run_return' && this.matches(vcpu);
  }

  private matches(vcpu: KvmVcpu): boolean {
    return this.stop !== null && (this.stop.vcpu === undefined || this.stop.vcpu === vcpu.vcpu_id);
  }

  private minRunnable(): VcpuThread | null {
    let best: VcpuThread | null = null;
    const threads = this.threads;
    for (let i = 0; i < threads.length; i++) {
      const th = threads[i];
      if (th && th.runnable && (!best || th.vcpu.clock < best.vcpu.clock)) best = th;
    }
    return best;
  }

  /** True while `th` is still the runnable thread that should go next (lowest clock, then index). */
  private isCurrentMin(th: VcpuThread): boolean {
    const c = th.vcpu.clock;
    const threads = this.threads;
    for (let i = 0; i < threads.length; i++) {
      const o = threads[i];
      if (!o || o === th || !o.runnable) continue;
      const oc = o.vcpu.clock;
      if (oc < c || (oc === c && o.vcpu.vcpu_idx < th.vcpu.vcpu_idx)) return false;
    }
    return true;
  }

  private othersRunnable(th: VcpuThread): boolean {
    const threads = this.threads;
    for (let i = 0; i < threads.length; i++) {
      const o = threads[i];
      if (o && o !== th && o.runnable) return true;
    }
    return false;
  }

  /** The time of the earliest event: an armed LAPIC hrtimer, or the end of a thread's wait. */
  private nextEvent(): number {
    let t = Infinity;
    const vcpus = this.kvm.vcpus;
    for (let i = 0; i < vcpus.length; i++) {
      const apic = vcpus[i].apic;
      if (apic !== null && apic.lapic_timer.expires < t) t = apic.lapic_timer.expires;
      const th = this.threads[i];
      if (th.waiting !== null && th.waitUntil < t) t = th.waitUntil;
    }
    return t;
  }

  /**
   * Processes every event due at `t`: LAPIC hrtimers first (by vCPU), then wait ends. A timer fires on
   * its vCPU's pCPU: if that CPU is in guest mode the interrupt itself makes it exit, then the callback
   * runs there.
   */
  private fire(t: number): void {
    const was = this.running;
    const vcpus = this.kvm.vcpus;
    for (let i = 0; i < vcpus.length; i++) {
      const vcpu = vcpus[i], apic = vcpu.apic;
      if (!apic || apic.lapic_timer.expires !== t) continue;
      if (vcpu.mode !== OUTSIDE_GUEST_MODE) this.interruptCpu(vcpu, t, LOCAL_TIMER_VECTOR);
      this.running = vcpu;
      apicTimerFn(apic, t);
    }
    this.running = was;
    const threads = this.threads;
    for (let i = 0; i < threads.length; i++) {
      const th = threads[i];
      if (th && th.waiting && th.waitUntil === t) this.resume(th, t, false);
    }
  }

  /** Makes a waiting thread runnable at `t`; a thread that slept pays the scheduler wake-up. */
  private resume(th: VcpuThread, t: number, slept: boolean): void {
    const vcpu = th.vcpu;
    if (th.waiting === 'guest_halted') this.leaveGuestHalt(th, t);
    th.waiting = null;
    th.waitUntil = Infinity;
    vcpu.clock = Math.max(vcpu.clock, t) + (slept ? this.wakeupCycles : 0);
    if (slept) this.activity(vcpu, 'kvm');
  }

  /** The end of a halt in guest mode: the pCPU sat in the HLT/MWAIT state, C1 residency (not APERF/MPERF). */
  private leaveGuestHalt(th: VcpuThread, t: number): void {
    this.haltedInGuest--;
    const core = th.vcpu.core, id = th.vcpu.vcpu_idx;
    core.setU64(id, abi.S_MSR_C1_RES, core.u64(id, abi.S_MSR_C1_RES) + BigInt(Math.max(0, Math.round(t - th.haltStart))));
  }

  // ---- HostOps ----

  wakeUp(vcpu: KvmVcpu, t: number): boolean {
    const th = this.thread(vcpu);
    if (th.waiting === 'blocked') {
      this.resume(th, t, true);
      return true;
    }
    // A poller is not on a wait queue, but it re-checks continuously: let it look now.
    if (th.waiting === 'polling') this.resume(th, t, false);
    return false;
  }

  onCpuOf(vcpu: KvmVcpu): boolean {
    return this.running === vcpu;
  }

  interruptCpu(vcpu: KvmVcpu, t: number, vector: number): void {
    const th = this.thread(vcpu);
    if (t < th.irqAt) {
      th.irqAt = t;
      th.irqVector = vector;
    }
    if (th.waiting === 'guest_halted') this.resume(th, t, false);
  }

  wait(vcpu: KvmVcpu, until: number, kind: WaitKind): boolean {
    const th = this.thread(vcpu);
    th.waiting = kind;
    th.waitUntil = until;
    if (kind === 'guest_halted') {
      th.haltStart = vcpu.clock;
      this.haltedInGuest++;
    }
    this.activity(vcpu, kind);
    // Run the events that end the wait here, exactly as the scheduler loop would: each one only while
    // no runnable thread is behind it; afterwards the thread goes on only if the loop would pick it.
    while (th.waiting) {
      const e = this.nextEvent();
      if (e > this.deadline || e > this.budgetEnd) return false;
      const r = this.minRunnable();
      if (r && r.vcpu.clock < e) return false;
      this.fire(e);
    }
    if (!this.isCurrentMin(th)) return false;
    th.sliceEnd = (Math.floor(vcpu.clock / this.quantum) + 1) * this.quantum;
    return true;
  }

  guestEnter(vcpu: KvmVcpu): void {
    const th = this.thread(vcpu);
    th.enteredAt = vcpu.clock;
    // An interrupt that arrived while the CPU was in root mode was handled by the host: no exit.
    if (th.irqAt < th.enteredAt) th.irqAt = Infinity;
  }

  budget(vcpu: KvmVcpu): number {
    const th = this.thread(vcpu);
    for (;;) {
      const c = vcpu.clock;
      if (this.haltedInGuest) this.checkMonitors(c);
      if (th.irqAt <= c) {
        this.kvm.hw.w32(vcpu.vcpu_idx, abi.S_HOST_IRQ, th.irqVector);
        th.irqAt = Infinity;
      }
      const e = this.nextEvent();
      if (e <= c) {
        // A due event is processed here, as the loop would, when no runnable thread is behind it.
        if (!this.isCurrentMin(th)) return 0;
        if (e > this.budgetEnd) { this.paused = true; return 0; }
        this.fire(e);
        continue;
      }
      if (c >= this.deadline) return 0;
      const others = this.othersRunnable(th);
      if (others && c >= th.sliceEnd) return 0;
      if (c >= this.budgetEnd) { this.paused = true; return 0; }
      let h = e < th.irqAt ? e : th.irqAt;
      if (this.deadline < h) h = this.deadline;
      if (this.budgetEnd < h) h = this.budgetEnd;
      if (others && th.sliceEnd < h) h = th.sliceEnd;
      return h - c;
    }
  }

  /** A write by any vCPU to a line another vCPU MWAITs on ends that wait (the core marks it ACTIVE). */
  private checkMonitors(t: number): void {
    for (const th of this.threads) {
      if (th && th.waiting === 'guest_halted' && this.kvm.hw.r32(th.vcpu.vcpu_idx, abi.S_ACTIVITY) === abi.ACTIVITY_ACTIVE) {
        this.resume(th, t, false);
      }
    }
  }

  singleStep(vcpu: KvmVcpu): boolean {
    return this.stop?.kind === 'insn' && this.matches(vcpu);
  }

  signalPending(vcpu: KvmVcpu): boolean {
    return this.thread(vcpu).signal;
  }

  stopPoint(vcpu: KvmVcpu, what: 'exit' | 'insn'): boolean {
    if (this.stop?.kind !== what || !this.matches(vcpu)) return false;
    this.stopHit = true;
    this.stoppedAt = { kind: what, vcpu: vcpu.vcpu_id };
    return true;
  }

  activity(vcpu: KvmVcpu, activity: VcpuActivity): void {
    if (!this.setActivity(vcpu, activity)) return;
    const ev = this.kvm.events;
    if (ev.enabled) ev.activity(vcpu.clock, vcpu.vcpu_id, activity);
  }

  setActivity(vcpu: KvmVcpu, activity: VcpuActivity): boolean {
    const th = this.thread(vcpu);
    if (th.activity === activity) return false;
    th.activity = activity;
    return true;
  }
}
