// The VM fd: its exit flags (kvm->arch), what the variant allows, and the last answer to a change.
// In the embed layout the facts about the kernel start closed.
import { useLabState } from '../store/use-lab';
import { ExitFlagBoxes } from './ExitFlags';
import { useEmbed } from './layout';

export function VmPanel() {
  const vm = useLabState((s) => s.view?.vm);
  const variant = useLabState((s) => s.view?.variantLabel);
  const busy = useLabState((s) => s.running || s.worker !== 'ready');
  const embed = useEmbed();
  return (
    <section className="panel vm-panel" aria-labelledby="vm-heading">
      <header className="panel-head">
        <h2 id="vm-heading">VM</h2>
        {vm && embed && <span className="badge" title="the kernel the model runs">{variant}</span>}
      </header>
      {vm ? (
        <>
          <ExitFlagBoxes fd="vm" flags={vm.disabled} disabled={busy} />
          <details open={!embed}>
            <summary>Kernel and capability</summary>
            <dl className="facts">
              <dt>kernel</dt>
              <dd className="variant">{variant}</dd>
              <dt>vCPUs created</dt>
              <dd>{vm.createdVcpus}</dd>
              <dt>irqchip</dt>
              <dd title={vm.irqchip === 'kernel' ? 'KVM_CREATE_IRQCHIP: the LAPIC is emulated in the kernel' : undefined}>{vm.irqchip === 'kernel' ? 'in kernel' : 'in userspace'}</dd>
              <dt>KVM_CHECK_EXTENSION</dt>
              <dd><code>{vm.allowedExits.map((n) => n.replace(/^KVM_X86_DISABLE_EXITS_/, '')).join(' | ') || '0'}</code></dd>
            </dl>
          </details>
        </>
      ) : (
        <p className="empty">No VM yet.</p>
      )}
    </section>
  );
}
