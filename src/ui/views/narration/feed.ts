// What the narration says, from the model's events and frames: one sentence per exit when a person
// steps ("vCPU 1: HLT exit, kvm_emulate_halt returned 0, KVM_RUN returned to userspace"), one
// summary per vCPU while it runs. `tick()` is called once per animation frame and decides what (if
// anything) to announce, so a run of 10,000 exits becomes a few summaries, not 10,000 sentences.
// An exit told while KVM still holds it ("still in KVM") is told again when the next step has KVM
// handle it ("handle_io returned 1, back in the guest"), with its own handler from the frames.
import type { Frame, VcpuActivity } from '../../../model/trace/events';
import { ACTIVITIES } from '../../../model/trace/timeline';
import { VCPU_EVENT_KINDS, type VcpuEventColumns } from '../../../model/worker/protocol';
import { count, formatRet, plural } from '../common/format';
import { errnoName, kvmExitName, reasonName } from '../common/names';

/** One exit as the narration tells it. */
export interface ExitStory {
  vcpu: number;
  reason: string;
  /** The exit handler's frame, when the recording of this KVM_RUN has it. */
  handler?: { fn: string; ret: string };
  /** KVM_RUN returned to userspace after this exit: with which run->exit_reason, or an errno. */
  returned?: { exitReason: string; errno: string | null };
  /** Where the vCPU is now, when it did not return to userspace. */
  after?: VcpuActivity;
}

const AFTER: Partial<Record<VcpuActivity, string>> = {
  guest: 'back in the guest',
  guest_halted: 'halted in the guest',
  kvm: 'still in KVM',
  polling: 'halt-polling',
  blocked: 'blocked in kvm_vcpu_block',
};

export function exitSentence(s: ExitStory): string {
  const parts = [`vCPU ${s.vcpu}: ${s.reason} exit`];
  if (s.handler) parts.push(`${s.handler.fn} returned ${s.handler.ret}`);
  if (s.returned) parts.push(returnWords(s.returned));
  else if (s.after && AFTER[s.after]) parts.push(AFTER[s.after]!);
  return parts.join(', ');
}

function returnWords(r: NonNullable<ExitStory['returned']>): string {
  return r.errno ? `KVM_RUN returned -${r.errno} (${r.exitReason})` : `KVM_RUN returned to userspace with exit_reason ${r.exitReason}`;
}

/**
 * The frame that handled exit number `exit` (kvm_exit's per-vCPU number) in a recording of its
 * vCPU's KVM_RUN, once it has returned: the frame the model marked `handles_exit` (the handler
 * __vmx_handle_exit dispatched to, a handle_fastpath_* frame, or __vmx_handle_exit itself). An exit
 * not handled yet has none, nor has one from another recording.
 */
export function exitHandler(roots: readonly Frame[], exit: number): Frame | undefined {
  const stack = [...roots];
  while (stack.length) {
    const f = stack.pop()!;
    if (f.handles_exit === exit) return f.ret === undefined ? undefined : f;
    for (let i = f.calls.length - 1; i >= 0; i--) stack.push(f.calls[i]);
  }
  return undefined;
}

/** Up to this many exits (and returns without one) between announcements are told one by one; more are summed up. */
const ONE_BY_ONE = 3;
/** While running, a summary at most every this many animation frames (about a second). */
const SUMMARY_FRAMES = 60;

const [EXIT, ENTRY, RETURN, ACTIVITY] = (['kvm_exit', 'kvm_entry', 'kvm_userspace_exit', 'activity'] as const).map((k) => VCPU_EVENT_KINDS.indexOf(k));

/** An exit the feed follows until KVM lets go of it (re-entry or a return to userspace). */
interface Followed {
  story: ExitStory;
  exit: number; // its number among the vCPU's exits (kvm_exit's `exit`)
  queued: boolean; // to be told at the next announcement
}

/** A return to userspace with no exit followed before it (a signal, or an exit already summed up). */
interface BareReturn {
  vcpu: number;
  returned: NonNullable<ExitStory['returned']>;
}

/** One vCPU since the last announcement, for a summary. */
interface Tally {
  exits: number;
  reasons: number[]; // exits by basic exit reason
  returns: number;
}

export class NarrationFeed {
  /** What the next announcement tells one by one; emptied (and left so) once there is too much. */
  private queue: (Followed | BareReturn)[] = [];
  /** New exits and bare returns since the last announcement: past ONE_BY_ONE, a summary. */
  private fresh = 0;
  // Per vCPU (arrays by vCPU id, as push() runs for every event of a run): the tally, and its latest
  // exit while KVM holds it.
  private tallies: Tally[] = [];
  private latest: (Followed | undefined)[] = [];
  private frames: { roots: readonly Frame[]; vcpu: number | null } = { roots: [], vcpu: null };
  private framesSinceSummary = SUMMARY_FRAMES;
  private listeners = new Set<() => void>();

  /** vCPU events as they arrive from the worker, in order. */
  push(c: VcpuEventColumns): void {
    for (let i = 0; i < c.n; i++) {
      const vcpu = c.vcpu[i];
      const kind = c.kind[i];
      if (kind === EXIT) this.exit(vcpu, c.code[i], c.detail[i]);
      else if (kind === ENTRY) this.letGo(vcpu, (s) => (s.after = 'guest'));
      else if (kind === RETURN) {
        const returned = { exitReason: kvmExitName(c.code[i]), errno: c.detail[i] ? errnoName(c.detail[i]) : null };
        this.tally(vcpu).returns++;
        if (!this.letGo(vcpu, (s) => (s.returned = returned))) {
          this.fresh++;
          this.enqueue({ vcpu, returned });
        }
      } else if (kind === ACTIVITY) {
        const f = this.latest[vcpu];
        const after = ACTIVITIES[c.code[i]];
        if (f && after && f.story.after !== after) {
          f.story.after = after;
          this.enqueue(f);
        }
      }
    }
    if (c.n) this.notify();
  }

  /** The recording the page shows (LabView.frames), to name each exit's handler and its return value. */
  setFrames(roots: readonly Frame[], vcpu: number | null): void {
    this.frames = { roots, vcpu };
  }

  /** Forgets everything (a reset or a step back: the events start again). */
  clear(): void {
    this.announced();
    this.latest = [];
  }

  /** Called once per animation frame: the announcement to make now, or null. */
  tick(): string | null {
    this.framesSinceSummary++;
    if (this.fresh > ONE_BY_ONE) {
      if (this.framesSinceSummary < SUMMARY_FRAMES) return null;
      this.framesSinceSummary = 0;
      const text = this.summary();
      this.announced();
      return text;
    }
    if (!this.queue.length) return null;
    const text = this.sentences();
    this.announced();
    return text;
  }

  get pending(): boolean {
    return this.queue.length > 0 || this.fresh > 0;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  private tally(vcpu: number): Tally {
    let t = this.tallies[vcpu];
    if (!t) this.tallies[vcpu] = t = { exits: 0, reasons: [], returns: 0 };
    return t;
  }

  private exit(vcpu: number, reason: number, exit: number): void {
    const tally = this.tally(vcpu);
    tally.exits++;
    tally.reasons[reason] = (tally.reasons[reason] ?? 0) + 1;
    if (++this.fresh > ONE_BY_ONE) {
      // Summed up, not followed: what becomes of it is not told.
      if (this.fresh === ONE_BY_ONE + 1) this.unqueue();
      this.latest[vcpu] = undefined;
      return;
    }
    const f: Followed = { story: { vcpu, reason: reasonName(reason) }, exit, queued: false };
    this.latest[vcpu] = f;
    this.enqueue(f);
  }

  /** KVM let go of the vCPU's latest exit: it is told (again) as it ended. False when none was followed. */
  private letGo(vcpu: number, end: (s: ExitStory) => void): boolean {
    const f = this.latest[vcpu];
    if (!f) return false;
    this.latest[vcpu] = undefined;
    end(f.story);
    this.enqueue(f);
    return true;
  }

  private enqueue(x: Followed | BareReturn): void {
    if (this.fresh > ONE_BY_ONE) return this.unqueue(); // a summary will tell it all
    if ('queued' in x) {
      if (x.queued) return;
      x.queued = true;
    }
    this.queue.push(x);
  }

  private unqueue(): void {
    for (const x of this.queue) if ('queued' in x) x.queued = false;
    this.queue = [];
  }

  /** After an announcement: nothing is left to tell. */
  private announced(): void {
    this.unqueue();
    this.fresh = 0;
    this.tallies = [];
  }

  private sentences(): string {
    return this.queue
      .map((x) => {
        if (!('story' in x)) return `vCPU ${x.vcpu}: ${returnWords(x.returned)}`;
        const h = x.story.vcpu === this.frames.vcpu ? exitHandler(this.frames.roots, x.exit) : undefined;
        return exitSentence({ ...x.story, ...(h && { handler: { fn: h.fn, ret: formatRet(h.ret) } }) });
      })
      .join('. ') + '.';
  }

  private summary(): string {
    const out: string[] = [];
    this.tallies.forEach((s, vcpu) => {
      const reasons: [number, number][] = [];
      s.reasons.forEach((k, r) => reasons.push([r, k]));
      const list = reasons.sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([r, k]) => `${reasonName(r)} ${count(k)}`).join(', ');
      const ret = s.returns ? `, KVM_RUN returned ${s.returns === 1 ? 'once' : `${count(s.returns)} times`}` : '';
      out.push(`vCPU ${vcpu}: ${plural(s.exits, 'exit')}${list ? ` (${list})` : ''}${ret}`);
    });
    return out.join('. ') + '.';
  }
}
