// The call-chain tree as the rows a person sees: frames in call order, minus the callees of
// collapsed frames, each with what an ARIA tree needs (level, position among siblings, parent).
import type { Frame } from '../../../model/trace/events';
import { formatRet } from '../common/format';
import type { FramePhase } from './walk';

export interface TreeRow {
  frame: Frame;
  /** Where the frame sits: indices from the root ("0.2.1"), stable across copies of a recording. */
  key: string;
  depth: number;
  /** Row of the parent frame, or -1 for a root. */
  parent: number;
  /** 1-based position among its siblings, and how many siblings there are (aria-posinset/-setsize). */
  pos: number;
  size: number;
}

/** Frames in call order less the callees of collapsed frames (by key). */
export function flattenTree(roots: readonly Frame[], collapsed: ReadonlySet<string>): TreeRow[] {
  const rows: TreeRow[] = [];
  const stack: { list: readonly Frame[]; next: number; parent: number; depth: number; prefix: string }[] = [
    { list: roots, next: 0, parent: -1, depth: 0, prefix: '' },
  ];
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (top.next >= top.list.length) {
      stack.pop();
      continue;
    }
    const frame = top.list[top.next++];
    const key = top.prefix + (top.next - 1);
    rows.push({ frame, key, depth: top.depth, parent: top.parent, pos: top.next, size: top.list.length });
    if (frame.calls.length && !collapsed.has(key)) stack.push({ list: frame.calls, next: 0, parent: rows.length - 1, depth: top.depth + 1, prefix: `${key}.` });
  }
  return rows;
}

/** Keys of the frames enclosing the frame at `key`, outermost first: "0.2.1" → ["0", "0.2"]. */
export function ancestorKeys(key: string): string[] {
  const parts = key.split('.');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('.'));
}

/** What tells two recordings apart: a new one resets what was collapsed; a copy of the same keeps it. */
export function recordingId(roots: readonly Frame[]): string {
  return roots.length ? `${roots[0].fn}@${roots[0].t}` : '';
}

/** How a frame reads, to people and screen readers alike: "kvm_skip_emulated_instruction → 0". */
export function frameLabel(frame: Frame, phase: FramePhase): string {
  if (phase === 'pending') return `${frame.fn} (not called yet)`;
  // A frame with no return value has not returned yet: the ioctl is still in it (a blocked KVM_RUN).
  if (phase === 'running' || frame.ret === undefined) return `${frame.fn} (running)`;
  return `${frame.fn} → ${formatRet(frame.ret)}`;
}

/** "vcpu=1 reason=HLT" */
export function formatArgs(args: Frame['args']): string {
  return args ? Object.entries(args).map(([k, v]) => `${k}=${v}`).join(' ') : '';
}

/** The site a source link points at, for its text. */
export function linkHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
