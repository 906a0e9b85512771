// The VM fd: its exit flags (kvm->arch), what the variant allows, and the last answer to a change.
import { useLabState } from '../store/use-lab';
import { ExitFlagBoxes } from './ExitFlags';

export function VmPanel() {
  const vm = useLabState((s) => s.view?.vm);
  const variant = useLabState((s) => s.view?.variantLabel);
  const busy = useLabState((s) => s.running || s.worker !== 'ready');
  return (
    <section className="panel vm-panel" aria-labelledby="vm-heading">
      <h2 id="vm-heading">VM</h2>
      {vm ? (
        <>
          <ExitFlagBoxes fd="vm" flags={vm.disabled} disabled={busy} />
          <dl className="facts">
            <dt>kernel</dt>
            <dd className="variant">{variant}</dd>
            <dt>vCPUs created</dt>
            <dd>{vm.createdVcpus}</dd>
            <dt>irqchip</dt>
            <dd>{vm.irqchip === 'kernel' ? 'in kernel (KVM_CREATE_IRQCHIP)' : 'in userspace'}</dd>
            <dt>KVM_CHECK_EXTENSION</dt>
            <dd><code>{vm.allowedExits.map((n) => n.replace(/^KVM_X86_DISABLE_EXITS_/, '')).join(' | ') || '0'}</code></dd>
          </dl>
        </>
      ) : (
        <p className="empty">No VM yet.</p>
      )}
    </section>
  );
}
