// Where the views (src/ui/views) sit in the layout, each fed from the store: the timeline, the call
// chain (with the EXIT_USERSPACE comparison), perf kvm stat, and the live narration.
import { useCallback, useLayoutEffect, useMemo, useRef } from 'react';
import type { Frame } from '../../model/trace/events';
import { CallChain } from '../views/callchain/CallChain';
import { Narration } from '../views/narration/Narration';
import { ExitStats } from '../views/stats/ExitStats';
import { TimelineView } from '../views/timeline/TimelineView';
import type { ExitRef } from '../views/timeline/details';
import { useLab, useLabState } from '../store/use-lab';

const NO_FRAMES: Frame[] = [];

export function TimelinePane() {
  const lab = useLab();
  const timeline = useLabState((s) => s.timeline);
  const version = useLabState((s) => s.timelineVersion);
  const now = useLabState((s) => s.view?.now);
  const running = useLabState((s) => s.running);
  const selection = useLabState((s) => s.selection);
  const selected = useMemo(() => (selection.exit === null ? null : { vcpu: selection.vcpu, exit: selection.exit }), [selection]);
  const onSelectExit = useCallback((x: ExitRef) => lab.select({ vcpu: x.vcpu, exit: x.exit }), [lab]);
  return (
    <div className="pane pane-timeline">
      <TimelineView timeline={timeline} version={version} now={now} selected={selected} onSelectExit={onSelectExit} streaming={running} />
    </div>
  );
}

export function CallChainPane() {
  const lab = useLab();
  const frames = useLabState((s) => s.view?.frames ?? null);
  const compare = useLabState((s) => s.compare?.view ?? null);
  // What Compare looks at: the exit selected in the timeline, else the KVM_RUN on screen.
  const target = useLabState((s) =>
    !s.view?.vm.exitUserspace || s.running ? null
    : s.selection.exit !== null ? `exit #${s.selection.exit} of vCPU ${s.selection.vcpu}`
    : s.view.frames?.ioctl === 'KVM_RUN' && s.view.frames.vcpu !== null ? `the latest exit of vCPU ${s.view.frames.vcpu}`
    : null);
  // A comparison that arrives is brought into view: below the tree, it may start under the pane's fold.
  const pane = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    if (compare) pane.current?.querySelector('.xs-diff')?.scrollIntoView({ block: 'nearest' });
  }, [compare]);
  return (
    <div ref={pane} className={compare ? 'pane pane-callchain comparing' : 'pane pane-callchain'}>
      {target && (
        <div className="compare-bar">
          {compare?.exit !== undefined && <span className="hint">Side by side below: exit #{compare.exit} of vCPU {compare.vcpu}.</span>}
          <button type="button" onClick={lab.compare}
            title={`Replay to just before the KVM_RUN that made ${target}, flip its vCPU's KVM_GUESTDBG_EXIT_USERSPACE there (RFC v4 6/7), and record that KVM_RUN both ways`}>
            Compare with EXIT_USERSPACE flipped
          </button>
        </div>
      )}
      <CallChain roots={frames?.roots ?? NO_FRAMES} cursor={frames?.cursor} ioctl={frames?.ioctl} compare={compare}
        caption={frames ? `${frames.ioctl}${frames.vcpu !== null ? ` on vCPU ${frames.vcpu}` : ''}` : undefined} />
    </div>
  );
}

/** perf kvm stat for the VM, then for each vCPU: the rows the CLI prints. */
export function StatsPane() {
  const stats = useLabState((s) => s.stats);
  return (
    <div className="pane pane-stats">
      <ExitStats stats={stats} />
    </div>
  );
}

/** The live region that tells each exit, under the toolbar. */
export function LiveNarration() {
  const lab = useLab();
  const frames = useLabState((s) => s.view?.frames ?? null);
  return (
    <div className="narration-line">
      <Narration feed={lab.narration} frames={frames} />
    </div>
  );
}
