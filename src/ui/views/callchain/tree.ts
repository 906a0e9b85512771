// The call-chain tree as the rows a person sees: frames in call order, minus the callees of
// collapsed frames, each with what an ARIA tree needs (level, position among siblings, parent).
import type { Frame } from '../../../model/trace/events';
import { formatRet } from '../common/format';
import type { FramePhase } from './walk';

export interface TreeRow {
  frame: Frame;
  depth: number;
  /** Row of the parent frame, or -1 for a root. */
  parent: number;
  /** 1-based position among its siblings, and how many siblings there are (aria-posinset/-setsize). */
  pos: number;
  size: number;
}

export function flattenTree(roots: readonly Frame[], collapsed: ReadonlySet<Frame>): TreeRow[] {
  const rows: TreeRow[] = [];
  const stack: { list: readonly Frame[]; next: number; parent: number; depth: number }[] = [{ list: roots, next: 0, parent: -1, depth: 0 }];
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (top.next >= top.list.length) {
      stack.pop();
      continue;
    }
    const frame = top.list[top.next++];
    rows.push({ frame, depth: top.depth, parent: top.parent, pos: top.next, size: top.list.length });
    if (frame.calls.length && !collapsed.has(frame)) stack.push({ list: frame.calls, next: 0, parent: rows.length - 1, depth: top.depth + 1 });
  }
  return rows;
}

/** The frames enclosing `target` (outermost first), or null when it is not in the tree. */
export function ancestors(roots: readonly Frame[], target: Frame): Frame[] | null {
  const path: Frame[] = [];
  const visit = (list: readonly Frame[]): boolean => {
    for (const f of list) {
      if (f === target) return true;
      path.push(f);
      if (visit(f.calls)) return true;
      path.pop();
    }
    return false;
  };
  return visit(roots) ? path : null;
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
