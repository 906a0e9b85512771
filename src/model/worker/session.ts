// A loaded scenario in the worker: the Simulator, the moves that brought it to its state, and what
// the page is looking at (the frames being walked). Every move is deterministic, so a fresh session
// that replays the same moves reaches the same state: Step back and links rely on that.
import { assemble, disassemble, type AsmLine } from '../asm';
import type { Core } from '../cpu/core';
import type { Json } from '../scenario/document';
import { describeOp } from '../scenario/describe';
import { parseScenario } from '../scenario/parse';
import type { Op, Scenario } from '../scenario/types';
import { KVM_GUESTDBG_ENABLE, KVM_GUESTDBG_EXIT_USERSPACE } from '../kvm/uapi';
import { Simulator, type AdvanceOptions, type AdvanceResult, type Snapshot, type StepResult } from '../sim';
import type { Frame } from '../trace/events';
import type { Move, StepUnit } from './protocol';
import type { CompareView, DisasmLine, FramesView, LabView, OpResultView, VcpuView } from './view';

/** Instructions shown before and after RIP. */
const DISASM_BEFORE = 4, DISASM_AFTER = 8;

/** A checkpoint every this many moves (when the Simulator can take one: no thread inside KVM_RUN). */
const CHECKPOINT_EVERY = 8;
/** At most this many checkpoints; when full, every other one is dropped (older ones grow sparser). */
const MAX_CHECKPOINTS = 8;

/** The state after the first `at` moves: the Simulator's snapshot and the session's own state. */
interface Checkpoint {
  at: number;
  snap: Snapshot;
  pageOps: number;
  walk: Walk | null;
}

/** The recording the page is looking at, and how far Step frame has walked it. */
interface Walk {
  roots: Frame[];
  vcpu: number | null;
  ioctl: string;
  cursor: number;
}

export class Session {
  readonly moves: Move[] = [];
  /** The operations issued from the page, in order (their results have index null). */
  private readonly pageOps: Op[] = [];
  private walk: Walk | null = null;
  /** For a comparison: vCPU `vcpu`'s KVM_GUESTDBG_EXIT_USERSPACE is kept at `on` whatever the moves do. */
  private forced: { vcpu: number; on: boolean } | null = null;
  private checkpoints: Checkpoint[] = [];

  private constructor(
    private readonly newCore: () => Promise<Core>,
    readonly scenario: Scenario,
    private readonly sim: Simulator,
    /** Address → source line of the assembled guest code (empty for guest.hex). */
    private readonly code: AsmLine[],
  ) {}

  /** A session at the start of the scenario, on a fresh core from `newCore`. */
  static async open(newCore: () => Promise<Core>, scenario: Scenario): Promise<Session> {
    const sim = await Simulator.create(await newCore(), scenario, { frames: true });
    const asm = scenario.guest.asm === undefined ? null : await assemble(scenario.guest.asm, { org: scenario.guest.org });
    return new Session(newCore, scenario, sim, asm?.ok ? asm.lines : []);
  }

  /** The same scenario from its start. */
  fresh(): Promise<Session> {
    return Session.open(this.newCore, this.scenario);
  }

  /**
   * The state after `moves` (Step back, Reset, Go to exit): a fresh Simulator restored from the latest checkpoint
   * these moves pass through, then the moves after it replayed. Returns it and the refusal, if a move
   * could not be made (it stops there).
   */
  async rewind(moves: Move[]): Promise<{ session: Session; refused: string | null; at: number; restored: number }> {
    const next = this.moves.length ? await this.fresh() : this; // a session at its start is as fresh as they come
    const same = (a: Move, b: Move) => JSON.stringify(a) === JSON.stringify(b);
    const cp = [...this.checkpoints].reverse().find((c) => c.at <= moves.length && moves.slice(0, c.at).every((m, i) => same(m, this.moves[i])));
    if (cp) {
      next.sim.restore(cp.snap);
      next.moves.push(...moves.slice(0, cp.at));
      next.pageOps.push(...this.pageOps.slice(0, cp.pageOps));
      next.walk = cp.walk && { ...cp.walk };
      next.checkpoints = this.checkpoints.filter((c) => c.at <= cp.at);
    }
    const restored = next.moves.length;
    for (let i = restored; i < moves.length; i++) {
      const refused = await next.apply(moves[i]);
      if (refused) return { session: next, refused, at: i, restored };
    }
    return { session: next, refused: null, at: moves.length, restored };
  }

  get events() {
    return this.sim.events;
  }

  /** Nothing more can happen: the program has run and no operation is in progress. */
  get done(): boolean {
    return this.sim.done;
  }

  /** Carries out one move and records it; returns why not (leaving the session as it was), or null. */
  async apply(m: Move): Promise<string | null> {
    switch (m.kind) {
      case 'step': {
        const refused = this.step(m.unit, m.vcpu);
        if (refused) return refused;
        break;
      }
      case 'run':
        if (this.done) return 'the program has run to its end: Reset or Step back to run it again';
        this.runFor(m.budget ?? Infinity);
        break;
      case 'to_exit':
        if (this.exitsOf(m.vcpu) > m.exit) return `vCPU ${m.vcpu} has made exit #${m.exit} already`;
        while (this.exitsOf(m.vcpu) <= m.exit && !this.done) this.advance({ until: 'exit', vcpu: m.vcpu });
        this.settleWalk();
        break;
      case 'ioctl': {
        const op = this.parseIoctl(m.op);
        if (typeof op === 'string') return op;
        if (this.sim.inProgress && (op.op === 'run' || op.op === 'run_threads')) return 'an operation of the program is in progress: step or run it to its end first';
        const r = this.sim.ioctl(op);
        this.pageOps.push(op);
        this.show(r, op);
        this.settleWalk();
        this.keepForced();
        break;
      }
    }
    this.record(m);
    return null;
  }

  /** VM exits vCPU `id` has made so far (0 when it does not exist yet). */
  exitsOf(id: number): number {
    return this.sim.inspectVcpus().find((v) => v.id === id)?.exits ?? 0;
  }

  /** Records a move made by the caller (a paused or finished run, advanced with `runFor`). */
  record(m: Move): void {
    this.moves.push(m);
    if (this.moves.length % CHECKPOINT_EVERY || this.forced) return;
    const snap = this.sim.snapshot();
    if (!snap) return;
    if (this.checkpoints.length >= MAX_CHECKPOINTS) this.checkpoints = this.checkpoints.filter((_, i) => i % 2);
    this.checkpoints.push({ at: this.moves.length, snap, pageOps: this.pageOps.length, walk: this.walk && { ...this.walk } });
  }

  /**
   * Runs the program for at most `budget` units (calls of the Simulator's bounded advance), or to
   * its end. A run paused after n units and replayed as `runFor(n)` reaches the same state, because
   * each unit is the same deterministic call.
   */
  runFor(budget: number): { used: number; finished: boolean } {
    let used = 0;
    while (used < budget && !this.sim.done) {
      this.advance({ until: 'op', maxCycles: RUN_SLICE_CYCLES });
      used++;
    }
    this.settleWalk();
    return { used, finished: this.sim.done };
  }

  private step(unit: StepUnit, vcpu?: number): string | null {
    if (unit === 'frame') return this.stepFrame();
    if (this.done) return 'the program has run to its end: Reset or Step back to go again';
    // An instruction or exit step goes on through the ioctls that run no guest code (create_vcpu,
    // enable_cap, …), so that it lands in guest activity; a KVM_RUN that ends without such a stop
    // (a HLT that sleeps to the timeout) ends the step too.
    const until = unit === 'op' ? 'op' : unit === 'instruction' ? 'insn' : 'exit';
    for (;;) {
      const r = this.advance({ until, vcpu });
      const ranGuest = r.step?.op === 'run' || r.step?.op === 'run_threads';
      if (unit === 'op' || r.stopped !== 'op' || ranGuest || this.done) break;
    }
    this.settleWalk();
    return null;
  }

  /**
   * One call or return further in the recording being walked. Once the walk has caught up with what
   * has happened, the simulation goes on to the next VM exit and the walk continues into the frames
   * that recorded. The walk never passes the return of a frame still running (its return is not known
   * yet): a recording only grows after that point, so the steps already walked stay where they are.
   */
  private stepFrame(): string | null {
    const w = this.walk;
    if (w && w.cursor < walkable(w.roots)) {
      w.cursor++;
      return null;
    }
    if (this.done) return 'every recorded frame has been walked and the program has run to its end';
    const before = w?.roots;
    this.advance({ until: 'exit' });
    const now = this.walk;
    if (now && now.roots !== before) now.cursor = Math.min(1, walkable(now.roots));
    else if (now) now.cursor = Math.min(now.cursor + 1, walkable(now.roots));
    return null;
  }

  /** One bounded advance of the Simulator; the page then looks at what it stopped at. */
  private advance(o: AdvanceOptions): AdvanceResult {
    const r = this.sim.advance(o);
    if (r.step) this.show(r.step, this.scenario.program[r.step.index!]);
    else if (r.vcpu !== undefined) this.showRun(r.vcpu);
    this.keepForced();
    return r;
  }

  /**
   * The KVM_RUN being looked at, recorded a second time: the same scenario and moves on a fresh
   * Simulator, with this vCPU's KVM_GUESTDBG_EXIT_USERSPACE held the other way round (set with
   * ENABLE, or cleared) from its creation on. Left: without the flag; right: with it.
   */
  async compare(): Promise<CompareView | string> {
    const w = this.walk;
    if (!w || w.vcpu === null || w.ioctl !== 'KVM_RUN') return 'look at a KVM_RUN first (step or run a vCPU)';
    const vcpu = w.vcpu;
    const now = this.sim.inspectVcpus().find((v) => v.id === vcpu);
    if (!now) return `vCPU ${vcpu} does not exist`;
    const has = (now.guestDebug & KVM_GUESTDBG_EXIT_USERSPACE) !== 0;
    const other = await this.fresh();
    other.forced = { vcpu, on: !has };
    for (const m of this.moves) await other.apply(m);
    const roots = other.sim.inspectVcpus().find((v) => v.id === vcpu)?.frames ?? [];
    const here = { label: has ? 'with EXIT_USERSPACE' : 'without EXIT_USERSPACE', roots: w.roots };
    const there = { label: has ? 'without EXIT_USERSPACE (same moves)' : 'with EXIT_USERSPACE (same moves)', roots };
    return has ? { vcpu, left: there, right: here } : { vcpu, left: here, right: there };
  }

  /** Puts the forced flag back after whatever the program or the page set (when the vCPU can take an ioctl). */
  private keepForced(): void {
    const f = this.forced;
    if (!f) return;
    const v = this.sim.inspectVcpus().find((x) => x.id === f.vcpu);
    if (!v || v.inKvmRun || ((v.guestDebug & KVM_GUESTDBG_EXIT_USERSPACE) !== 0) === f.on) return;
    const control = f.on ? v.guestDebug | KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_EXIT_USERSPACE : v.guestDebug & ~KVM_GUESTDBG_EXIT_USERSPACE;
    this.sim.ioctl({ op: 'set_guest_debug', fd: `vcpu${f.vcpu}`, control });
  }

  /** After any move but Step frame: everything that has happened is shown. */
  private settleWalk(): void {
    if (this.walk) this.walk.cursor = walkable(this.walk.roots);
  }

  /** Looks at the frames of a finished operation (when it recorded any); the cursor is set by the caller. */
  private show(r: StepResult, op: Op): void {
    if (!r.frames?.length) return;
    const vcpu = r.fd?.startsWith('vcpu') ? Number(r.fd.slice(4)) : null;
    // The ioctl's name as the op's description gives it ("vcpu0 KVM_RUN" → KVM_RUN).
    const ioctl = /KVM_[A-Z0-9_]+/.exec(describeOp(op))?.[0] ?? r.op;
    this.walk = { roots: r.frames, vcpu, ioctl, cursor: 0 };
  }

  /** Looks at the current KVM_RUN of a vCPU that stopped inside it. */
  private showRun(vcpu: number): void {
    const v = this.sim.inspectVcpus().find((x) => x.id === vcpu);
    if (!v?.frames.length) return;
    if (this.walk?.roots !== v.frames) this.walk = { roots: v.frames, vcpu, ioctl: 'KVM_RUN', cursor: 0 };
  }

  /** A page ioctl (a program operation in document form), checked like one: an Op, or why not. */
  private parseIoctl(json: Json): Op | string {
    const ids = this.sim.inspectVcpus().map((v) => v.id);
    // Checked in the context of the vCPUs that exist, exactly as the program's own operations are.
    const program = [...ids.map((id) => ({ op: 'create_vcpu', id })), json];
    const parsed = parseScenario({ format: 'exitscope/1', guest: { hex: '90' }, program });
    if (parsed.ok) return parsed.scenario.program[ids.length];
    return parsed.errors.map((e) => `${e.path.replace(/^program\[\d+\]\.?/, '') || 'operation'}: ${e.message}`).join('; ');
  }

  async view(): Promise<LabView> {
    const vm = this.sim.inspectVm();
    const steps = this.sim.result().steps;
    let page = 0;
    const results = steps.map((r) => resultView(r, r.index === null ? this.pageOps[page++] : this.scenario.program[r.index]));
    const vcpus: VcpuView[] = [];
    for (const v of this.sim.inspectVcpus()) {
      const { frames: _frames, ...rest } = v;
      vcpus.push({ ...rest, disasm: await this.disasmAround(v.regs.rip) });
    }
    const busy = this.sim.inProgress;
    const w = this.walk;
    const frames: FramesView | null = w && { vcpu: w.vcpu, ioctl: w.ioctl, roots: w.roots, cursor: w.cursor, total: 2 * frameCounts(w.roots).n };
    return {
      title: this.scenario.title,
      ...(this.scenario.description !== undefined && { description: this.scenario.description }),
      kernel: vm.kernel,
      patches: vm.patches,
      variantLabel: vm.variantLabel,
      next: this.sim.next,
      inProgress: busy && busy.index !== null ? { index: busy.index, summary: describeOp(busy.op) } : null,
      total: this.scenario.program.length,
      done: this.sim.done,
      vm: (({ kernel: _k, patches: _p, variantLabel: _l, ...rest }) => rest)(vm),
      vcpus,
      results,
      frames,
      now: Math.max(this.sim.now, ...vcpus.map((v) => v.clockNs)),
    };
  }

  /** The instructions around RIP, read from guest memory, with their source lines. */
  private async disasmAround(ripBig: bigint): Promise<DisasmLine[]> {
    const rip = Number(ripBig);
    // Start a few source lines back when RIP is in (or just after) the assembled code, since decoding
    // backwards from RIP is ambiguous; else at RIP.
    const code = this.code, last = code[code.length - 1];
    let start = rip;
    if (last && rip >= code[0].addr && rip <= last.addr + last.bytes.length) {
      const at = code.findIndex((l) => l.addr + l.bytes.length > rip);
      start = code[Math.max(0, (at < 0 ? code.length : at) - DISASM_BEFORE)].addr;
    }
    const len = Math.min(15 * (DISASM_BEFORE + DISASM_AFTER + 1), this.scenario.vm.memory - start);
    if (start < 0 || len <= 0) return [];
    const lines = await disassemble(this.sim.readGuest(start, len), start, { max: DISASM_BEFORE + DISASM_AFTER + 1 });
    const lineOf = new Map(this.code.map((l) => [l.addr, l.line]));
    // Past the end of the assembled code there is only zeroed RAM: show it only at RIP.
    const end = last ? last.addr + last.bytes.length : Infinity;
    return lines.filter((d) => d.addr < end || d.addr === rip).map((d) => ({
      addr: BigInt(d.addr),
      bytes: [...d.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' '),
      text: d.text,
      current: d.addr === rip,
      ...(lineOf.has(d.addr) && { line: lineOf.get(d.addr) }),
    }));
  }
}

/** Virtual cycles per unit of a run: small enough to pause promptly, large enough to run fast. */
export const RUN_SLICE_CYCLES = 100_000;

function resultView(r: StepResult, op: Op | undefined): OpResultView {
  const { index, op: name, fd, ret, errno, reason, expect, frames: _frames, t_ns: _t, ...detail } = r;
  return {
    index,
    op: name,
    ...(fd !== undefined && { fd }),
    summary: op ? describeOp(op) : name,
    ret,
    errno,
    ...(reason !== undefined && { reason }),
    detail,
    ...(expect !== undefined && { expect: expect === 'met' ? 'met' : 'failed' }),
  };
}

/** Frames in a recording, and how many of them have not returned yet. */
function frameCounts(roots: readonly Frame[]): { n: number; open: number } {
  let n = 0, open = 0;
  const stack = [...roots];
  while (stack.length) {
    const f = stack.pop()!;
    n++;
    if (f.ret === undefined) open++;
    stack.push(...f.calls);
  }
  return { n, open };
}

/**
 * How many calls and returns (in call order: a frame's call, its callees, its return) can be walked:
 * all of them but the returns of the frames still running. Those are the innermost open frames'
 * chain, and each one's return comes after everything else in its subtree, so the walkable steps
 * are every call and every closed frame's return: 2 × frames − open frames.
 */
function walkable(roots: readonly Frame[]): number {
  const { n, open } = frameCounts(roots);
  return 2 * n - open;
}
