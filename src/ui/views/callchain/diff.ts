// The side-by-side comparison of one exit handled with and without KVM_GUESTDBG_EXIT_USERSPACE (or
// any two recordings): both frame trees aligned row by row, callees matched by function name level
// by level, and each side's way out of KVM_RUN traced from the return values the model recorded.
import type { Frame } from '../../../model/trace/events';

export type DiffKind = 'same' | 'changed' | 'left' | 'right';

export interface DiffRow {
  depth: number;
  left: Frame | null;
  right: Frame | null;
  /** `changed`: the same function returned something else; `left`/`right`: only that side called it. */
  kind: DiffKind;
}

/** Whether a return value ends KVM_RUN: 0 (exit to userspace) or a negative errno (spec §3.0). */
export function endsRun(ret: Frame['ret']): boolean {
  if (typeof ret === 'number') return ret <= 0;
  return typeof ret === 'string' && /^-(E[A-Z0-9]+|\d+)$/.test(ret.trim());
}

export const sameRet = (a: Frame, b: Frame): boolean => String(a.ret) === String(b.ret);

/** Aligns two recordings for side-by-side display, in call order. */
export function diffFrames(left: readonly Frame[], right: readonly Frame[]): DiffRow[] {
  const rows: DiffRow[] = [];
  alignLevel(left, right, 0, rows);
  return rows;
}

function alignLevel(a: readonly Frame[], b: readonly Frame[], depth: number, rows: DiffRow[]): void {
  for (const [i, j] of alignByName(a, b)) {
    if (i >= 0 && j >= 0) {
      rows.push({ depth, left: a[i], right: b[j], kind: sameRet(a[i], b[j]) ? 'same' : 'changed' });
      alignLevel(a[i].calls, b[j].calls, depth + 1, rows);
    } else if (i >= 0) pushOneSide(a[i], depth, 'left', rows);
    else pushOneSide(b[j], depth, 'right', rows);
  }
}

function pushOneSide(f: Frame, depth: number, side: 'left' | 'right', rows: DiffRow[]): void {
  rows.push({ depth, left: side === 'left' ? f : null, right: side === 'right' ? f : null, kind: side });
  for (const c of f.calls) pushOneSide(c, depth + 1, side, rows);
}

/** Above this many cells the middle of a level is paired by position instead of by LCS. */
const LCS_CELLS = 4_000_000;

/**
 * Index pairs aligning two sibling lists by function name: [i, j] matched, [i, -1] only left,
 * [-1, j] only right, in order. A longest common subsequence between the common prefix and suffix.
 */
export function alignByName(a: readonly Frame[], b: readonly Frame[], maxCells = LCS_CELLS): [number, number][] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre].fn === b[pre].fn) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf].fn === b[b.length - 1 - suf].fn) suf++;
  const out: [number, number][] = [];
  for (let k = 0; k < pre; k++) out.push([k, k]);
  const n = a.length - pre - suf;
  const m = b.length - pre - suf;
  if (n * m > maxCells) {
    // Long loops that diverge early (one side kept re-entering the guest): pair by position.
    for (let k = 0; k < Math.max(n, m); k++) {
      const i = k < n ? pre + k : -1;
      const j = k < m ? pre + k : -1;
      if (i >= 0 && j >= 0 && a[i].fn !== b[j].fn) out.push([i, -1], [-1, j]);
      else out.push([i, j]);
    }
  } else {
    // len[i][j] = LCS length of a[pre+i..] and b[pre+j..], in one flat array.
    const w = m + 1;
    const len = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        len[i * w + j] = a[pre + i].fn === b[pre + j].fn ? len[(i + 1) * w + j + 1] + 1 : Math.max(len[(i + 1) * w + j], len[i * w + j + 1]);
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i].fn === b[pre + j].fn) out.push([pre + i++, pre + j++]);
      else if (j >= m || (i < n && len[(i + 1) * w + j] >= len[i * w + j + 1])) out.push([pre + i++, -1]);
      else out.push([-1, pre + j++]);
    }
  }
  for (let k = suf; k > 0; k--) out.push([a.length - k, b.length - k]);
  return out;
}

/**
 * The frames through which KVM_RUN's result came back: from the last root down, at each level the
 * last callee that returned the same value as its caller, to the frame where the 0 (or errno) came
 * from. Read from the recorded return values only. Empty when the recording did not end the run
 * (the ioctl returned > 0, or has not returned).
 */
export function returnPath(roots: readonly Frame[]): Frame[] {
  const path: Frame[] = [];
  let f: Frame | undefined = roots[roots.length - 1];
  if (!f || !endsRun(f.ret)) return path;
  while (f) {
    path.push(f);
    const parent: Frame = f;
    f = undefined;
    for (let i = parent.calls.length - 1; i >= 0 && !f; i--) if (sameRet(parent.calls[i], parent)) f = parent.calls[i];
  }
  return path;
}

/** The VM exits a recording reached (vmx_vcpu_run's `exit` marks), in order. */
export function exitsReached(roots: readonly Frame[]): number[] {
  const out: number[] = [];
  const walk = (fs: readonly Frame[]) => {
    for (const f of fs) {
      if (f.exit !== undefined) out.push(f.exit);
      walk(f.calls);
    }
  };
  walk(roots);
  return out;
}
