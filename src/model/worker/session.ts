// A loaded scenario in the worker: the Simulator, the moves that brought it to its state, and what
// the page is looking at (the frames being walked). Every move is deterministic, so a fresh session
// that replays the same moves reaches the same state: Step back and links rely on that.
import { assemble, disassemble, type AsmLine } from '../asm';
import type { Core } from '../cpu/core';
import type { Json } from '../scenario/document';
import { describeOp } from '../scenario/describe';
import { parseScenario } from '../scenario/parse';
import type { Fd, Op, Scenario } from '../scenario/types';
import { KVM_GUESTDBG_ENABLE, KVM_GUESTDBG_EXIT_USERSPACE } from '../kvm/uapi';
import { Simulator, type AdvanceOptions, type AdvanceResult, type Snapshot, type StepResult } from '../sim';
import type { Frame, TraceEvent } from '../trace/events';
import type { Move, StepUnit } from './protocol';
import type { CompareSide, CompareView, DisasmLine, FramesView, LabView, OpResultView, VcpuView } from './view';

/** Instructions shown before and after RIP. */
const DISASM_BEFORE = 4, DISASM_AFTER = 8;

/** Words of event records made into objects at a time for a reader (tens of thousands of events). */
const READ_WORDS = 1 << 18;

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
  /** Checkpoints by position; the first, at 0, is the start (every rewind has one to restore). */
  private checkpoints: Checkpoint[] = [];
  /** The recording the latest view showed, and the number it went by (FramesView.recording). */
  private recording: { roots: Frame[] | null; n: number; open: number; id: number } = { roots: null, n: 0, open: 0, id: 0 };
  /** Where `takeEvents` reads on in the Simulator's log (its records are the history: no event is kept as an object). */
  private readAt = 0;

  private constructor(
    private readonly newCore: () => Promise<Core>,
    readonly scenario: Scenario,
    private readonly sim: Simulator,
    /** Address → source line of the assembled guest code (empty for guest.hex). */
    private readonly code: AsmLine[],
  ) {}

  /** A session at the start of the scenario, on a fresh core from `newCore`. */
  static async open(newCore: () => Promise<Core>, scenario: Scenario): Promise<Session> {
    const sim = await Simulator.create(await newCore(), scenario, { frames: true, keeping: 'records' });
    const asm = scenario.guest.asm === undefined ? null : await assemble(scenario.guest.asm, { org: scenario.guest.org });
    const s = new Session(newCore, scenario, sim, asm?.ok ? asm.lines : []);
    s.checkpoints.push({ at: 0, snap: sim.snapshot()!, pageOps: 0, walk: null });
    return s;
  }

  /** The same scenario from its start. */
  fresh(): Promise<Session> {
    return Session.open(this.newCore, this.scenario);
  }

  /**
   * This session brought to the state after `moves` (Step back, Reset, Go to exit, a link): the latest
   * checkpoint these moves pass through is restored into this same Simulator (its kernel objects keep
   * their identity and shape, so it runs as fast afterwards), then the moves after it are replayed.
   * Returns the refusal, if a move could not be made (it stops there).
   */
  async rewind(moves: Move[]): Promise<{ session: Session; refused: string | null; at: number; restored: number }> {
    const cp = this.checkpointFor(moves);
    this.sim.restore(cp.snap);
    this.moves.length = 0;
    this.moves.push(...moves.slice(0, cp.at));
    this.pageOps.length = cp.pageOps;
    this.walk = cp.walk && { ...cp.walk };
    this.checkpoints = this.checkpoints.filter((c) => c.at <= cp.at);
    const { refused, at } = await this.replay(moves, cp.at);
    this.readAt = 0; // a rewound session's reader starts again from the first event
    return { session: this, refused, at, restored: cp.at };
  }

  /**
   * A second session at the state after `moves`, on its own Simulator, from this one's checkpoints
   * (a restore into another Simulator is correct, only slower to run on: fine for a one-off).
   */
  private async replica(moves: Move[]): Promise<{ session: Session; refused: string | null }> {
    const other = await this.fresh();
    const cp = this.checkpointFor(moves);
    if (cp.at > 0) {
      other.sim.restore(cp.snap);
      other.moves.push(...moves.slice(0, cp.at));
      other.pageOps.push(...this.pageOps.slice(0, cp.pageOps));
      other.walk = cp.walk && { ...cp.walk };
    }
    const { refused } = await other.replay(moves, cp.at);
    return { session: other, refused };
  }

  /** The latest checkpoint that `moves` pass through (the start, at worst). */
  private checkpointFor(moves: Move[]): Checkpoint {
    const same = (a: Move, b: Move) => JSON.stringify(a) === JSON.stringify(b);
    return [...this.checkpoints].reverse().find((c) => c.at <= moves.length && moves.slice(0, c.at).every((m, i) => same(m, this.moves[i])))!;
  }

  /** Applies `moves` from index `from` on; stops at the first refusal. */
  private async replay(moves: Move[], from: number): Promise<{ refused: string | null; at: number }> {
    for (let i = from; i < moves.length; i++) {
      const refused = await this.apply(moves[i]);
      if (refused) return { refused, at: i };
    }
    return { refused: null, at: moves.length };
  }

  /** Every event so far, made afresh from the records (a long run's are many: for tests and one-offs). */
  get events(): TraceEvent[] {
    return this.sim.events;
  }

  /**
   * The events after those taken last (from the first after a rewind), a bounded number at a time:
   * empty when there are none. The session keeps no object of them.
   */
  takeEvents(): TraceEvent[] {
    const { events, next } = this.sim.log.read(this.readAt, READ_WORDS);
    this.readAt = next;
    return events;
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
    if (this.moves.length % CHECKPOINT_EVERY) return;
    const snap = this.sim.snapshot();
    if (!snap) return;
    // Full: every other one goes (the start stays), so older positions grow sparser.
    if (this.checkpoints.length >= MAX_CHECKPOINTS) this.checkpoints = this.checkpoints.filter((_, i) => i === 0 || i % 2);
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
    return r;
  }

  /**
   * The same VM exit with and without KVM_GUESTDBG_EXIT_USERSPACE (RFC v4 6/7): exit #`exit` of vCPU
   * `vcpu` (by default the latest exit of the vCPU whose KVM_RUN is on screen). Two replicas replay to
   * just before the KVM_RUN that made that exit; on one of them the page then issues the
   * KVM_SET_GUEST_DEBUG that flips the flag, and each runs that one KVM_RUN until the exit has been
   * handled (the vCPU is back in the guest for an instruction, the KVM_RUN returned, or the operation
   * ended). Left: without the flag; right: with it.
   */
  async compare(target?: { vcpu: number; exit: number | null }): Promise<CompareView | string> {
    const w = this.walk;
    const vcpu = target?.vcpu ?? (w?.ioctl === 'KVM_RUN' ? w.vcpu : null);
    if (vcpu === null) return 'select an exit in the timeline, or look at a KVM_RUN first (step or run a vCPU)';
    const exit = target?.exit ?? this.exitsOf(vcpu) - 1;
    // The KVM_RUN that made the exit is this vCPU's (returns + 1)-th.
    const returns = this.returnsBefore(vcpu, exit);
    if (returns === null) return `vCPU ${vcpu} has made no exit #${exit} yet`;
    // The first move during which that KVM_RUN began: the replicas stop before it.
    const probe = await this.fresh();
    let k = 0;
    for (; k < this.moves.length; k++) {
      await probe.apply(this.moves[k]);
      if (probe.runsBegun(vcpu) > returns) break;
    }
    const sides: { side: CompareSide; on: boolean }[] = [];
    for (const flip of [false, true]) {
      const { session: s, refused } = await this.replica(this.moves.slice(0, k));
      if (refused) return `the replay stopped: ${refused}`;
      const run = await s.recordRun(vcpu, exit, returns, flip, this.moves[k]);
      if (typeof run === 'string') return run;
      const label = `${run.on ? 'with' : 'without'} EXIT_USERSPACE${flip ? ' (flipped before this KVM_RUN)' : ''}`;
      sides.push({ side: { label, roots: run.roots }, on: run.on });
    }
    const [left, right] = sides[0].on ? [sides[1], sides[0]] : sides;
    return { vcpu, exit, left: left.side, right: right.side };
  }

  /** KVM_RUNs vCPU `id` has begun: those that returned, and the one it is inside. */
  private runsBegun(id: number): number {
    const inside = this.sim.inspectVcpus().find((v) => v.id === id)?.inKvmRun ? 1 : 0;
    return this.sim.log.returnsOf(id) + inside;
  }

  /** The KVM_RUNs of vCPU `id` that returned before its exit #`exit` (the kvm_userspace_exit tracepoint); null when it has made no such exit. */
  private returnsBefore(id: number, exit: number): number | null {
    let n = 0;
    for (let at = 0; at < this.sim.log.position;) {
      const { events, next } = this.sim.log.read(at, READ_WORDS);
      for (const e of events) {
        if (e.kind === 'kvm_userspace_exit' && e.vcpu === id) n++;
        else if (e.kind === 'kvm_exit' && e.vcpu === id && e.exit === exit) return n;
      }
      at = next;
    }
    return null;
  }

  /**
   * From just before vCPU `id`'s KVM_RUN number `returns` + 1 (its earlier ones may still have to
   * return), that KVM_RUN's frames up to the handling of exit #`exit`, with EXIT_USERSPACE flipped
   * first when `flip`; `on`: whether the KVM_RUN ran with the flag. `next` is the move that began it:
   * when it is a KVM_RUN issued from the page, it is issued again here (and runs to its end, as it did).
   */
  private async recordRun(id: number, exit: number, returns: number, flip: boolean, next: Move | undefined): Promise<{ roots: Frame[]; on: boolean } | string> {
    const fd = `vcpu${id}` as Fd;
    const returned = () => this.sim.log.returnsOf(id);
    // Its earlier KVM_RUNs return, and the operations before the one that issues it are made (unless
    // the page issues it).
    const issues = (op: Op | undefined) => (op?.op === 'run' && op.fd === fd) || (op?.op === 'run_threads' && op.fds.includes(fd));
    const fromPage = next?.kind === 'ioctl';
    while (!fromPage && (returned() < returns || (!this.sim.inProgress && !this.done && !issues(this.scenario.program[this.sim.next])))) {
      if (this.advance({ until: 'run_return', vcpu: id }).stopped === 'done') return `vCPU ${id}'s KVM_RUN #${returns + 1} never began`;
    }
    const debug = this.sim.inspectVcpus().find((x) => x.id === id)?.guestDebug ?? 0;
    const on = ((debug & KVM_GUESTDBG_EXIT_USERSPACE) !== 0) !== flip;
    if (flip) {
      // The thread is in userspace here: before its first KVM_RUN, or stopped at the return of the one
      // before (a run_return stop leaves a run_threads thread there until the next advance).
      const control = on ? debug | KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_EXIT_USERSPACE : debug & ~KVM_GUESTDBG_EXIT_USERSPACE;
      if (this.sim.ioctl({ op: 'set_guest_debug', fd, control }).blocked) throw new Error(`vCPU ${id}'s thread is inside KVM_RUN where it should be in userspace`);
    }
    if (fromPage) {
      const refused = await this.apply(next);
      return refused ?? (this.walk ? { roots: this.walk.roots, on } : `vCPU ${id} ran no KVM_RUN here`);
    }
    // The frames of that KVM_RUN: a recording's roots array is the same object as it grows.
    let roots: Frame[] | null = null;
    const look = (r: AdvanceResult) => {
      const v = this.sim.inspectVcpus().find((x) => x.id === id);
      if (v?.inKvmRun && returned() === returns) roots ??= v.frames;
      if (!roots && r.step?.op === 'run' && r.step.fd === fd && r.step.frames) roots = r.step.frames;
    };
    // On to the exit, then through its handling.
    const began = () => this.runsBegun(id) > returns;
    const over = (r: AdvanceResult) => returned() > returns || r.stopped === 'op' || r.stopped === 'done';
    let r: AdvanceResult;
    do look((r = this.advance({ until: 'exit', vcpu: id })));
    while (r.stopped !== 'done' && (!began() || (this.exitsOf(id) <= exit && !over(r))));
    if (began() && !over(r)) look(this.advance({ until: 'insn', vcpu: id }));
    return roots ? { roots, on } : `vCPU ${id} ran no KVM_RUN here`;
  }

  /** After any move but Step frame: everything that has happened is shown. */
  private settleWalk(): void {
    if (this.walk) this.walk.cursor = walkable(this.walk.roots);
  }

  /** Looks at the frames of a finished operation (when it recorded any); the cursor is set by the caller. */
  private show(r: StepResult, op: Op): void {
    // Threads run KVM_RUN after KVM_RUN and record no frames of their own: the KVM_RUN of the vCPU
    // that exited last is what just happened.
    if (op.op === 'run_threads') return this.showRun(this.lastToExit(op.fds));
    if (!r.frames?.length) return;
    const vcpu = r.fd?.startsWith('vcpu') ? Number(r.fd.slice(4)) : null;
    // The ioctl's name as the op's description gives it ("vcpu0 KVM_RUN" → KVM_RUN).
    const ioctl = /KVM_[A-Z0-9_]+/.exec(describeOp(op))?.[0] ?? r.op;
    this.walk = { roots: r.frames, vcpu, ioctl, cursor: 0 };
  }

  /** Of the vCPUs behind `fds`, the one whose VM exit is the latest (the first when none exited). */
  private lastToExit(fds: readonly string[]): number {
    const ids = fds.map((fd) => Number(fd.slice(4)));
    return this.sim.log.latestToExit(ids) ?? ids[0];
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
    const counts = w && frameCounts(w.roots);
    const frames: FramesView | null = w && counts && { vcpu: w.vcpu, ioctl: w.ioctl, recording: this.recordingOf(w.roots, counts), roots: w.roots, cursor: w.cursor, total: 2 * counts.n };
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

  /**
   * The number naming recording `roots` as it stands. A recording grows in place (the same array), and
   * a frame changes only while it is open (its callees, note and marks) or as it returns, so the
   * array, its frame count and its open frames together tell whether anything changed.
   */
  private recordingOf(roots: Frame[], { n, open }: { n: number; open: number }): number {
    const r = this.recording;
    if (r.roots !== roots || r.n !== n || r.open !== open) this.recording = { roots, n, open, id: ++recordings };
    return this.recording.id;
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

/** Recordings numbered so far in this worker: unique across its sessions, so a number names one. */
let recordings = 0;

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
