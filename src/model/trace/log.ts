// The event stream as the model records it: the events of the exit path (kvm_entry, kvm_exit,
// activity changes, injections, halt-polling, userspace exits) go into a flat Float64Array, one
// record each as long as its kind needs (a kind, then its numbers), so that recording one allocates
// nothing and a busy run writes little memory; the rest (ioctls) are kept as
// the objects they are. `list` turns what was recorded since it was last read into TraceEvent objects,
// in order, and appends them to one array that keeps growing — the array every view reads. The exit
// path gives its times in cycles of the vCPU's clock: they become ns (÷ ghz, as vcpu.t computes them)
// only when read, so recording an event divides nothing.
import type { TraceEvent, VcpuActivity } from './events';

const K_OBJECT = 0, K_ENTRY = 1, K_EXIT = 2, K_ACTIVITY = 3, K_INJ = 4, K_HALT_POLL = 5, K_USERSPACE_EXIT = 6;
/** Float64 slots of a record, by kind (the kind's own slot included). */
const WIDTH = [2, 6, 11, 4, 5, 6, 5];
const MAX_WIDTH = 11;
const TWO32 = 4294967296;

export const ACTIVITIES: readonly VcpuActivity[] = ['guest', 'guest_halted', 'kvm', 'polling', 'blocked', 'userspace'];
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

export class EventLog {
  /** Recorded, not yet turned into objects: `end` slots of it. */
  private rec: Float64Array;
  private end = 0;
  private readonly objects: TraceEvent[] = [];
  private readonly events: TraceEvent[] = [];
  /** RIPs as BigInts, shared between events (a guest loops over few addresses). */
  private readonly rips = new Map<number, bigint>();

  /** `ghz`: cycles per ns of the recorded clocks; `capacity`: records (of the widest kind) before the buffer first grows (it doubles when full). */
  constructor(readonly enabled: boolean, private readonly ghz = 1, capacity = 1024) {
    this.rec = new Float64Array(MAX_WIDTH * capacity);
  }

  /** Every event so far, in order (one array, extended in place). */
  get list(): TraceEvent[] {
    if (this.end) this.materialize();
    return this.events;
  }

  /** Any event, kept as the object given. */
  emit(e: TraceEvent): void {
    const at = this.slot(WIDTH[K_OBJECT]);
    this.rec[at] = K_OBJECT;
    this.rec[at + 1] = this.objects.length;
    this.objects.push(e);
  }

  /** kvm_entry at `clock` (cycles); `guest`: followed by the activity change to 'guest' (one record for both). */
  kvmEntry(clock: number, vcpu: number, ripLo: number, ripHi: number, guest = false): void {
    const at = this.slot(WIDTH[K_ENTRY]), r = this.rec;
    r[at] = K_ENTRY; r[at + 1] = clock; r[at + 2] = vcpu; r[at + 3] = ripLo; r[at + 4] = ripHi; r[at + 5] = guest ? 1 : 0;
  }

  /**
   * kvm_exit at `clock` (cycles); `info1` is the exit qualification (below 2^53), `info2` the interruption information;
   * `kvm`: followed by the activity change to 'kvm' (one record for both).
   */
  kvmExit(clock: number, vcpu: number, exit: number, reason: number, ripLo: number, ripHi: number, info1: number, intrInfo: number, errorCode: number, kvm = false): void {
    const at = this.slot(WIDTH[K_EXIT]), r = this.rec;
    r[at] = K_EXIT; r[at + 1] = clock; r[at + 2] = vcpu; r[at + 3] = ripLo; r[at + 4] = ripHi;
    r[at + 5] = exit; r[at + 6] = reason; r[at + 7] = info1; r[at + 8] = intrInfo; r[at + 9] = errorCode; r[at + 10] = kvm ? 1 : 0;
  }

  activity(clock: number, vcpu: number, activity: VcpuActivity): void {
    const at = this.slot(WIDTH[K_ACTIVITY]), r = this.rec;
    r[at] = K_ACTIVITY; r[at + 1] = clock; r[at + 2] = vcpu; r[at + 3] = activityCode(activity);
  }

  injVirq(clock: number, vcpu: number, vector: number, soft: boolean): void {
    const at = this.slot(WIDTH[K_INJ]), r = this.rec;
    r[at] = K_INJ; r[at + 1] = clock; r[at + 2] = vcpu; r[at + 3] = vector; r[at + 4] = soft ? 1 : 0;
  }

  /** `polled`: how long it polled, in cycles. */
  haltPoll(clock: number, vcpu: number, polled: number, success: boolean, grow: number): void {
    const at = this.slot(WIDTH[K_HALT_POLL]), r = this.rec;
    r[at] = K_HALT_POLL; r[at + 1] = clock; r[at + 2] = vcpu; r[at + 3] = polled; r[at + 4] = success ? 1 : 0; r[at + 5] = grow;
  }

  userspaceExit(clock: number, vcpu: number, reason: number, errno: number): void {
    const at = this.slot(WIDTH[K_USERSPACE_EXIT]), r = this.rec;
    r[at] = K_USERSPACE_EXIT; r[at + 1] = clock; r[at + 2] = vcpu; r[at + 3] = reason; r[at + 4] = errno;
  }

  /** The start of a fresh record of `width` slots, growing the buffer when it would not fit. */
  private slot(width: number): number {
    const at = this.end;
    if (at + width > this.rec.length) {
      const bigger = new Float64Array(this.rec.length * 2);
      bigger.set(this.rec);
      this.rec = bigger;
    }
    this.end = at + width;
    return at;
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

  private materialize(): void {
    const r = this.rec, out = this.events, ghz = this.ghz;
    for (let at = 0; at < this.end; at += WIDTH[r[at]]) {
      const t = r[at + 1] / ghz, vcpu = r[at + 2];
      switch (r[at]) {
        case K_OBJECT: out.push(this.objects[r[at + 1]]); break;
        case K_ENTRY:
          out.push({ kind: 'kvm_entry', t, vcpu, rip: this.rip(r[at + 3], r[at + 4]) });
          if (r[at + 5]) out.push({ kind: 'activity', t, vcpu, activity: 'guest' });
          break;
        case K_EXIT: {
          const info1 = r[at + 7], intrInfo = r[at + 8];
          out.push({
            kind: 'kvm_exit', t, vcpu, exit: r[at + 5], reason: r[at + 6], rip: this.rip(r[at + 3], r[at + 4]),
            info1: info1 === 0 ? 0n : BigInt(info1), info2: intrInfo === 0 ? 0n : BigInt(intrInfo), intrInfo, errorCode: r[at + 9],
          });
          if (r[at + 10]) out.push({ kind: 'activity', t, vcpu, activity: 'kvm' });
          break;
        }
        case K_ACTIVITY: out.push({ kind: 'activity', t, vcpu, activity: ACTIVITIES[r[at + 3]] }); break;
        case K_INJ: out.push({ kind: 'inj_virq', t, vcpu, vector: r[at + 3], soft: r[at + 4] === 1 }); break;
        case K_HALT_POLL: out.push({ kind: 'halt_poll', t, vcpu, polled_ns: r[at + 3] / ghz, success: r[at + 4] === 1, grow: r[at + 5] }); break;
        case K_USERSPACE_EXIT: out.push({ kind: 'kvm_userspace_exit', t, vcpu, reason: r[at + 3], errno: r[at + 4] }); break;
      }
    }
    this.end = 0;
    this.objects.length = 0;
  }
}
