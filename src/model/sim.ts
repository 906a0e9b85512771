// The Simulator: a scenario's userspace program run against the kernel model, one operation at a
// time, producing the exitscope-result/1 document (spec/scenario-format.md) and the event stream.
//
// Time-taking operations (`run`, `run_threads`, and a vCPU ioctl that must wait for vcpu->mutex) can be
// advanced in bounded slices and stopped at the next guest instruction, VM exit, KVM_RUN return or
// operation (`advance`); the whole simulator is deterministic and pausing never changes what happens,
// so a position is reproduced by replaying the same calls (see `snapshot`/`restore` for op boundaries).
//
// Userspace semantics the format leaves open, decided here:
// - fds: the VM is fd 4 and vCPUs get 5, 6, … in creation order (a fresh process: 0-2 stdio, 3 /dev/kvm).
// - create_vcpu does what the selftest library's vm_vcpu_add() does after KVM_CREATE_VCPU: the
//   registers of the guest environment (RIP = entry, RSP = top of RAM − id × 64 KiB, RDI = id, plus
//   the op's `regs`) and KVM_SET_MP_STATE(RUNNABLE).
// - A `run` that reaches its timeout leaves its thread inside KVM_RUN, running on in virtual time while
//   later operations advance it. A later `run` on that vCPU waits for that same KVM_RUN; any other
//   vCPU ioctl on it waits for vcpu->mutex (and reports `blocked` if the KVM_RUN never returns).
// - `stats` is a read() of the vCPU's binary-stats fd, which the program got with KVM_GET_STATS_FD
//   right after creating the vCPU (its fd number is not modelled). Reading that file
//   (kvm_vcpu_stats_read → kvm_stats_read) copies vcpu->stat without taking vcpu->mutex, so it
//   answers at once while the thread is inside KVM_RUN. Its `ret` is 0: the model keeps no binary
//   layout, so there is no byte count to report.
// - `run` with `io_data` / `mmio_data` (an extension of the format): before issuing KVM_RUN the
//   program writes the bytes at run->io.data_offset or into run->mmio.data, as a VMM completing an IN
//   or an MMIO read does. It does so only when the run structure holds that exit (exit_reason
//   KVM_EXIT_IO / KVM_EXIT_MMIO) and the thread is not still inside an earlier KVM_RUN; otherwise
//   the operation is refused (ret null, `reason`) and no KVM_RUN is issued.
// - run_threads: each thread re-issues KVM_RUN after every return until `for_ns` has passed, except
//   after KVM_EXIT_SHUTDOWN, KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_FAIL_ENTRY or an error other than EINTR.
//   When `advance` stops at such a return of that thread (until 'run_return'), the thread is left in
//   userspace there, between its two KVM_RUNs, as a VMM's vCPU thread runs its own code: a vCPU ioctl
//   made at the stop goes through and affects the next KVM_RUN, which the next `advance` issues first,
//   at the same virtual time (so a run that is stopped this way gives the same trace as one that is not).
import * as abi from '../../wasm/src/abi';
import type { Core, RegName } from './cpu/core';
import { guestCode } from './scenario/guest';
import type { Fd, Op, Scenario } from './scenario/types';
import { DEFAULT_RUN_TIMEOUT_NS } from './scenario/types';
import { IOCTL } from './scenario/schema';
import type { TraceEvent } from './trace/events';
import { FrameRecorder } from './kvm/frames';
import type { Host, StopRequest, VcpuThread } from './kvm/host';
import {
  kvmArchVcpuIoctlGetMpstate, kvmArchVcpuIoctlSetGuestDebug, kvmArchVcpuIoctlSetMpstate, kvmArchVcpuIoctlSetRegs,
  kvmCreateVm, kvmVcpuIoctlEnableCap, kvmVcpuIoctlInterrupt, kvmVmIoctlCheckExtension, kvmVmIoctlCreateVcpu,
  kvmVmIoctlEnableCap,
} from './kvm/kvm';
import type { Kvm, KvmVcpu } from './kvm/kvm_host';
import { EventLog, type EventKeeping, type LogMark } from './trace/log';
import {
  ERRNO, EBADF, EINTR, KVM_CAP, KVM_EXIT, KVM_EXIT_FAIL_ENTRY, KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_IO, KVM_EXIT_MMIO,
  KVM_EXIT_SHUTDOWN, KVM_GUESTDBG, KVM_RUN as KVM_RUN_LAYOUT,
  KVM_MP_STATE_RUNNABLE, KVM_X86_DISABLE_EXITS,
} from './kvm/uapi';
import { kernelVariant } from './kvm/variant';
import { matchExpect } from './sim/expect';
import type { ResultDoc, StepResult } from './sim/result';
import { firstNote, mpStateName, regsView, runReturn, runSection, vcpuSummary, vmFlagsView } from './sim/result';
import { captureSnapshot, restoreSnapshot, type Snapshot } from './sim/snapshot';
import { inspectVcpu, inspectVm, type VcpuInspect, type VmInspect } from './sim/inspect';

export type { ResultDoc, StepResult } from './sim/result';
export type { Snapshot } from './sim/snapshot';
export type { VcpuInspect, VmInspect } from './sim/inspect';

export interface SimOptions {
  /** Record the kernel frames of every ioctl (default true). Off, the fast path builds no frames at all. */
  frames?: boolean;
  /** Keep the event stream in `events` (default true). */
  events?: boolean;
  /** How the event log keeps it (default 'objects'; the worker's 'records' reads it with `log.read`: see trace/log.ts). */
  keeping?: EventKeeping;
}

export interface AdvanceOptions {
  /** Stop at the next guest instruction, VM exit or KVM_RUN return (of `vcpu`, or of any vCPU), or at the end of the operation (default). */
  until?: 'insn' | 'exit' | 'run_return' | 'op';
  /** vCPU id the stop applies to; any vCPU when absent. */
  vcpu?: number;
  /** Virtual cycles this call may advance before it returns with `stopped: 'budget'` (default: no limit). */
  maxCycles?: number;
}

export interface AdvanceResult {
  stopped: 'insn' | 'exit' | 'run_return' | 'op' | 'budget' | 'done';
  vcpu?: number;
  /** The operation's result, when one completed. */
  step?: StepResult;
}

/** The first vCPU fd number (see the header). */
const FIRST_VCPU_FD = 5;
/** The stack of vCPU n starts this far below the top of RAM (per vCPU). */
const STACK_STRIDE = 64 * 1024;
/** The vCPU ioctls that take vcpu->mutex (all but KVM_RUN, which the thread itself is in). */
type MutexOp = Exclude<Op, { op: 'check_extension' | 'create_vcpu' | 'run' | 'run_threads' | 'stats' }>;
const FATAL_EXITS = new Set<number>([KVM_EXIT_SHUTDOWN, KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_FAIL_ENTRY]);

interface Pending {
  index: number | null;
  op: Op;
  deadline: number;
  /** run: the thread and how many KVM_RUNs it had completed when the op began. */
  thread?: VcpuThread;
  returnsAtStart?: number;
  /** run_threads: per fd, exits to userspace by name. */
  counts?: Map<string, Record<string, number>>;
  until: () => boolean;
  finish: (timedOut: boolean) => StepResult;
}

export class Simulator {
  private readonly kvm: Kvm;
  private readonly host: Host;
  /** The event stream (for a reader of a log that keeps records). */
  readonly log: EventLog;
  private readonly framesOn: boolean;
  private readonly steps: StepResult[] = [];
  private pending: Pending | null = null;
  private nextIndex = 0;
  /** The program's own clock (the main thread), in cycles. */
  private nowCycles = 0;
  private seq = 0;
  private checked = 0;
  private failed = 0;
  private readonly fds = new Map<string, number>();
  /** Completed KVM_RUNs per vCPU index, and the frames of the last one. */
  private readonly returns: number[] = [];
  private readonly lastFrames: (FrameRecorder | null)[] = [];
  private readonly looping = new Map<number, Pending>();
  /** A run_threads thread stopped at its KVM_RUN return, whose next KVM_RUN the next `advance` issues. */
  private reissue: KvmVcpu | null = null;
  private entry = 0;

  private constructor(readonly core: Core, readonly scenario: Scenario, opts: SimOptions) {
    this.framesOn = opts.frames ?? true;
    const h = scenario.host;
    this.log = new EventLog(opts.events ?? true, h.ghz, undefined, opts.keeping);
    const variant = kernelVariant(scenario.kernel, scenario.patches);
    core.init(scenario.vm.memory, abi.MAX_VCPUS);
    this.kvm = kvmCreateVm(variant, {
      canMwait: h.mwait, mitigateSmtRsb: h.smt_rsb, aperfmperf: true, halt_poll_ns: h.halt_poll_ns,
      ghz: h.ghz, exit_cycles: h.exit_cycles, pcpus: h.pcpus,
    }, core, scenario.vm.irqchip === 'kernel', this.log);
    this.host = this.kvm.host as Host;
    this.host.onRunReturn = (th, r) => this.onRunReturn(th, r);
  }

  /** Loads the guest code (assembling `guest.asm`) into a fresh core. Throws with the assembler's messages on bad code. */
  static async create(core: Core, scenario: Scenario, opts: SimOptions = {}): Promise<Simulator> {
    const code = await guestCode(scenario.guest, scenario.vm.memory);
    if (!code.ok) throw new Error(code.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
    const sim = new Simulator(core, scenario, opts);
    core.writeMem(code.org, code.bytes);
    sim.entry = code.entry;
    return sim;
  }

  /**
   * Every event so far, in order. The exit path records them compactly; reading this makes the
   * objects (kept, the same array, when the log keeps objects; a new array each time when it keeps
   * records).
   */
  get events(): TraceEvent[] {
    return this.log.keeping === 'objects' ? this.log.list : this.log.read(0).events;
  }

  /** Index of the next program operation. */
  get next(): number {
    return this.nextIndex;
  }
  /** The whole program has run (and no operation is in progress). */
  get done(): boolean {
    return this.nextIndex >= this.scenario.program.length && !this.pending;
  }
  /** Virtual time of the program, in ns. */
  get now(): number {
    return this.kvm.ns(this.nowCycles);
  }
  /** The operation in progress (a run being advanced), if any. */
  get inProgress(): { index: number | null; op: Op } | null {
    return this.pending && { index: this.pending.index, op: this.pending.op };
  }

  /** Executes the next program operation entirely; its result. */
  step(): StepResult {
    if (this.done) throw new Error('the program has run to its end');
    for (;;) {
      const r = this.advance({ until: 'op' });
      if (r.step) return r.step;
    }
  }

  /** The rest of the program; the whole document. */
  runAll(): ResultDoc {
    while (!this.done) this.step();
    return this.result();
  }

  /** The document for what has run so far. */
  result(): ResultDoc {
    const v = this.kvm.variant;
    const doc: ResultDoc = {
      format: 'exitscope-result/1',
      kernel: v.kernel,
      ...(v.kernel === 'rfc-v4' ? { patches: v.patches } : {}),
      steps: this.steps.slice(),
      vm: { disabled_exits: vmFlagsView(this.kvm) },
      vcpus: this.kvm.vcpus.map(vcpuSummary),
      expectations: { checked: this.checked, failed: this.failed },
    };
    return doc;
  }

  /**
   * An operation that is not in the program (the lab's checkboxes), through the same kernel path. A
   * vCPU ioctl on a vCPU whose thread is inside KVM_RUN is not carried out (`blocked`: it would wait for
   * vcpu->mutex). `run`/`run_threads` are run to their end.
   */
  ioctl(op: Op): StepResult {
    const timed = op.op === 'run' || op.op === 'run_threads';
    if (this.pending && timed) throw new Error('an operation is in progress: advance it first');
    if (!timed && op.op !== 'stats' && 'fd' in op && this.threadOf(op.fd)?.inKvmRun) return this.record(this.blockedResult(null, op), op);
    const started = this.start(op, null);
    if (!('until' in started)) return this.record(started, op);
    const saved = this.pending;
    this.pending = started;
    try {
      for (;;) {
        const status = this.host.runUntil({ deadline: started.deadline, until: started.until });
        if (status === 'done' || status === 'deadline') return this.record(started.finish(status === 'deadline'), op);
      }
    } finally {
      this.pending = saved;
    }
  }

  /**
   * Advances the simulation, starting the next program operation if none is in progress, until the
   * stop asked for, the end of the operation, or `maxCycles` of virtual time. Call it in a loop to run
   * with bounded latency; pausing never changes the outcome.
   */
  advance(o: AdvanceOptions = {}): AdvanceResult {
    if (!this.pending) {
      if (this.nextIndex >= this.scenario.program.length) return { stopped: 'done' };
      const index = this.nextIndex++;
      const op = this.scenario.program[index];
      const started = this.start(op, index);
      if (!('until' in started)) return { stopped: 'op', step: this.record(started, op) };
      this.pending = started;
    }
    const p = this.pending;
    if (this.reissue) {
      const vcpu = this.reissue;
      this.reissue = null;
      this.issueKvmRun(vcpu, vcpu.clock);
    }
    const stop: StopRequest | null = o.until && o.until !== 'op' ? { kind: o.until, vcpu: o.vcpu } : null;
    const base = Math.max(this.nowCycles, Math.min(this.host.minClock, p.deadline));
    const status = this.host.runUntil({
      deadline: p.deadline,
      budgetEnd: o.maxCycles === undefined ? Infinity : base + o.maxCycles,
      stop,
      until: p.until,
    });
    if (status === 'stopped') return { stopped: this.host.stoppedAt!.kind, vcpu: this.host.stoppedAt!.vcpu };
    if (status === 'budget') return { stopped: 'budget' };
    this.pending = null;
    return { stopped: 'op', step: this.record(p.finish(status === 'deadline'), p.op) };
  }

  /** Sends a signal to the vCPU's thread (what a VMM does with pthread_kill to get it out of KVM_RUN). */
  kick(fd: Fd): void {
    const vcpu = this.vcpuOf(fd);
    if (vcpu) this.host.signalThread(vcpu, Math.max(this.nowCycles, vcpu.clock));
  }

  /** The VM as the lab shows it. */
  inspectVm(): VmInspect {
    return inspectVm(this.kvm);
  }
  /** Every vCPU as the lab shows it. */
  inspectVcpus(): VcpuInspect[] {
    return this.kvm.vcpus.map((v) => inspectVcpu(v, this.host.thread(v), this.lastFrames[v.vcpu_idx]?.roots ?? []));
  }
  /** Guest memory (a copy), for disassembly and memory views. */
  readGuest(gpa: number, len: number): Uint8Array {
    return this.core.readMem(gpa, len);
  }

  /**
   * The state at an operation boundary, when no thread is inside KVM_RUN (else null): restoring it
   * into a Simulator created from the same scenario continues exactly as this one would.
   */
  snapshot(): Snapshot | null {
    if (this.pending || this.host.threads.some((t) => t?.inKvmRun)) return null;
    return captureSnapshot(this.core, this.kvm, this.simState());
  }
  /**
   * Puts a snapshot back. Into the Simulator it came from, the kernel objects keep their identity and
   * V8 layout, so the run after it is as fast as before; into another one they are fresh copies
   * (correct, but about half as fast at the exit path: other hidden classes).
   */
  restore(s: Snapshot): void {
    const { logMark, stepsCopy, ...fields } = restoreSnapshot(this.core, this.kvm, s);
    Object.assign(this, fields);
    this.pending = null;
    this.looping.clear();
    this.reissue = null;
    this.log.restore(logMark as LogMark);
    // Element by element: a spread of a long history overflows the call stack.
    replaceAll(this.steps, stepsCopy as StepResult[]);
  }

  private simState() {
    return {
      nextIndex: this.nextIndex, nowCycles: this.nowCycles, seq: this.seq, checked: this.checked, failed: this.failed,
      fds: this.fds, returns: this.returns, lastRet: this.lastRet, lastFrames: this.lastFrames,
      logMark: this.log.mark(), stepsCopy: this.steps,
    };
  }

  // ---- operations ----

  private vcpuOf(fd: Fd | string): KvmVcpu | undefined {
    if (!fd.startsWith('vcpu')) return undefined;
    return this.kvm.vcpuById(Number(fd.slice(4)));
  }
  private threadOf(fd: Fd | string): VcpuThread | undefined {
    const v = this.vcpuOf(fd);
    return v && this.host.thread(v);
  }

  private recorder(): FrameRecorder | null {
    return this.framesOn ? new FrameRecorder(this.kvm.variant) : null;
  }

  private base(index: number | null, op: Op, ret: number, extra: Partial<StepResult> = {}, rec: FrameRecorder | null = null): StepResult {
    const r: StepResult = { index, op: op.op, t_ns: this.now, ret: ret < 0 ? -1 : ret, errno: ret < 0 ? ERRNO.name(-ret) ?? String(-ret) : null };
    if ('fd' in op) r.fd = op.fd;
    if (rec && rec.roots.length) {
      r.frames = rec.roots;
      if (ret < 0) {
        const why = firstNote(rec.roots);
        if (why) r.reason = why;
      }
    }
    return Object.assign(r, extra);
  }

  private blockedResult(index: number | null, op: Op): StepResult {
    return {
      index, op: op.op, fd: 'fd' in op ? op.fd : undefined, t_ns: this.now, ret: null, errno: null, blocked: true,
      reason: `${IOCTL[op.op]} waits for vcpu->mutex, which the vCPU thread holds inside KVM_RUN`,
    };
  }

  /** read() of the vCPU's stats fd: no vcpu->mutex, so it answers whether or not the thread is inside KVM_RUN. */
  private readStats(op: Extract<Op, { op: 'stats' }>, index: number | null, vcpu: KvmVcpu): StepResult {
    const rec = this.recorder();
    if (rec) {
      rec.enter('kvm_vcpu_stats_read', this.now);
      rec.leaf('kvm_stats_read', this.now, 0, 'copies vcpu->stat to userspace; vcpu->mutex is not taken');
      rec.leave(0, this.threadOf(op.fd)?.inKvmRun ? 'the vCPU thread is inside KVM_RUN: read anyway' : undefined);
    }
    this.emitIoctl(op.fd, 'read', { file: `kvm-vcpu-stats:${vcpu.vcpu_id}` }, 0);
    return this.base(index, op, 0, { stats: { ...vcpu.stat } }, rec);
  }

  private emitIoctl(fd: string, ioctl: string, args: Record<string, unknown>, ret: number, run?: KvmVcpu): void {
    this.seq++;
    if (!this.log.enabled) return;
    const e: TraceEvent = { kind: 'ioctl', t: this.now, seq: this.seq, fd, ioctl, args, ret: ret < 0 ? -1 : ret, errno: ret < 0 ? ERRNO.name(-ret) ?? String(-ret) : null };
    if (run) e.run = runReturn(run);
    this.log.emit(e);
  }

  /** Adds the result to the document, checking its `expect`. */
  private record(r: StepResult, op: Op): StepResult {
    if (op.expect) {
      this.checked++;
      const mismatches = matchExpect(op.expect, r);
      if (mismatches.length) {
        this.failed++;
        r.expect = { mismatches };
      } else r.expect = 'met';
    }
    this.steps.push(r);
    return r;
  }

  /** Starts an operation: instantaneous ones complete here; time-taking ones return their Pending. */
  private start(op: Op, index: number | null): StepResult | Pending {
    const kvm = this.kvm;
    const t = this.nowCycles;
    if (op.op === 'check_extension') {
      const ret = kvmVmIoctlCheckExtension(kvm, op.cap);
      this.emitIoctl('vm', 'KVM_CHECK_EXTENSION', { cap: KVM_CAP.name(op.cap) ?? op.cap }, ret);
      return this.base(index, op, ret);
    }
    if (op.op === 'create_vcpu') return this.createVcpu(op, index);
    if (op.op === 'enable_cap' && op.fd === 'vm') {
      const rec = this.recorder();
      kvm.rec = rec;
      if (rec) rec.enter('kvm_vm_ioctl_enable_cap', this.now, { cap: KVM_CAP.name(op.cap) ?? op.cap, args0: '0x' + op.args.toString(16) });
      const ret = kvmVmIoctlEnableCap(kvm, op.cap, [op.args, ...op.args_more], op.flags, t);
      if (rec) rec.leave(ret);
      kvm.rec = null;
      this.emitIoctl('vm', 'KVM_ENABLE_CAP', this.capArgs(op), ret);
      return this.base(index, op, ret, {}, rec);
    }
    if (op.op === 'run_threads') return this.startRunThreads(op, index);
    const vcpu = this.vcpuOf(op.fd);
    if (!vcpu) return this.base(index, op, -EBADF, { reason: `${op.fd} is not an open vCPU fd` });
    const th = this.host.thread(vcpu);
    if (op.op === 'run') return this.startRun(op, index, vcpu);
    if (op.op === 'stats') return this.readStats(op, index, vcpu);
    if (th.inKvmRun) return this.waitMutex(op, index, th);
    return this.vcpuIoctl(op, index, vcpu);
  }

  private capArgs(op: Extract<Op, { op: 'enable_cap' }>): Record<string, unknown> {
    const names = op.cap === KVM_CAP.value('X86_DISABLE_EXITS') ? KVM_X86_DISABLE_EXITS.flagNames(op.args) : ['0x' + op.args.toString(16)];
    return { cap: KVM_CAP.name(op.cap) ?? op.cap, args: names, flags: op.flags };
  }

  private createVcpu(op: Extract<Op, { op: 'create_vcpu' }>, index: number | null): StepResult {
    const kvm = this.kvm;
    const rec = this.recorder();
    kvm.rec = rec;
    if (rec) rec.enter('kvm_vm_ioctl_create_vcpu', this.now, { id: op.id });
    const made = kvmVmIoctlCreateVcpu(kvm, op.id, this.nowCycles);
    if (rec) rec.leave(typeof made === 'number' ? made : 0);
    kvm.rec = null;
    if (typeof made === 'number') {
      this.emitIoctl('vm', 'KVM_CREATE_VCPU', { id: op.id }, made);
      return this.base(index, op, made, {}, rec);
    }
    const vcpu = made;
    const fd = FIRST_VCPU_FD + this.fds.size;
    this.fds.set(`vcpu${op.id}`, fd);
    this.returns[vcpu.vcpu_idx] = 0;
    // What vm_vcpu_add() does next: the guest environment's registers and a RUNNABLE mp_state.
    vcpu.rec = rec;
    const regs: Partial<Record<RegName, bigint>> = {
      rip: BigInt(this.entry), rsp: BigInt(this.scenario.vm.memory - op.id * STACK_STRIDE), rdi: BigInt(op.id), ...op.regs,
    };
    if (rec) rec.enter('kvm_arch_vcpu_ioctl_set_regs', this.now);
    kvmArchVcpuIoctlSetRegs(vcpu, regs);
    if (rec) rec.leave(0);
    if (rec) rec.enter('kvm_arch_vcpu_ioctl_set_mpstate', this.now, { mp_state: 'KVM_MP_STATE_RUNNABLE' });
    if (rec) rec.leave(kvmArchVcpuIoctlSetMpstate(vcpu, KVM_MP_STATE_RUNNABLE));
    else kvmArchVcpuIoctlSetMpstate(vcpu, KVM_MP_STATE_RUNNABLE);
    vcpu.rec = null;
    this.emitIoctl('vm', 'KVM_CREATE_VCPU', { id: op.id }, fd);
    return this.base(index, op, fd, {}, rec);
  }

  /** A vCPU ioctl other than KVM_RUN, on a vCPU that is not inside KVM_RUN. */
  private vcpuIoctl(op: MutexOp, index: number | null, vcpu: KvmVcpu): StepResult {
    const rec = this.recorder();
    vcpu.rec = rec;
    vcpu.clock = Math.max(vcpu.clock, this.nowCycles);
    let r: StepResult;
    switch (op.op) {
      case 'enable_cap': {
        if (rec) rec.enter('kvm_vcpu_ioctl_enable_cap', this.now, { cap: KVM_CAP.name(op.cap) ?? op.cap, args0: '0x' + op.args.toString(16) });
        const ret = kvmVcpuIoctlEnableCap(vcpu, op.cap, [op.args, ...op.args_more], op.flags);
        if (rec) rec.leave(ret);
        this.emitIoctl(op.fd, 'KVM_ENABLE_CAP', this.capArgs(op), ret);
        r = this.base(index, op, ret, {}, rec);
        break;
      }
      case 'set_guest_debug': {
        if (rec) rec.enter('kvm_arch_vcpu_ioctl_set_guest_debug', this.now, { control: '0x' + op.control.toString(16) });
        const ret = kvmArchVcpuIoctlSetGuestDebug(vcpu, op.control);
        if (rec) rec.leave(ret);
        this.emitIoctl(op.fd, 'KVM_SET_GUEST_DEBUG', { control: KVM_GUESTDBG.flagNames(op.control) }, ret);
        r = this.base(index, op, ret, {}, rec);
        break;
      }
      case 'get_regs':
        this.emitIoctl(op.fd, 'KVM_GET_REGS', {}, 0);
        r = this.base(index, op, 0, { regs: regsView(vcpu) });
        break;
      case 'set_regs':
        if (rec) rec.enter('kvm_arch_vcpu_ioctl_set_regs', this.now);
        kvmArchVcpuIoctlSetRegs(vcpu, op.regs);
        if (rec) rec.leave(0);
        this.emitIoctl(op.fd, 'KVM_SET_REGS', Object.fromEntries(Object.entries(op.regs).map(([k, v]) => [k, '0x' + v!.toString(16)])), 0);
        r = this.base(index, op, 0, { regs: regsView(vcpu) }, rec);
        break;
      case 'get_mp_state': {
        const mp = mpStateName(kvmArchVcpuIoctlGetMpstate(vcpu), false);
        this.emitIoctl(op.fd, 'KVM_GET_MP_STATE', {}, 0);
        r = this.base(index, op, 0, { mp_state: mp });
        break;
      }
      case 'interrupt': {
        if (rec) rec.enter('kvm_vcpu_ioctl_interrupt', this.now, { irq: op.vector });
        const ret = kvmVcpuIoctlInterrupt(vcpu, op.vector);
        if (rec) rec.leave(ret);
        this.emitIoctl(op.fd, 'KVM_INTERRUPT', { irq: op.vector }, ret);
        r = this.base(index, op, ret, {}, rec);
        break;
      }
    }
    vcpu.rec = null;
    return r;
  }

  /** A vCPU ioctl on a vCPU inside KVM_RUN: it waits (in virtual time) for vcpu->mutex. */
  private waitMutex(op: MutexOp, index: number | null, th: VcpuThread): Pending {
    const deadline = this.nowCycles + this.kvm.cycles(DEFAULT_RUN_TIMEOUT_NS);
    return {
      index, op, deadline,
      until: () => !th.inKvmRun,
      finish: (timedOut) => {
        if (timedOut) {
          this.nowCycles = deadline;
          return this.blockedResult(index, op);
        }
        this.nowCycles = Math.max(this.nowCycles, th.vcpu.clock);
        return this.vcpuIoctl(op, index, th.vcpu);
      },
    };
  }

  private startRun(op: Extract<Op, { op: 'run' }>, index: number | null, vcpu: KvmVcpu): Pending | StepResult {
    const th = this.host.thread(vcpu);
    const idx = vcpu.vcpu_idx;
    const refused = this.writeRunData(op, vcpu, th.inKvmRun);
    if (refused) return { index, op: 'run', fd: op.fd, t_ns: this.now, ret: null, errno: null, reason: refused };
    if (!th.inKvmRun) this.issueKvmRun(vcpu, this.nowCycles);
    const returnsAtStart = this.returns[idx];
    const deadline = this.nowCycles + this.kvm.cycles(op.timeout_ns);
    return {
      index, op, deadline, thread: th, returnsAtStart,
      until: () => this.returns[idx] > returnsAtStart,
      finish: (timedOut) => {
        const rec = this.lastFrames[idx];
        const withFrames = (r: StepResult) => {
          if (rec?.roots.length) r.frames = rec.roots;
          if (rec?.dropped) r.frames_dropped = rec.dropped;
          return r;
        };
        if (timedOut && this.returns[idx] === returnsAtStart) {
          this.nowCycles = Math.max(this.nowCycles, deadline);
          return withFrames({ index, op: 'run', fd: op.fd, t_ns: this.now, ret: null, errno: null, blocked: true, run: runSection(vcpu) });
        }
        this.nowCycles = Math.max(this.nowCycles, vcpu.clock);
        const ret = this.lastRet[idx];
        this.emitIoctl(op.fd, 'KVM_RUN', {}, ret, vcpu);
        return withFrames(this.base(index, op, ret, { run: runSection(vcpu) }));
      },
    };
  }

  private readonly lastRet: number[] = [];

  /** The program's writes into kvm_run before KVM_RUN (io_data, mmio_data); why it cannot make them, or null. */
  private writeRunData(op: Extract<Op, { op: 'run' }>, vcpu: KvmVcpu, inKvmRun: boolean): string | null {
    const run = vcpu.run;
    for (const [field, data, exit] of [['io_data', op.io_data, KVM_EXIT_IO], ['mmio_data', op.mmio_data, KVM_EXIT_MMIO]] as const) {
      if (!data) continue;
      if (inKvmRun) return `${field}: the vCPU thread is still inside the earlier KVM_RUN, which has not returned`;
      if (run.exit_reason !== exit) {
        return `${field}: run->exit_reason is ${KVM_EXIT.name(run.exit_reason) ?? run.exit_reason}, not ${KVM_EXIT.name(exit)}: there is no ${field === 'io_data' ? 'IN' : 'MMIO read'} to complete`;
      }
      const at = exit === KVM_EXIT_IO ? Number(run.u64(KVM_RUN_LAYOUT.io_data_offset)) : KVM_RUN_LAYOUT.mmio_data;
      if (at + data.length > run.bytes.length) return `${field}: ${data.length} bytes at offset ${at} run past the kvm_run mapping (${run.bytes.length} bytes)`;
      run.bytes.set(data, at);
    }
    return null;
  }

  private startRunThreads(op: Extract<Op, { op: 'run_threads' }>, index: number | null): StepResult | Pending {
    const deadline = this.nowCycles + this.kvm.cycles(op.for_ns);
    const counts = new Map<string, Record<string, number>>();
    const p: Pending = {
      index, op, deadline, counts,
      until: () => false,
      finish: () => {
        for (const vcpu of vcpus) this.looping.delete(vcpu.vcpu_idx);
        this.nowCycles = Math.max(this.nowCycles, deadline);
        const inRun = op.fds.filter((fd) => this.threadOf(fd)?.inKvmRun);
        const r = this.base(index, op, 0, { threads: Object.fromEntries(counts) });
        if (inRun.length) r.in_kvm_run = inRun;
        return r;
      },
    };
    const vcpus: KvmVcpu[] = [];
    for (const fd of op.fds) {
      const vcpu = this.vcpuOf(fd);
      if (!vcpu) return this.base(index, op, -EBADF, { reason: `${fd} is not an open vCPU fd` });
      vcpus.push(vcpu);
      counts.set(fd, {});
    }
    for (const vcpu of vcpus) {
      this.looping.set(vcpu.vcpu_idx, p);
      const th = this.host.thread(vcpu);
      if (!th.inKvmRun) this.issueKvmRun(vcpu, this.nowCycles);
    }
    return p;
  }

  /** A KVM_RUN returned (in the foreground or not): count it, and re-issue it for run_threads. */
  private onRunReturn(th: VcpuThread, r: number): void {
    const vcpu = th.vcpu;
    const idx = vcpu.vcpu_idx;
    this.returns[idx]++;
    this.lastRet[idx] = r;
    vcpu.rec = null;
    const p = this.looping.get(idx);
    if (!p) return;
    const fd = `vcpu${vcpu.vcpu_id}`;
    const c = p.counts!.get(fd)!;
    const name = r < 0 ? ERRNO.name(-r) ?? String(-r) : KVM_EXIT.name(vcpu.run.exit_reason) ?? `KVM_EXIT_${vcpu.run.exit_reason}`;
    c[name] = (c[name] ?? 0) + 1;
    this.emitIoctl(fd, 'KVM_RUN', {}, r, vcpu);
    const fatal = (r < 0 && r !== -EINTR) || (r === 0 && FATAL_EXITS.has(vcpu.run.exit_reason));
    if (fatal || vcpu.clock >= p.deadline) {
      this.looping.delete(idx);
      return;
    }
    if (this.host.stopsAtReturn(vcpu)) this.reissue = vcpu; // P9: the stop leaves the thread in userspace
    else this.issueKvmRun(vcpu, vcpu.clock);
  }

  /** The thread issues KVM_RUN at `t` (cycles), its frames recorded anew. */
  private issueKvmRun(vcpu: KvmVcpu, t: number): void {
    vcpu.rec = this.recorder();
    this.lastFrames[vcpu.vcpu_idx] = vcpu.rec;
    this.host.startKvmRun(vcpu, t);
  }
}

/** Makes `list` (an array others hold) a copy of `from`. */
function replaceAll<T>(list: T[], from: readonly T[]): void {
  list.length = from.length;
  for (let i = 0; i < from.length; i++) list[i] = from[i];
}
