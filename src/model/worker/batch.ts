// What the page is sent of the event stream, reduced here in the worker as the model emits it, so
// that the page never holds or re-reads the stream: the ioctls (few, as objects, for the ioctl log),
// the timeline's changes and the vCPU events the narration reads (columns of typed arrays, whose
// buffers are transferred, not copied), and perf kvm stat's rows (the tally `exitscope run` prints
// from). A run of 200,000 exits costs the page a few typed arrays per batch, not a million objects.
import type { TraceEvent } from '../trace/events';
import { KvmStatTally, type KvmStat } from '../trace/kvmstat';
import { ACTIVITIES, Timeline, transferables, type TimelineDelta } from '../trace/timeline';

export type IoctlEvent = Extract<TraceEvent, { kind: 'ioctl' }>;

/** The kinds of VcpuEventColumns, by their code in `kind`. */
export const VCPU_EVENT_KINDS = ['kvm_exit', 'kvm_entry', 'kvm_userspace_exit', 'activity'] as const;
export type VcpuEventKind = (typeof VCPU_EVENT_KINDS)[number];
const KIND_CODE = new Map<string, number>(VCPU_EVENT_KINDS.map((k, i) => [k, i]));
const ACTIVITY_CODE = new Map(ACTIVITIES.map((a, i) => [a, i]));

/** Where a vCPU thread went, event by event, one column per field (row i is the i-th event). */
export interface VcpuEventColumns {
  n: number;
  kind: Uint8Array; // index into VCPU_EVENT_KINDS
  vcpu: Uint32Array;
  t: Float64Array;
  /** kvm_exit: the basic exit reason; kvm_userspace_exit: run->exit_reason; activity: index into ACTIVITIES; kvm_entry: 0. */
  code: Int32Array;
  /** kvm_exit: the vCPU's exit number; kvm_userspace_exit: the errno (0 when KVM_RUN succeeded); else 0. */
  detail: Int32Array;
}

/** perf kvm stat for the VM, and for each vCPU that has made an exit (in id order). */
export interface StatsView {
  vm: KvmStat;
  vcpus: KvmStat[];
}

/** What happened since the previous batch. */
export interface Batch {
  /** The stream starts again (a load, Reset, Step back, Go to exit): the page drops what it holds,
   *  and these events rebuild a state rather than tell what just happened. */
  replay: boolean;
  ioctls: IoctlEvent[];
  vcpuEvents: VcpuEventColumns;
  timeline: TimelineDelta;
  /** The statistics now; null when no exit or entry came (they are as they were). */
  stats: StatsView | null;
}

/** The vCPU-thread events among `events` as columns (other kinds are left out). */
export function vcpuEventColumns(events: readonly TraceEvent[]): VcpuEventColumns {
  let n = 0;
  for (const e of events) if (KIND_CODE.has(e.kind)) n++;
  const c: VcpuEventColumns = { n, kind: new Uint8Array(n), vcpu: new Uint32Array(n), t: new Float64Array(n), code: new Int32Array(n), detail: new Int32Array(n) };
  let i = 0;
  for (const e of events) {
    const kind = KIND_CODE.get(e.kind);
    if (kind === undefined || e.kind === 'ioctl') continue;
    c.kind[i] = kind;
    c.vcpu[i] = e.vcpu;
    c.t[i] = e.t;
    if (e.kind === 'kvm_exit') {
      c.code[i] = e.reason & 0xffff;
      c.detail[i] = e.exit;
    } else if (e.kind === 'kvm_userspace_exit') {
      c.code[i] = e.reason;
      c.detail[i] = e.errno;
    } else if (e.kind === 'activity') {
      c.code[i] = ACTIVITY_CODE.get(e.activity) ?? -1;
    }
    i++;
  }
  return c;
}

/** Pieces of columns one after the other, as one (the piece itself when there is one). */
function joinColumns(pieces: readonly VcpuEventColumns[]): VcpuEventColumns {
  if (pieces.length === 1) return pieces[0];
  const n = pieces.reduce((a, p) => a + p.n, 0);
  const c: VcpuEventColumns = { n, kind: new Uint8Array(n), vcpu: new Uint32Array(n), t: new Float64Array(n), code: new Int32Array(n), detail: new Int32Array(n) };
  let at = 0;
  for (const p of pieces) {
    c.kind.set(p.kind, at);
    c.vcpu.set(p.vcpu, at);
    c.t.set(p.t, at);
    c.code.set(p.code, at);
    c.detail.set(p.detail, at);
    at += p.n;
  }
  return c;
}

/** The buffers of a batch, for postMessage's transfer list. */
export function batchTransferables(b: Batch): ArrayBuffer[] {
  const v = b.vcpuEvents;
  return [...transferables(b.timeline), ...[v.kind, v.vcpu, v.t, v.code, v.detail].map((a) => a.buffer as ArrayBuffer)];
}

/**
 * Follows a session's event stream (append-only until `restart`) and cuts it into batches. A run
 * `absorb`s the stream after every slice and `take`s a batch about once a frame: the reducing (and
 * the model's making of the event objects, when the stream is read) is spread over the slices, so
 * no slice is followed by a frame's worth of it while a Pause waits.
 */
export class EventBatcher {
  /** Events of the stream absorbed since the (re)start. */
  private absorbed = 0;
  private restarted = true;
  private timeline = new Timeline({ forgetSent: true });
  private tally = new KvmStatTally();
  /** What was absorbed since the last batch, piece by piece: its ioctls and its vCPU events. */
  private ioctls: IoctlEvent[] = [];
  private pieces: VcpuEventColumns[] = [];
  /** An exit or entry was absorbed since the last batch: the statistics changed. */
  private moved = false;

  /** The stream starts again from its first event (a new or rewound session). */
  restart(): void {
    this.absorbed = 0;
    this.restarted = true;
    this.timeline.clear();
    this.tally = new KvmStatTally();
    this.ioctls = [];
    this.pieces = [];
    this.moved = false;
  }

  /** Reduces `events`, the stream's next ones (the reader keeps none of them), to go out with the next batch. */
  absorb(events: readonly TraceEvent[]): void {
    if (!events.length) return;
    this.absorbed += events.length;
    this.timeline.append(events);
    this.tally.add(events);
    for (const e of events) if (e.kind === 'ioctl') this.ioctls.push(e);
    this.pieces.push(vcpuEventColumns(events));
    this.moved ||= events.some((e) => e.kind === 'kvm_exit' || e.kind === 'kvm_entry');
  }

  /**
   * What was absorbed since the last batch, as a batch; null when nothing was (and no restart to tell).
   * A caller that holds the whole stream passes it: its events past those absorbed are absorbed first.
   */
  take(stream: readonly TraceEvent[] = []): Batch | null {
    if (stream.length > this.absorbed) this.absorb(stream.slice(this.absorbed));
    if (!this.restarted && !this.pieces.length) return null;
    const replay = this.restarted;
    const { ioctls, moved } = this;
    const vcpuEvents = joinColumns(this.pieces);
    this.restarted = false;
    this.ioctls = [];
    this.pieces = [];
    this.moved = false;
    const stats = moved || replay ? { vm: this.tally.stat(), vcpus: this.tally.vcpus().map((v) => this.tally.stat(v)) } : null;
    return { replay, ioctls, vcpuEvents, timeline: this.timeline.drain(), stats };
  }
}
