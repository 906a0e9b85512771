// Where the views (src/ui/views) sit in the layout, fed from the store.
import { useCallback, useMemo } from 'react';
import type { Frame } from '../../model/trace/events';
import { CallChain } from '../views/callchain/CallChain';
import { TimelineView } from '../views/timeline/TimelineView';
import type { ExitRef } from '../views/timeline/details';
import { useLab, useLabState } from '../store/use-lab';
import { Placeholder } from './Placeholder';

const NO_FRAMES: Frame[] = [];

export function ViewsArea() {
  const lab = useLab();
  const frames = useLabState((s) => s.view?.frames ?? null);
  const timeline = useLabState((s) => s.timeline);
  const version = useLabState((s) => s.timelineVersion);
  const selection = useLabState((s) => s.selection);
  const selected = useMemo(() => (selection.exit === null ? null : { vcpu: selection.vcpu, exit: selection.exit }), [selection]);
  const onSelectExit = useCallback((x: ExitRef) => lab.select({ vcpu: x.vcpu, exit: x.exit }), [lab]);
  return (
    <div className="views">
      <div className="view-callchain">
        <CallChain roots={frames?.roots ?? NO_FRAMES} cursor={frames?.cursor}
          caption={frames ? `${frames.ioctl}${frames.vcpu !== null ? ` on vCPU ${frames.vcpu}` : ''}` : undefined} />
      </div>
      <div className="view-timeline">
        <TimelineView timeline={timeline} version={version} selected={selected} onSelectExit={onSelectExit} />
      </div>
      <Placeholder name="Exit statistics" what="perf kvm stat report, per vCPU and for the VM" />
    </div>
  );
}
