// The event stream as the model records it: the events of the exit path (kvm_entry, kvm_exit,
// activity changes, injections, halt-polling, userspace exits) go into one buffer, a record each, of
// 32-bit words and doubles as its kind needs, so that recording one allocates nothing and a busy run
// writes little memory (a HLT round trip's seven records: 208 bytes); the rest (ioctls) are kept as
// the objects they are. The exit path gives its times in cycles of the vCPU's clock: they become ns
// (÷ ghz, as vcpu.t computes them) only when read, so recording an event divides nothing.
//
// A log keeps its events one of two ways. 'objects' (the CLI, the tests): `list` turns what was
// recorded since it was last read into TraceEvent objects and appends them to one array that keeps
// growing, the records then dropped. 'records' (the worker): the records are the history, kept, and
// `read(from)` makes objects of those after a position for a reader that absorbs them and lets them
// go: a multi-million-exit run keeps its ~40 bytes an exit of records, not ~400 of objects.
import type { TraceEvent, VcpuActivity } from './events';

const K_OBJECT = 0, K_ENTRY = 1, K_EXIT = 2, K_ACTIVITY = 3, K_INJ = 4, K_HALT_POLL = 5, K_USERSPACE_EXIT = 6;
/** The rest of a chunk is unused: the next record is at the start of the next chunk. */
const K_PAD = 7;
// The records are in chunks of a fixed size (the first one grows to it), so that a long run's log
// grows without copying what it holds (doubling one buffer copied 64 MB to make 128: ~40 ms); a
// record never spans two chunks, and a position is a word index over the chunks laid end to end.
// A record is 32-bit words in a chunk, an even number of them so that the next record's doubles
// stay 8-byte aligned: word 0 the head (kind + 8 × a small value + 2048 × the vCPU), word 1 a 32-bit
// field, words 2-3 the clock (a double); then the kind's own fields. Numbers that may pass 2^32 (the
// exit number, the qualification, halt-poll times) take a double.
/** 32-bit words of a record, by kind (constants too: a writer passes its own, not an array load). */
const W_OBJECT = 2, W_ENTRY = 6, W_EXIT = 12, W_ACTIVITY = 4, W_INJ = 4, W_HALT_POLL = 8, W_USERSPACE_EXIT = 6;
const WORDS = [W_OBJECT, W_ENTRY, W_EXIT, W_ACTIVITY, W_INJ, W_HALT_POLL, W_USERSPACE_EXIT];
const MAX_WORDS = 12;
const TWO32 = 4294967296;

export const ACTIVITIES: readonly VcpuActivity[] = ['guest', 'guest_halted', 'kvm', 'polling', 'blocked', 'userspace'];
/** A record's head word: its kind, a small value (below 256) and the vCPU. */
function head(kind: number, small: number, vcpu: number): number {
  return kind + 8 * small + 2048 * vcpu;
}

/** The index in ACTIVITIES (a switch on constant strings: no hashing on the exit path). */
function activityCode(a: VcpuActivity): number {
  switch (a) {
    case 'guest': return 0;
    case 'guest_halted': return 1;
    case 'kvm': return 2;
    case 'polling': return 3;
    case 'blocked': return 4;
    case 'userspace': return 5;
  }
}

/** How a log keeps its events (see the top of this file). */
export type EventKeeping = 'objects' | 'records';

/** A log's state at a moment, to be put back with `restore` (into the same log, or another of the same keeping). */
export type LogMark =
  | { keeping: 'objects'; events: TraceEvent[]; counts: Counts }
  | { keeping: 'records'; source: EventLog; end: number; objects: number; counts: Counts };

/** Per vCPU: the exits' order number of its latest kvm_exit (0: none yet), its kvm_userspace_exits; and the exits so far. */
interface Counts {
  lastExit: number[];
  returns: number[];
  exits: number;
}

export class EventLog {
  /** Words of a chunk. */
  private readonly chunkWords: number;
  /** The chunks, seen as words and as doubles; records fill [0, end) of them laid end to end. */
  private chunks: Uint32Array[] = [];
  private chunkF64: Float64Array[] = [];
  /** The chunk being written (`u32`, `f64`), where it starts, and the next record's word in it. */
  private u32!: Uint32Array;
  private f64!: Float64Array;
  /** u32's length, kept as a number: every record checks it. */
  private limit = 0;
  private base = 0;
  private at = 0;
  private objects: TraceEvent[] = [];
  private readonly events: TraceEvent[] = [];
  private counts: Counts = { lastExit: [], returns: [], exits: 0 };
  /** RIPs as BigInts, shared between events (a guest loops over few addresses). */
  private readonly rips = new Map<number, bigint>();

  /** `ghz`: cycles per ns of the recorded clocks; `chunk`: records (of the widest kind) a chunk holds (3 MB by default; the first chunk starts at 48 kB). */
  constructor(readonly enabled: boolean, private readonly ghz = 1, chunk = 65536, readonly keeping: EventKeeping = 'objects') {
    this.chunkWords = MAX_WORDS * chunk;
    this.addChunk(0, Math.min(this.chunkWords, MAX_WORDS * 1024));
    this.writeChunk(0);
  }

  private get end(): number {
    return this.base + this.at;
  }

  /** Every event so far, in order (one array, extended in place). Only when keeping objects. */
  get list(): TraceEvent[] {
    if (this.keeping !== 'objects') throw new Error('a log keeping records gives its events by read(), not list');
    if (this.end) {
      this.decode(0, this.end, this.events);
      this.moveTo(0);
      this.objects.length = 0;
    }
    return this.events;
  }

  /** Where the next record goes: `read(position)` later gives the events recorded from now on. Only when keeping records. */
  get position(): number {
    return this.end;
  }

  /**
   * The events of the records from `from` (a `position`) on, as new objects the log does not keep:
   * those of `limit` words of records at most (a record begun before it is read whole), and the
   * position after them. Only when keeping records.
   */
  read(from: number, limit = Infinity): { events: TraceEvent[]; next: number } {
    if (this.keeping !== 'records') throw new Error('a log keeping objects gives its events by list');
    const events: TraceEvent[] = [];
    // From the next chunk when `from` is at a chunk's unused rest: every piece holds a record.
    const cw = this.chunkWords, ci = Math.floor(from / cw);
    if (from < this.end && this.chunks[ci][from - ci * cw] === K_PAD) from = (ci + 1) * cw;
    return { events, next: this.decode(from, Math.min(this.end, from + limit), events) };
  }

  /** The vCPU among `vcpus` whose kvm_exit is the latest; undefined when none of them has exited. */
  latestToExit(vcpus: readonly number[]): number | undefined {
    let best: number | undefined, order = 0;
    for (const v of vcpus) {
      const o = this.counts.lastExit[v] ?? 0;
      if (o > order) [best, order] = [v, o];
    }
    return best;
  }

  /** kvm_userspace_exit events of vCPU `vcpu` so far: its KVM_RUNs that returned. */
  returnsOf(vcpu: number): number {
    return this.counts.returns[vcpu] ?? 0;
  }

  /** This log's state now (for a snapshot); a mark of a log keeping records holds a reference to it, whose records before the mark never change. */
  mark(): LogMark {
    const counts = { lastExit: this.counts.lastExit.slice(), returns: this.counts.returns.slice(), exits: this.counts.exits };
    if (this.keeping === 'objects') return { keeping: 'objects', events: this.list.slice(), counts };
    return { keeping: 'records', source: this, end: this.end, objects: this.objects.length, counts };
  }

  /** Puts back the state of `m` (a mark of this log or of another keeping the same way). */
  restore(m: LogMark): void {
    if (m.keeping !== this.keeping) throw new Error(`a mark of a log keeping ${m.keeping} restored into one keeping ${this.keeping}`);
    this.counts = { lastExit: m.counts.lastExit.slice(), returns: m.counts.returns.slice(), exits: m.counts.exits };
    if (m.keeping === 'objects') {
      this.moveTo(0);
      this.objects.length = 0;
      // Element by element: a spread of a long history overflows the call stack.
      this.events.length = m.events.length;
      for (let i = 0; i < m.events.length; i++) this.events[i] = m.events[i];
      return;
    }
    if (m.source !== this) {
      if (m.source.chunkWords !== this.chunkWords) throw new Error(`a mark of a log of ${m.source.chunkWords}-word chunks restored into one of ${this.chunkWords}`);
      m.source.chunks.forEach((c, i) => {
        const used = Math.min(c.length, m.end - i * this.chunkWords);
        if (used > 0) this.addChunk(i, c.length).set(c.subarray(0, used));
      });
      this.objects = m.source.objects.slice(0, m.objects);
    }
    this.moveTo(m.end);
    this.objects.length = m.objects;
  }

  /** Any event, kept as the object given. */
  emit(e: TraceEvent): void {
    const at = this.record(W_OBJECT, K_OBJECT);
    this.u32[at + 1] = this.objects.length;
    this.objects.push(e);
  }

  /** kvm_entry at `clock` (cycles); `guest`: followed by the activity change to 'guest' (one record for both). */
  kvmEntry(clock: number, vcpu: number, ripLo: number, ripHi: number, guest = false): void {
    const at = this.record(W_ENTRY, head(K_ENTRY, guest ? 1 : 0, vcpu)), w = this.u32;
    w[at + 1] = ripLo; w[at + 4] = ripHi;
    this.f64[(at + 2) >> 1] = clock;
  }

  /**
   * kvm_exit at `clock` (cycles); `info1` is the exit qualification (below 2^53), `info2` the interruption information;
   * `kvm`: followed by the activity change to 'kvm' (one record for both).
   */
  kvmExit(clock: number, vcpu: number, exit: number, reason: number, ripLo: number, ripHi: number, info1: number, intrInfo: number, errorCode: number, kvm = false): void {
    const at = this.record(W_EXIT, head(K_EXIT, kvm ? 1 : 0, vcpu)), w = this.u32, d = this.f64, h = at >> 1;
    w[at + 1] = reason; w[at + 8] = ripLo; w[at + 9] = ripHi; w[at + 10] = intrInfo; w[at + 11] = errorCode;
    d[h + 1] = clock; d[h + 2] = info1; d[h + 3] = exit;
    this.counts.lastExit[vcpu] = ++this.counts.exits;
  }

  activity(clock: number, vcpu: number, activity: VcpuActivity): void {
    const at = this.record(W_ACTIVITY, head(K_ACTIVITY, activityCode(activity), vcpu));
    this.f64[(at + 2) >> 1] = clock;
  }

  injVirq(clock: number, vcpu: number, vector: number, soft: boolean): void {
    const at = this.record(W_INJ, head(K_INJ, soft ? 1 : 0, vcpu));
    this.u32[at + 1] = vector;
    this.f64[(at + 2) >> 1] = clock;
  }

  /** `polled`: how long it polled, in cycles. */
  haltPoll(clock: number, vcpu: number, polled: number, success: boolean, grow: number): void {
    const at = this.record(W_HALT_POLL, head(K_HALT_POLL, success ? 1 : 0, vcpu)), d = this.f64, h = at >> 1;
    d[h + 1] = clock; d[h + 2] = polled; d[h + 3] = grow;
  }

  userspaceExit(clock: number, vcpu: number, reason: number, errno: number): void {
    const at = this.record(W_USERSPACE_EXIT, head(K_USERSPACE_EXIT, 0, vcpu));
    this.u32[at + 1] = reason; this.u32[at + 4] = errno;
    this.f64[(at + 2) >> 1] = clock;
    this.counts.returns[vcpu] = (this.counts.returns[vcpu] ?? 0) + 1;
  }

  /**
   * Starts a record of `words` words with head word `head` in the chunk being written (`u32`, `f64`); its
   * first word there. Kept this small (the rare growth in `room`) so that V8 inlines it in every writer.
   */
  private record(words: number, head: number): number {
    const at = this.at;
    if (at + words > this.limit) return this.room(words, head);
    this.at = at + words;
    this.u32[at] = head;
    return at;
  }

  /** Makes room for a record of `words` words (the first chunk grown, doubling, else the next chunk begun) and starts it there. */
  private room(words: number, head: number): number {
    const cw = this.chunkWords;
    if (this.at + words <= cw) {
      // Only the first chunk is shorter than a chunk: it grows to one, as the one buffer did.
      let size = this.u32.length * 2;
      while (size < this.at + words) size *= 2;
      this.addChunk(0, Math.min(cw, size)).set(this.u32.subarray(0, this.at));
      this.writeChunk(0);
    } else {
      if (this.at < cw) this.u32[this.at] = K_PAD;
      const i = this.base / cw + 1;
      if (!this.chunks[i]) this.addChunk(i, cw);
      this.writeChunk(i);
      this.base += cw;
      this.at = 0;
    }
    return this.record(words, head);
  }

  /** Makes chunk `i` the one being written. */
  private writeChunk(i: number): void {
    this.u32 = this.chunks[i];
    this.f64 = this.chunkF64[i];
    this.limit = this.u32.length;
  }

  /** A new chunk `i` of `words` words, in place of any it had. */
  private addChunk(i: number, words: number): Uint32Array {
    const buf = new ArrayBuffer(4 * words);
    this.chunkF64[i] = new Float64Array(buf);
    return (this.chunks[i] = new Uint32Array(buf));
  }

  /** Records go on from position `end` (one the log has held); the chunks past it are dropped. */
  private moveTo(end: number): void {
    const cw = this.chunkWords;
    // A position at a chunk's end stays in that chunk (full): the next record begins the next one.
    const i = end > 0 ? Math.ceil(end / cw) - 1 : 0;
    this.chunks.length = this.chunkF64.length = i + 1;
    this.writeChunk(i);
    this.base = i * cw;
    this.at = end - this.base;
  }

  private rip(lo: number, hi: number): bigint {
    if (hi >= 0x200000) return (BigInt(hi) << 32n) | BigInt(lo); // beyond 2^53: not a Map key
    const key = lo + hi * TWO32;
    let v = this.rips.get(key);
    if (v === undefined) {
      if (this.rips.size >= 4096) this.rips.clear();
      this.rips.set(key, (v = BigInt(key)));
    }
    return v;
  }

  /** Appends to `out` the events of the records from word `from` on that begin before word `to`; where it stopped. */
  private decode(from: number, to: number, out: TraceEvent[]): number {
    const cw = this.chunkWords, ghz = this.ghz;
    let ci = Math.floor(from / cw), base = ci * cw;
    let w = this.chunks[ci], d = this.chunkF64[ci];
    // `at` is the chunk's word; base + at the position.
    let at = from - base;
    while (base + at < to) {
      if (at >= cw || w[at] === K_PAD) {
        ci++;
        base += cw;
        w = this.chunks[ci];
        d = this.chunkF64[ci];
        at = 0;
        continue;
      }
      const head = w[at], kind = head & 7, small = (head >>> 3) & 0xff, vcpu = Math.floor(head / 2048);
      const h = at >> 1;
      if (kind === K_OBJECT) {
        out.push(this.objects[w[at + 1]]);
        at += WORDS[K_OBJECT];
        continue;
      }
      const t = d[h + 1] / ghz;
      switch (kind) {
        case K_ENTRY:
          out.push({ kind: 'kvm_entry', t, vcpu, rip: this.rip(w[at + 1], w[at + 4]) });
          if (small) out.push({ kind: 'activity', t, vcpu, activity: 'guest' });
          break;
        case K_EXIT: {
          const info1 = d[h + 2], intrInfo = w[at + 10];
          out.push({
            kind: 'kvm_exit', t, vcpu, exit: d[h + 3], reason: w[at + 1], rip: this.rip(w[at + 8], w[at + 9]),
            info1: info1 === 0 ? 0n : BigInt(info1), info2: intrInfo === 0 ? 0n : BigInt(intrInfo), intrInfo, errorCode: w[at + 11],
          });
          if (small) out.push({ kind: 'activity', t, vcpu, activity: 'kvm' });
          break;
        }
        case K_ACTIVITY: out.push({ kind: 'activity', t, vcpu, activity: ACTIVITIES[small] }); break;
        case K_INJ: out.push({ kind: 'inj_virq', t, vcpu, vector: w[at + 1], soft: small === 1 }); break;
        case K_HALT_POLL: out.push({ kind: 'halt_poll', t, vcpu, polled_ns: d[h + 2] / ghz, success: small === 1, grow: d[h + 3] }); break;
        case K_USERSPACE_EXIT: out.push({ kind: 'kvm_userspace_exit', t, vcpu, reason: w[at + 1], errno: w[at + 4] }); break;
      }
      at += WORDS[kind];
    }
    return base + at;
  }
}
