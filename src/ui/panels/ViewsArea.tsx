// Where the views (src/ui/views) sit in the layout, fed from the store.
import type { Frame } from '../../model/trace/events';
import { CallChain } from '../views/callchain/CallChain';
import { useLabState } from '../store/use-lab';
import { Placeholder } from './Placeholder';

const NO_FRAMES: Frame[] = [];

export function ViewsArea() {
  const frames = useLabState((s) => s.view?.frames ?? null);
  return (
    <div className="views">
      <div className="view-callchain">
        <CallChain roots={frames?.roots ?? NO_FRAMES} cursor={frames?.cursor}
          caption={frames ? `${frames.ioctl}${frames.vcpu !== null ? ` on vCPU ${frames.vcpu}` : ''}` : undefined} />
      </div>
      <Placeholder name="Timeline" what="Per-vCPU activity and exit marks" />
      <Placeholder name="Exit statistics" what="perf kvm stat report, per vCPU and for the VM" />
    </div>
  );
}
