// Side by side: one exit as recorded in two runs (typically without and with
// KVM_GUESTDBG_EXIT_USERSPACE). Rows are aligned by function; a frame that returned something else
// on the other side is marked, and so is each side's way out of KVM_RUN.
import { useId, useMemo } from 'react';
import type { Frame } from '../../../model/trace/events';
import { useListWindow } from '../common/window';
import { diffFrames, exitsReached, returnPath, type DiffRow } from './diff';
import { Aside } from './Aside';
import { frameLabel } from './tree';

export interface FrameSide {
  /** "without EXIT_USERSPACE" */
  label: string;
  roots: readonly Frame[];
}

const ROW = 22;

/**
 * One sentence per side: how (and from where) KVM_RUN returned; with `exit`, the exit compared, also
 * whether this side's KVM_RUN got to it (with EXIT_USERSPACE it may return at an earlier exit, and
 * the exit compared comes in a later KVM_RUN).
 */
export function exitSummary(side: FrameSide, exit?: number): string {
  const root = side.roots[side.roots.length - 1];
  const path = returnPath(side.roots);
  if (!root) return `${side.label}: nothing recorded.`;
  if (!path.length) return `${side.label}: KVM_RUN did not return to userspace in this recording.`;
  const reached = exitsReached(side.roots);
  const last = reached[reached.length - 1];
  const at = last === undefined ? '' : ` at exit #${last}`;
  const before = exit !== undefined && last !== undefined && last < exit ? ` Exit #${exit} comes in a later KVM_RUN on this side.` : '';
  return `${side.label}: KVM_RUN returns ${root.ret} to userspace${at}, from ${path[path.length - 1].fn}.${before}`;
}

/** The compared KVM_RUN, both ways: `exit` and `vcpu` name the exit it was recorded for, when known. */
export interface FrameDiffProps {
  left: FrameSide;
  right: FrameSide;
  exit?: number;
  vcpu?: number;
}

export function FrameDiff({ left, right, exit, vcpu }: FrameDiffProps) {
  const headingId = useId();
  const rows = useMemo(() => diffFrames(left.roots, right.roots), [left.roots, right.roots]);
  const paths = useMemo(() => [new Set(returnPath(left.roots)), new Set(returnPath(right.roots))], [left.roots, right.roots]);
  const origins = useMemo(() => [...paths].map((p) => [...p].pop()), [paths]);
  const changed = rows.filter((r) => r.kind === 'changed').length;
  const oneSided = rows.length - changed - rows.filter((r) => r.kind === 'same').length;
  const win = useListWindow(rows.length, ROW);

  const cell = (r: DiffRow, side: 0 | 1) => {
    const f = side ? r.right : r.left;
    if (!f) return <div role="cell" className="xs-dcell xs-absent" aria-label="not called on this side" />;
    const cls = ['xs-dcell', paths[side].has(f) && 'xs-exitpath'].filter(Boolean).join(' ');
    return (
      <div role="cell" className={cls} style={{ paddingLeft: 4 + r.depth * 14 }}>
        <span className="xs-sig">{frameLabel(f, 'returned')}</span>
        {r.kind === 'changed' && <span className="xs-sr-only"> (returns differently)</span>}
        {f === origins[side] && <Aside className="xs-badge">KVM_RUN returns from here</Aside>}
      </div>
    );
  };

  return (
    <div className="xs-diff">
      <h3 id={headingId}>
        {exit === undefined ? 'Same exit' : `The KVM_RUN that made exit #${exit}${vcpu === undefined ? '' : ` of vCPU ${vcpu}`}`}, {left.label} and {right.label}
      </h3>
      <p className="xs-diff-summary">
        {changed} {changed === 1 ? 'frame returns' : 'frames return'} differently
        {oneSided ? `, ${oneSided} called on one side only` : ''}.
        <br />
        {exitSummary(left, exit)}
        <br />
        {exitSummary(right, exit)}
      </p>
      <div role="table" aria-labelledby={headingId} aria-rowcount={rows.length + 1} className="xs-dtable">
        <div role="row" className="xs-drow xs-dhead" aria-rowindex={1}>
          <div role="columnheader" className="xs-dcell">{left.label}</div>
          <div role="columnheader" className="xs-dcell">{right.label}</div>
        </div>
        {/* Focusable, so that the keyboard can scroll it too. */}
        <div ref={win.ref} onScroll={win.onScroll} className="xs-dscroll" role="rowgroup" tabIndex={0} style={{ height: rows.length * ROW + 2 }}>
          <div role="none" style={{ height: rows.length * ROW, position: 'relative' }}>
            {rows.slice(win.start, win.end).map((r, k) => {
              const i = win.start + k;
              return (
                <div key={i} role="row" aria-rowindex={i + 2} className={`xs-drow xs-d-${r.kind}`} style={{ top: i * ROW }}>
                  {cell(r, 0)}
                  {cell(r, 1)}
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </div>
  );
}
