// Side by side: one exit as recorded in two runs (typically without and with
// KVM_GUESTDBG_EXIT_USERSPACE). Rows are aligned by function; a frame that returned something else
// on the other side is marked, and so is each side's way out of KVM_RUN.
import { useId, useMemo } from 'react';
import type { Frame } from '../../../model/trace/events';
import { useListWindow } from '../common/window';
import { diffFrames, returnPath, type DiffRow } from './diff';
import { Aside } from './Aside';
import { frameLabel } from './tree';

export interface FrameSide {
  /** "without EXIT_USERSPACE" */
  label: string;
  roots: readonly Frame[];
}

const ROW = 22;

/** One sentence per side: how (and from where) KVM_RUN returned. */
export function exitSummary(side: FrameSide): string {
  const root = side.roots[side.roots.length - 1];
  const path = returnPath(side.roots);
  if (!root) return `${side.label}: nothing recorded.`;
  if (!path.length) return `${side.label}: KVM_RUN did not return to userspace in this recording.`;
  return `${side.label}: KVM_RUN returns ${root.ret} to userspace, from ${path[path.length - 1].fn}.`;
}

export function FrameDiff({ left, right }: { left: FrameSide; right: FrameSide }) {
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
        Same exit, {left.label} and {right.label}
      </h3>
      <p className="xs-diff-summary">
        {changed} {changed === 1 ? 'frame returns' : 'frames return'} differently
        {oneSided ? `, ${oneSided} called on one side only` : ''}. {exitSummary(left)} {exitSummary(right)}
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
