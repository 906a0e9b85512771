// Records the kernel functions as the model runs them, nested as called (trace/events.ts `Frame`).
// Every recording call site is written `if (rec) rec.enter(...)`, so with recording off the fast path
// builds no strings, objects or closures.
import type { Frame } from '../trace/events';
import type { KernelVariant } from './variant';

/** At most this many frames are kept per ioctl; deeper calls still run, and are counted in `dropped`. */
export const MAX_FRAMES_PER_IOCTL = 20_000;

export type FrameArgs = Record<string, string | number | boolean>;

/** How many of a frame's last calls markOrigin looks at for the one whose value it returned. */
const ORIGIN_CALLS = 4;

/** Stands in for the frames past the limit: entered and left, never kept. */
const DROPPED: Frame = Object.freeze({ fn: '', t: 0, calls: [] }) as Frame;

/** The callees of a frame that has none yet: shared, replaced by a real array at the first callee. */
const NO_CALLS = Object.freeze([]) as unknown as Frame[];

/**
 * A recorded frame, made with every field it will get: a KVM_RUN records hundreds of thousands of
 * them, and properties added later (ret, note) or an array per leaf are what the collector pays for.
 */
class RecordedFrame implements Frame {
  ret: number | string | undefined = undefined;
  note: string | undefined = undefined;
  calls: Frame[] = NO_CALLS;
  constructor(readonly fn: string, readonly t: number, readonly src: string, readonly args: FrameArgs | undefined) {}
}

/** A frame of the exit path that `mark` may tag with an exit number (the few per exit that need it). */
class ExitFrame extends RecordedFrame {
  exit: number | undefined = undefined;
  handles_exit: number | undefined = undefined;
  // Written out: the implicit constructor of a subclass forwards its arguments by spreading them.
  constructor(fn: string, t: number, src: string, args: FrameArgs | undefined) {
    super(fn, t, src, args);
  }
}

export class FrameRecorder {
  readonly roots: Frame[] = [];
  private readonly stack: Frame[] = [];
  private readonly links: Map<string, string>;
  private kept = 0;
  /** Calls made after the limit was reached, not recorded. */
  dropped = 0;

  constructor(private readonly variant: KernelVariant, private readonly max = MAX_FRAMES_PER_IOCTL) {
    this.links = linksOf(variant);
  }

  /** Opens a frame. `markable`: it may get an exit number (`mark`). */
  enter(fn: string, t: number, args?: FrameArgs, markable = false): void {
    if (this.kept >= this.max) {
      this.dropped++;
      this.stack.push(DROPPED);
      return;
    }
    let src = this.links.get(fn);
    if (src === undefined) src = sourceLink(this.variant, fn);
    const f = markable ? new ExitFrame(fn, t, src, args) : new RecordedFrame(fn, t, src, args);
    this.kept++;
    const parent = this.stack[this.stack.length - 1];
    if (!parent) this.roots.push(f);
    else if (parent.calls === NO_CALLS) parent.calls = [f];
    else parent.calls.push(f);
    this.stack.push(f);
  }

  /** Closes the innermost open frame with its return value (and why). Returns `ret` for chaining. */
  leave<R extends number | string>(ret: R, note?: string): R {
    const f = this.stack.pop();
    if (!f) throw new Error('FrameRecorder.leave without enter');
    if (f === DROPPED) return ret;
    f.ret = ret;
    if (note !== undefined) f.note = note;
    return ret;
  }

  /** Sets the note of the innermost open frame. */
  note(note: string): void {
    const f = this.stack[this.stack.length - 1];
    if (f && f !== DROPPED) f.note = note;
  }

  /**
   * Marks the innermost open frame (entered `markable`) as vmx_vcpu_run ended by VM exit `n` (`exit`),
   * or as that exit's handler (`handles_exit`).
   */
  mark(field: 'exit' | 'handles_exit', n: number): void {
    const f = this.stack[this.stack.length - 1];
    if (f instanceof ExitFrame) f[field] = n;
  }

  /**
   * Marks where the innermost open frame's return value `ret` came from (`ends_run`): the deepest frame
   * reached by following the last call that returned the same value; the frame itself if none did.
   * A value is passed up from one of a function's last few calls (kvm_emulate_halt's skip comes just
   * before its noskip), so only the last ORIGIN_CALLS are looked at: vcpu_run makes thousands.
   */
  markOrigin(ret: number): void {
    let f = this.stack[this.stack.length - 1];
    if (!f || f === DROPPED) return;
    for (;;) {
      let next: Frame | undefined;
      const last = f.calls.length - 1;
      for (let i = last; i >= 0 && i > last - ORIGIN_CALLS && !next; i--) if (f.calls[i].ret === ret) next = f.calls[i];
      if (!next) break;
      f = next;
    }
    f.ends_run = true; // once per KVM_RUN: a property added to one frame
  }

  /** A frame with no callees, entered and left at once. */
  leaf(fn: string, t: number, ret: number | string, note?: string, args?: FrameArgs): void {
    this.enter(fn, t, args);
    this.leave(ret, note);
  }

  get depth(): number {
    return this.stack.length;
  }

  /**
   * Whether the innermost open frame is kept: call sites whose notes or arguments cost something to
   * format check this, so a KVM_RUN past the frame limit stops paying for them.
   */
  get recording(): boolean {
    const f = this.stack[this.stack.length - 1];
    return f !== undefined && f !== DROPPED;
  }
  /** Whether a frame entered now would be kept. */
  get keeping(): boolean {
    return this.kept < this.max;
  }
}

/**
 * Notes and argument objects by a number key, made once: a loop records the same few again and again,
 * and a copy kept per frame is what the collector pays for. A shared argument object is frozen.
 * Keys below SMALL_KEYS are an array index (most are: an exit reason, a vector, an EOI's register);
 * others go through a Map, which must hash them.
 */
export class Memo<T> {
  private readonly small: (T | undefined)[] = new Array(SMALL_KEYS);
  private readonly m = new Map<number, T>();
  constructor(private readonly make: (key: number) => T) {}
  get(key: number): T {
    if (key >= 0 && key < SMALL_KEYS && (key | 0) === key) return this.small[key] ?? (this.small[key] = this.made(key));
    let v = this.m.get(key);
    if (v === undefined) {
      if (this.m.size >= 4096) this.m.clear();
      this.m.set(key, (v = this.made(key)));
    }
    return v;
  }
  private made(key: number): T {
    const v = this.make(key);
    if (typeof v === 'object' && v !== null) Object.freeze(v);
    return v;
  }
}
const SMALL_KEYS = 4096;

// Functions that exist only because an RFC patch adds them: linked to that patch on lore.
const RFC_ADDED: Record<string, number> = {
  kvm_get_allowed_disable_exits: 3,
  kvm_ioctl_disable_exits: 4,
  vmx_update_disabled_exits: 5,
};
const V4_MSGID = (n: number) => `20220622004924.155191-${n + 1}-kechenl@nvidia.com`;
const V6_MSGID = (n: number) => `20230121020738.2973-${n + 1}-kechenl@nvidia.com`;

/** lore link of patch n of the series in this variant (rfc-v4 or rfc-v6), or undefined. */
function patchLink(v: KernelVariant, n: number): string | undefined {
  if (v.kernel === 'rfc-v4' && n <= v.patches) return `https://lore.kernel.org/all/${V4_MSGID(n)}/`;
  if (v.kernel === 'rfc-v6' && n <= 5) return `https://lore.kernel.org/all/${V6_MSGID(n)}/`;
  return undefined;
}

const linkCache = new WeakMap<KernelVariant, Map<string, string>>();

function linksOf(v: KernelVariant): Map<string, string> {
  let cache = linkCache.get(v);
  if (!cache) linkCache.set(v, (cache = new Map()));
  return cache;
}

/**
 * Where to read `fn` at this variant's version. Line numbers could not be checked for every version,
 * so kernel functions use elixir's identifier search (`/C/ident/`), which lists the definition.
 */
export function sourceLink(v: KernelVariant, fn: string): string {
  const cache = linksOf(v);
  let url = cache.get(fn);
  if (url === undefined) {
    const patch = RFC_ADDED[fn];
    // mainline has its own kvm_get_allowed_disable_exits (c829ccd4d9dc), so only the RFCs link to lore.
    url = (patch !== undefined ? patchLink(v, patch) : undefined) ?? `https://elixir.bootlin.com/linux/${v.elixir}/C/ident/${fn}`;
    cache.set(fn, url);
  }
  return url;
}
