// Step frame walks the recorded frames of one ioctl one call or one return at a time, in the order
// they happened: a frame's call, then its callees' walks, then its return (depth-first).
import type { Frame } from '../../../model/trace/events';

export interface WalkStep {
  kind: 'call' | 'return';
  frame: Frame;
  depth: number;
}

/** The calls and returns of a frame tree in the order they happened: 2 steps per frame. */
export function linearise(roots: readonly Frame[]): WalkStep[] {
  const out: WalkStep[] = [];
  // Iterative, so that deep recordings cannot overflow the stack.
  const stack: { frame: Frame; depth: number; next: number }[] = [];
  for (const root of roots) {
    out.push({ kind: 'call', frame: root, depth: 0 });
    stack.push({ frame: root, depth: 0, next: 0 });
    while (stack.length) {
      const top = stack[stack.length - 1];
      const child = top.frame.calls[top.next++];
      if (child) {
        out.push({ kind: 'call', frame: child, depth: top.depth + 1 });
        stack.push({ frame: child, depth: top.depth + 1, next: 0 });
      } else {
        out.push({ kind: 'return', frame: top.frame, depth: top.depth });
        stack.pop();
      }
    }
  }
  return out;
}

/** Where each frame's call and return fall in `linearise` order. */
export function stepIndex(steps: readonly WalkStep[]): Map<Frame, { call: number; ret: number }> {
  const at = new Map<Frame, { call: number; ret: number }>();
  steps.forEach((s, i) => {
    if (s.kind === 'call') at.set(s.frame, { call: i, ret: -1 });
    else at.get(s.frame)!.ret = i;
  });
  return at;
}

/** How far the walk has got with a frame when `cursor` steps have been taken. */
export type FramePhase = 'pending' | 'running' | 'returned';

export function phaseAt(at: { call: number; ret: number } | undefined, cursor: number): FramePhase {
  if (!at || at.call >= cursor) return 'pending';
  return at.ret < cursor ? 'returned' : 'running';
}
