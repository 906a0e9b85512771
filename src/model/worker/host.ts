// The worker's request loop, free of worker globals so that Node tests drive it: requests are
// handled one at a time in arrival order, except Pause, which a run checks between its slices.
// After every request the page gets the new events (in one batch, reduced) and a view; while a run
// is going it gets a batch about once per frame and a view now and then.
import type { Core } from '../cpu/core';
import { batchTransferables, EventBatcher } from './batch';
import { readDraft } from './draft';
import { checkMoves } from './moves';
import type { Move, Reply, Request, SentView } from './protocol';
import type { FramesView } from './view';
import { Session } from './session';

export interface HostDeps {
  post(r: Reply, transfer?: Transferable[]): void;
  crash(e: unknown): void;
  /** A fresh instance of the core (its own memory). */
  newCore(): Promise<Core>;
  /** Gives the message loop a turn (so that a Pause can arrive). */
  yieldNow(): Promise<void>;
  /** Wall-clock milliseconds: only to size run slices and space out views, never to decide state. */
  now?(): number;
}

/** A run slice aims at this many milliseconds of work (its events' reducing included) before the worker listens again. */
const SLICE_MS = 6;
/** While running, a batch of events goes out at most this often (about once per page frame)… */
const BATCH_EVERY_MS = 16;
/** …and a full view at most this often. */
const VIEW_EVERY_MS = 200;
/** While running, a recording that changed goes out only up to this many frames (about 3 ms to clone). */
const LIVE_RECORDING_MAX_FRAMES = 2_000;

export class Host {
  private session: Session | null = null;
  private queue: Promise<void> = Promise.resolve();
  private running = false;
  private pauseAsked = false;
  private readonly stream = new EventBatcher();
  /** Units of work per run slice, adapted to the machine (it starts small: a unit's cost is unknown). */
  private slice = 1;
  private readonly now: () => number;
  /** The frames the last view carried (FramesView.recording names them): the page holds them. */
  private sent: FramesView | null = null;

  constructor(private readonly deps: HostDeps) {
    this.now = deps.now ?? (() => performance.now());
  }

  receive(req: Request): void {
    if (req.type === 'pause') {
      if (this.running) this.pauseAsked = true;
      else this.enqueue(() => this.sendView(req.seq));
      return;
    }
    this.enqueue(() => this.handle(req));
  }

  /** Resolves when every request received so far has been answered (for tests). */
  idle(): Promise<void> {
    return this.queue;
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((e) => this.deps.crash(e));
  }

  private async handle(req: Exclude<Request, { type: 'pause' }>): Promise<void> {
    switch (req.type) {
      case 'load':
        return this.load(req.seq, req);
      case 'move':
        if (!this.session) return this.refuse(req.seq, 'no scenario is loaded yet');
        if (req.move.kind === 'run' && req.move.budget === undefined) return this.run(req.seq);
        return this.act(req.seq, () => this.session!.apply(req.move));
      case 'reset':
        return this.rebuild(req.seq, []);
      case 'back':
        return this.rebuild(req.seq, this.session ? this.session.moves.slice(0, -1) : []);
      case 'goto':
        return this.goto(req.seq, req.vcpu, req.exit);
      case 'compare': {
        if (!this.session) return this.refuse(req.seq, 'no scenario is loaded yet');
        const compare = await this.session.compare(req.vcpu === undefined ? undefined : { vcpu: req.vcpu, exit: req.exit ?? null });
        if (typeof compare === 'string') return this.refuse(req.seq, compare);
        return this.deps.post({ type: 'compare', seq: req.seq, compare });
      }
      case 'crash':
        if (req.how === 'trap') return trap();
        throw new Error('a deliberate exception (the crash test hook)');
    }
  }

  private async load(seq: number, req: { draft: Parameters<typeof readDraft>[0]; moves: unknown }): Promise<void> {
    const read = await readDraft(req.draft);
    if (!read.ok) return this.deps.post({ type: 'rejected', seq, problems: read.problems });
    const start = await Session.open(this.deps.newCore, read.scenario);
    this.deps.post({ type: 'loaded', seq, title: read.scenario.title });
    const moves = checkMoves(req.moves);
    if (typeof moves === 'string') this.refuse(seq, `The position in this link could not be read (${moves}); the scenario starts from the beginning.`);
    return this.replay(seq, start, typeof moves === 'string' ? [] : moves);
  }

  /** The same scenario brought to the state after `moves` (from a checkpoint when there is one). */
  private async rebuild(seq: number, moves: Move[]): Promise<void> {
    if (!this.session) return this.refuse(seq, 'no scenario is loaded yet');
    return this.replay(seq, this.session, moves);
  }

  private async replay(seq: number, from: Session, moves: Move[]): Promise<void> {
    const r = await from.rewind(moves);
    this.session = r.session;
    this.stream.restart();
    if (r.refused) this.refuse(seq, `Stopped after ${r.at} of ${moves.length} moves: ${r.refused}`);
    this.flush();
    return this.sendView(seq);
  }

  /** One move; a refused one leaves the session as it was and says why. */
  private async act(seq: number, move: () => Promise<string | null>): Promise<void> {
    const refused = await move();
    if (refused) this.refuse(seq, refused);
    this.flush();
    return this.sendView(seq);
  }

  /**
   * To exit #`exit` of a vCPU. Still to come: on from here. Already made: back to the start of the
   * move during which it happened, then on to it (the moves after it are dropped, as with Step back).
   */
  private async goto(seq: number, vcpu: number, exit: number): Promise<void> {
    const s = this.session;
    if (!s) return this.refuse(seq, 'no scenario is loaded yet');
    const to: Move = { kind: 'to_exit', vcpu, exit };
    if (s.exitsOf(vcpu) <= exit) {
      await this.act(seq, () => s.apply(to));
      if (this.session!.exitsOf(vcpu) <= exit) this.refuse(seq, `vCPU ${vcpu} makes no exit #${exit}: the program ends before it`);
      return;
    }
    const probe = await s.fresh();
    let k = 0;
    for (; k < s.moves.length; k++) {
      await probe.apply(s.moves[k]);
      if (probe.exitsOf(vcpu) > exit) break;
    }
    return this.rebuild(seq, [...s.moves.slice(0, k), to]);
  }

  private async run(seq: number): Promise<void> {
    const s = this.session!;
    if (s.done) {
      this.refuse(seq, 'the program has run to its end: Reset or Step back to run it again');
      return this.sendView(seq);
    }
    this.running = true;
    this.pauseAsked = false;
    let used = 0;
    let lastView = this.now();
    let lastBatch = lastView;
    try {
      for (;;) {
        const t0 = this.now();
        const r = s.runFor(this.slice);
        used += r.used;
        if (r.finished) break;
        // The slice's events are reduced now, and the slice sized with that work in it: what a
        // Pause waits for is one slice and its share of the reducing, not a frame's worth of it.
        this.absorb();
        const t = this.now();
        this.adaptSlice(r.used, t - t0);
        if (t - lastBatch >= BATCH_EVERY_MS || t - lastView >= VIEW_EVERY_MS) {
          lastBatch = t;
          this.flush();
        }
        if (t - lastView >= VIEW_EVERY_MS) {
          lastView = t;
          await this.sendView(seq, true);
        }
        await this.deps.yieldNow();
        if (this.pauseAsked) break;
      }
      this.flush();
      s.record(s.done ? { kind: 'run' } : { kind: 'run', budget: used });
    } finally {
      this.running = false;
      this.pauseAsked = false;
    }
    return this.sendView(seq);
  }

  private adaptSlice(used: number, ms: number): void {
    if (used < this.slice) return; // the run finished inside the slice: nothing learnt
    const next = ms > 0 ? (this.slice * SLICE_MS) / ms : this.slice * 4;
    this.slice = Math.max(1, Math.min(Math.round(next), this.slice * 4));
  }

  /** Reduces the session's events not yet taken (a reader's share at a time: none is kept as an object). */
  private absorb(): void {
    const s = this.session;
    if (!s) return;
    for (let events = s.takeEvents(); events.length; events = s.takeEvents()) this.stream.absorb(events);
  }

  /** Sends what the page does not have yet of the session's events, in one batch. */
  private flush(): void {
    this.absorb();
    const batch = this.stream.take();
    if (batch) this.deps.post({ type: 'batch', batch }, batchTransferables(batch));
  }

  private async sendView(seq: number, running = false): Promise<void> {
    if (!this.session) return;
    const whole = await this.session.view();
    let f = whole.frames;
    // While a run goes, a large recording that changed is not sent: the call chain keeps the one it
    // has until the run stops (cloning thousands of frames several times a second would cost the
    // page its frames, and nobody reads a tree that changes that fast).
    if (running && f && this.sent && f.recording !== this.sent.recording && f.total / 2 > LIVE_RECORDING_MAX_FRAMES) f = this.sent;
    // Replies arrive in order, so the page holds the recording of the last view sent: it is left out.
    const view: SentView = { ...whole, frames: f };
    if (f && f.recording === this.sent?.recording) {
      const { roots: _held, ...rest } = f;
      view.frames = rest;
    }
    this.sent = f;
    this.deps.post({ type: 'view', seq, view, running, moves: this.session.moves });
  }

  private refuse(seq: number, message: string): void {
    this.deps.post({ type: 'refused', seq, message });
  }
}

/** A real WebAssembly trap: a one-function module whose body is `unreachable`. */
function trap(): never {
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
    0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // export "f"
    0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b, // code: no locals, unreachable, end
  ]);
  const { f } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as { f: () => void };
  f();
  throw new Error('unreachable did not trap');
}
