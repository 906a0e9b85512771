// The region "Call chain": the kernel frames the model recorded for one ioctl (usually KVM_RUN), as
// a tree of calls, each with its return value, why, and a link to its source. `cursor` is how many
// calls and returns Step frame has walked (linearise order); the last one walked is marked and the
// return values after it are not shown yet. An ARIA tree with one tab stop: arrows move, Left/Right
// collapse and expand, Enter selects.
import { memo, useId, useLayoutEffect, useMemo, useState, type KeyboardEvent } from 'react';
import type { Frame } from '../../../model/trace/events';
import { formatNs, formatRet } from '../common/format';
import { useListWindow } from '../common/window';
import { returnPath } from './diff';
import { Aside } from './Aside';
import { FrameDiff, type FrameSide } from './FrameDiff';
import { ancestorKeys, flattenTree, formatArgs, frameLabel, linkHost, recordingId } from './tree';
import { linearise, phaseAt, stepIndex, type WalkStep } from './walk';
import '../common/theme.css';
import './callchain.css';

export interface CallChainProps {
  /** The recorded frames of the ioctl being looked at (LabView.frames.roots). */
  roots: readonly Frame[];
  /** Calls and returns walked so far; absent (or the total) shows the whole recording. */
  cursor?: number;
  /** What was recorded, e.g. "KVM_RUN on vCPU 1". */
  caption?: string;
  /** The ioctl recorded (LabView.frames.ioctl); KVM_RUN when absent. Only KVM_RUN's way back to
   *  userspace is marked: another ioctl just returns from its handler. */
  ioctl?: string;
  /** The same exit recorded twice (without and with EXIT_USERSPACE), shown side by side below. */
  compare?: { left: FrameSide; right: FrameSide; exit?: number; vcpu?: number } | null;
  onSelectFrame?: (frame: Frame) => void;
}

const ROW = 22; // px; matches --xs-row
const NONE: ReadonlySet<string> = new Set();

/** Memoised: the page re-renders around it on every frame of a run, while its recording rarely changes. */
export const CallChain = memo(function CallChain({ roots, cursor, caption, ioctl = 'KVM_RUN', compare, onSelectFrame }: CallChainProps) {
  const headingId = useId();
  const treeId = useId();
  const steps = useMemo(() => linearise(roots), [roots]);
  const at = useMemo(() => stepIndex(steps), [steps]);
  const walked = cursor === undefined ? steps.length : Math.max(0, Math.min(cursor, steps.length));
  // Nothing is marked before the first step and once everything is shown.
  const current: WalkStep | undefined = walked > 0 && walked < steps.length ? steps[walked - 1] : undefined;
  const exitPath = useMemo(() => returnPath(roots), [roots]);
  const runReturned = ioctl === 'KVM_RUN' && roots.length > 0 && phaseAt(at.get(roots[roots.length - 1]), walked) === 'returned';
  const origin = runReturned ? exitPath[exitPath.length - 1] : undefined;

  // Collapsed frames and the active row are kept by key, so they survive each new copy of the same
  // recording (every step brings one) and reset for another ioctl.
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [active, setActive] = useState<string | null>(null);
  const recording = recordingId(roots);
  // These follow a step before the browser paints it (layout effects), so the marked row, its
  // selection and its scroll position show in the same frame as the rest of the step.
  useLayoutEffect(() => {
    setCollapsed(new Set());
    setActive(null);
  }, [recording]);
  // Every frame's row with nothing collapsed: the keys, and the rows themselves while nothing is.
  const allRows = useMemo(() => flattenTree(roots, NONE), [roots]);
  const keys = useMemo(() => new Map(allRows.map((r) => [r.frame, r.key])), [allRows]);

  // The frame being stepped is always visible and becomes the active row.
  const currentKey = current ? keys.get(current.frame) : undefined;
  useLayoutEffect(() => {
    if (currentKey === undefined) return;
    const up = ancestorKeys(currentKey);
    setCollapsed((c) => (up.some((k) => c.has(k)) ? new Set([...c].filter((k) => !up.includes(k))) : c));
    setActive(currentKey);
  }, [currentKey, recording]);

  const rows = useMemo(() => (collapsed.size ? flattenTree(roots, collapsed) : allRows), [roots, collapsed, allRows]);
  const rowOf = useMemo(() => new Map(rows.map((r, i) => [r.key, i])), [rows]);
  const activeRow = active === null ? -1 : (rowOf.get(active) ?? -1);
  const win = useListWindow(rows.length, ROW);
  const { reveal } = win;
  useLayoutEffect(() => {
    if (activeRow >= 0) reveal(activeRow);
  }, [activeRow, reveal]);

  const toggle = (key: string) =>
    setCollapsed((c) => {
      const next = new Set(c);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });

  const select = (i: number) => {
    const r = rows[i];
    if (!r) return;
    setActive(r.key);
    onSelectFrame?.(r.frame);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const i = activeRow < 0 ? 0 : activeRow;
    const r = rows[i];
    const move = (j: number) => rows[j] && setActive(rows[j].key);
    let handled = true;
    switch (e.key) {
      case 'ArrowDown': move(Math.min(rows.length - 1, i + 1)); break;
      case 'ArrowUp': move(Math.max(0, i - 1)); break;
      case 'Home': move(0); break;
      case 'End': move(rows.length - 1); break;
      case 'PageDown': move(Math.min(rows.length - 1, i + 10)); break;
      case 'PageUp': move(Math.max(0, i - 10)); break;
      case 'ArrowRight':
        if (r?.frame.calls.length) {
          if (collapsed.has(r.key)) toggle(r.key);
          else move(i + 1);
        }
        break;
      case 'ArrowLeft':
        if (r?.frame.calls.length && !collapsed.has(r.key)) toggle(r.key);
        else if (r && r.parent >= 0) move(r.parent);
        break;
      case 'Enter':
      case ' ':
        select(i);
        break;
      default:
        handled = false;
    }
    if (handled) {
      e.preventDefault();
      e.stopPropagation(); // not also a page shortcut
    }
  };

  const shown = rows[activeRow]?.frame ?? current?.frame ?? roots[0] ?? null;
  const rowId = (i: number) => `${treeId}-r${i}`;

  return (
    <section className="xs-view xs-callchain" aria-labelledby={headingId}>
      <div className="xs-header">
        <h2 id={headingId}>Call chain</h2>
        {caption && <span className="xs-sub">{caption}</span>}
        {roots.length > 0 && (
          <span className="xs-sub xs-walk" aria-live="off">
            {current
              ? `${current.kind === 'call' ? 'call' : 'return'} ${walked} of ${steps.length}: ${current.frame.fn}`
              : `${steps.length / 2} frames`}
          </span>
        )}
      </div>
      {roots.length === 0 ? (
        <p className="xs-empty">No kernel frames recorded yet: step or run a vCPU to see KVM_RUN's calls.</p>
      ) : (
        <>
          <div
            ref={win.ref}
            onScroll={win.onScroll}
            className="xs-tree"
            style={{ height: rows.length * ROW + 2 }}
            role="tree"
            aria-label={caption ? `Kernel frames of ${caption}` : 'Kernel frames'}
            tabIndex={0}
            aria-activedescendant={activeRow >= 0 && activeRow >= win.start && activeRow < win.end ? rowId(activeRow) : undefined}
            onKeyDown={onKeyDown}
          >
            <div role="none" className="xs-tree-body" style={{ height: rows.length * ROW }}>
              {rows.slice(win.start, win.end).map((r, k) => {
                const i = win.start + k;
                const walkedTo = phaseAt(at.get(r.frame), walked);
                const phase = walkedTo === 'returned' && r.frame.ret === undefined ? 'running' : walkedTo;
                const isCursor = current?.frame === r.frame;
                const onPath = runReturned && exitPath.includes(r.frame);
                const hasCalls = r.frame.calls.length > 0;
                const cls = [
                  'xs-row', `xs-${phase}`, isCursor && `xs-cursor xs-cursor-${current!.kind}`, i === activeRow && 'xs-active',
                  onPath && 'xs-exitpath',
                ].filter(Boolean).join(' ');
                return (
                  <div
                    key={r.key}
                    id={rowId(i)}
                    role="treeitem"
                    aria-level={r.depth + 1}
                    aria-posinset={r.pos}
                    aria-setsize={r.size}
                    aria-expanded={hasCalls ? !collapsed.has(r.key) : undefined}
                    aria-selected={i === activeRow}
                    aria-current={isCursor ? 'step' : undefined}
                    className={cls}
                    style={{ top: i * ROW, paddingLeft: 4 + r.depth * 16 }}
                    onClick={() => select(i)}
                  >
                    <span
                      className="xs-twisty"
                      aria-hidden="true"
                      onClick={(e) => {
                        e.stopPropagation();
                        if (hasCalls) toggle(r.key);
                      }}
                    >
                      {hasCalls ? (collapsed.has(r.key) ? '▸' : '▾') : ''}
                    </span>
                    <span className="xs-sig">{frameLabel(r.frame, phase)}</span>
                    {r.frame === origin && <Aside className="xs-badge">KVM_RUN returns to userspace from here</Aside>}
                    {phase === 'returned' && r.frame.note && <Aside className="xs-note">{r.frame.note}</Aside>}
                  </div>
                );
              })}
            </div>
          </div>
          {shown && <FrameDetails frame={shown} returned={phaseAt(at.get(shown), walked) === 'returned'} />}
        </>
      )}
      {compare && <FrameDiff {...compare} />}
    </section>
  );
});

function FrameDetails({ frame, returned }: { frame: Frame; returned: boolean }) {
  const args = formatArgs(frame.args);
  return (
    <div className="xs-frame-details">
      <div>
        <code>
          {frame.fn}({args})
        </code>
        {returned && <code> → {formatRet(frame.ret)}</code>}
        <span className="xs-sub"> at {formatNs(frame.t)}</span>
      </div>
      {returned && frame.note && <div className="xs-note-full">{frame.note}</div>}
      {frame.src && (
        <a href={frame.src} target="_blank" rel="noopener noreferrer">
          Source of {frame.fn} on {linkHost(frame.src)}
        </a>
      )}
    </div>
  );
}
