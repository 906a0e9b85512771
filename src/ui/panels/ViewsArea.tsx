// Where the views (src/ui/views) sit in the layout, fed from the store.
import { useCallback, useMemo } from 'react';
import type { Frame } from '../../model/trace/events';
import { kvmStat } from '../../model/trace/kvmstat';
import { CallChain } from '../views/callchain/CallChain';
import { Narration } from '../views/narration/Narration';
import { ExitStats } from '../views/stats/ExitStats';
import { TimelineView } from '../views/timeline/TimelineView';
import type { ExitRef } from '../views/timeline/details';
import { useLab, useLabState } from '../store/use-lab';

const NO_FRAMES: Frame[] = [];

export function ViewsArea() {
  const lab = useLab();
  const frames = useLabState((s) => s.view?.frames ?? null);
  const canCompare = useLabState((s) => !!s.view?.vm.exitUserspace && s.view.frames?.ioctl === 'KVM_RUN' && !s.running);
  const compare = useLabState((s) => s.compare?.view ?? null);
  const timeline = useLabState((s) => s.timeline);
  const version = useLabState((s) => s.timelineVersion);
  const now = useLabState((s) => s.view?.now);
  const selection = useLabState((s) => s.selection);
  const events = useLabState((s) => s.events);
  const ids = useLabState((s) => s.view?.vcpus.map((v) => v.id).join(',') ?? '');
  const selected = useMemo(() => (selection.exit === null ? null : { vcpu: selection.vcpu, exit: selection.exit }), [selection]);
  const onSelectExit = useCallback((x: ExitRef) => lab.select({ vcpu: x.vcpu, exit: x.exit }), [lab]);
  // perf kvm stat for the VM, then for each vCPU: the rows the CLI prints.
  const stats = useMemo(() => [kvmStat(events), ...(ids ? ids.split(',').map((id) => kvmStat(events, Number(id))) : [])], [events, ids]);
  return (
    <div className="views">
      <div className="view-callchain">
        {canCompare && (
          <button type="button" className="compare" onClick={lab.compare}
            title="Record this KVM_RUN again, same moves, with this vCPU's KVM_GUESTDBG_EXIT_USERSPACE the other way round (RFC v4 6/7)">
            Compare with EXIT_USERSPACE flipped
          </button>
        )}
        <CallChain roots={frames?.roots ?? NO_FRAMES} cursor={frames?.cursor} compare={compare}
          caption={frames ? `${frames.ioctl}${frames.vcpu !== null ? ` on vCPU ${frames.vcpu}` : ''}` : undefined} />
      </div>
      <div className="view-timeline">
        <TimelineView timeline={timeline} version={version} now={now} selected={selected} onSelectExit={onSelectExit} />
      </div>
      <ExitStats stats={stats} />
    </div>
  );
}

/** The live region that tells each exit, under the toolbar. */
export function LiveNarration() {
  const lab = useLab();
  const frames = useLabState((s) => s.view?.frames ?? null);
  return <Narration feed={lab.narration} frames={frames} />;
}
