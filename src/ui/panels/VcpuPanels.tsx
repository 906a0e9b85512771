// One panel per vCPU, and the control that creates another (KVM_CREATE_VCPU from the page).
import { useLab, useLabState } from '../store/use-lab';
import { VcpuPanel } from './VcpuPanel';

export function VcpuPanels() {
  const lab = useLab();
  const vcpus = useLabState((s) => s.view?.vcpus);
  const selected = useLabState((s) => s.selection.vcpu);
  const busy = useLabState((s) => s.running || s.worker !== 'ready');
  return (
    <div className="vcpus">
      {vcpus?.map((v) => <VcpuPanel key={v.id} vcpu={v} selected={v.id === selected} />)}
      {vcpus?.length === 0 && <p className="hint">No vCPU yet: the program creates them (KVM_CREATE_VCPU). Step operation or Run.</p>}
      <button type="button" className="add-vcpu" disabled={busy || !vcpus} onClick={lab.addVcpu}
        title="Issue KVM_CREATE_VCPU from the page, as a VMM hot-adding a vCPU would">
        Add vCPU
      </button>
    </div>
  );
}
