// What the narration says, from the model's events and frames: one sentence per exit when a person
// steps ("vCPU 1: HLT exit, kvm_emulate_halt returned 0, KVM_RUN returned to userspace"), one
// summary per vCPU while it runs. `tick()` is called once per animation frame and decides what (if
// anything) to announce, so a run of 10,000 exits becomes a few summaries, not 10,000 sentences.
import type { Frame, TraceEvent, VcpuActivity } from '../../../model/trace/events';
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
 * The frame that handled the latest exit of `reason` in a recording: the handler __vmx_handle_exit
 * called, or, when the fastpath took the exit, the handle_fastpath_* frame.
 */
export function handlerFrame(roots: readonly Frame[], reason: string): Frame | undefined {
  let found: Frame | undefined;
  let fastpath: Frame | undefined;
  const visit = (list: readonly Frame[]) => {
    for (const f of list) {
      if (f.fn.startsWith('handle_fastpath_')) fastpath = f;
      if (f.fn === '__vmx_handle_exit' && f.args?.exit_reason !== undefined && String(f.args.exit_reason).replace(/^EXIT_REASON_/, '') === reason) {
        found = f.calls[f.calls.length - 1] ?? fastpath ?? f;
        fastpath = undefined;
      }
      visit(f.calls);
    }
  };
  visit(roots);
  return found;
}

/** Up to this many exits in one animation frame are told one by one; more are summed up. */
const ONE_BY_ONE = 3;
/** While running, a summary at most every this many animation frames (about a second). */
const SUMMARY_FRAMES = 60;

interface Pending {
  story: ExitStory;
  open: boolean; // KVM_RUN has not returned and the vCPU has not re-entered since this exit
}

export class NarrationFeed {
  private exits: Pending[] = [];
  private returns: { vcpu: number; returned: NonNullable<ExitStory['returned']> }[] = [];
  private frames: { roots: readonly Frame[]; vcpu: number | null } = { roots: [], vcpu: null };
  private framesSinceSummary = SUMMARY_FRAMES;
  private listeners = new Set<() => void>();

  /** Events as they arrive from the worker. */
  push(events: readonly TraceEvent[]): void {
    for (const e of events) {
      if (e.kind === 'kvm_exit') {
        this.exits.push({ story: { vcpu: e.vcpu, reason: reasonName(e.reason & 0xffff) }, open: true });
        continue;
      }
      if (e.kind !== 'kvm_entry' && e.kind !== 'kvm_userspace_exit' && e.kind !== 'activity') continue;
      const last = this.lastOpen(e.vcpu);
      if (e.kind === 'kvm_entry') {
        if (last) {
          last.story.after = 'guest';
          last.open = false;
        }
      } else if (e.kind === 'kvm_userspace_exit') {
        const returned = { exitReason: kvmExitName(e.reason), errno: e.errno ? errnoName(e.errno) : null };
        if (last) {
          last.story.returned = returned;
          last.open = false;
        } else this.returns.push({ vcpu: e.vcpu, returned });
      } else if (last) last.story.after = e.activity;
    }
    if (events.length) this.notify();
  }

  /** The recording the page shows (LabView.frames), to name each exit's handler and its return value. */
  setFrames(roots: readonly Frame[], vcpu: number | null): void {
    this.frames = { roots, vcpu };
  }

  /** Drops what has not been told (a reset or a step back). */
  clear(): void {
    this.exits = [];
    this.returns = [];
  }

  /** Called once per animation frame: the announcement to make now, or null. */
  tick(): string | null {
    this.framesSinceSummary++;
    const n = this.exits.length + this.returns.length;
    if (n === 0) return null;
    if (n > ONE_BY_ONE && this.framesSinceSummary < SUMMARY_FRAMES) return null;
    const text = n > ONE_BY_ONE ? this.summary() : this.sentences();
    if (n > ONE_BY_ONE) this.framesSinceSummary = 0;
    this.clear();
    return text;
  }

  get pending(): boolean {
    return this.exits.length + this.returns.length > 0;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  private lastOpen(vcpu: number): Pending | undefined {
    for (let i = this.exits.length - 1; i >= 0; i--) if (this.exits[i].story.vcpu === vcpu) return this.exits[i].open ? this.exits[i] : undefined;
    return undefined;
  }

  private sentences(): string {
    const last = this.exits[this.exits.length - 1];
    const out = this.exits.map((p) => {
      // Only the latest exit is the one the recorded frames end with.
      if (p === last && p.story.vcpu === this.frames.vcpu) {
        const h = handlerFrame(this.frames.roots, p.story.reason);
        if (h) p.story.handler = { fn: h.fn, ret: formatRet(h.ret) };
      }
      return exitSentence(p.story);
    });
    for (const r of this.returns) out.push(`vCPU ${r.vcpu}: ${returnWords(r.returned)}`);
    return out.join('. ') + '.';
  }

  private summary(): string {
    const per = new Map<number, { reasons: Map<string, number>; exits: number; returns: number }>();
    const of = (vcpu: number) => {
      let s = per.get(vcpu);
      if (!s) per.set(vcpu, (s = { reasons: new Map(), exits: 0, returns: 0 }));
      return s;
    };
    for (const { story } of this.exits) {
      const s = of(story.vcpu);
      s.exits++;
      s.reasons.set(story.reason, (s.reasons.get(story.reason) ?? 0) + 1);
      if (story.returned) s.returns++;
    }
    for (const r of this.returns) of(r.vcpu).returns++;
    return [...per.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([vcpu, s]) => {
        const reasons = [...s.reasons].sort((a, b) => b[1] - a[1]).map(([r, k]) => `${r} ${count(k)}`).join(', ');
        const ret = s.returns ? `, KVM_RUN returned ${s.returns === 1 ? 'once' : `${count(s.returns)} times`}` : '';
        return `vCPU ${vcpu}: ${plural(s.exits, 'exit')}${reasons ? ` (${reasons})` : ''}${ret}`;
      })
      .join('. ') + '.';
  }
}
