// The scenario bar: which kernel (and for RFC v4 how many of its patches), the host options, and
// the document's title and explanation. Changing any of them reloads the document.
import type { Json } from '../../model/scenario/document';
import { KERNELS } from '../../model/scenario/types';
import { useLab, useLabState } from '../store/use-lab';

/** The six kernel patches of RFC v4 (7/7 is the selftest), in the words of their subjects. */
export const RFC_V4_PATCHES = [
  '1/7 only allow exits disable before vCPUs created',
  '2/7 move *_in_guest flags to vCPU scope',
  '3/7 reject disabling of MWAIT interception when not allowed',
  '4/7 let userspace re-enable exits (OVERRIDE)',
  '5/7 vCPU-scoped toggling (KVM_REQ_DISABLE_EXITS)',
  '6/7 guest_debug flag EXIT_USERSPACE',
] as const;

const KERNEL_LABEL: Record<string, string> = {
  'v5.19': 'v5.19 (before the series)',
  'rfc-v4': 'RFC v4 (2022-06)',
  'rfc-v6': 'RFC v6 (2023-01, last posting)',
  mainline: 'mainline (≈v6.18)',
};

const str = (v: Json | undefined, fallback: string) => (typeof v === 'string' ? v : fallback);
const obj = (v: Json | undefined) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {});

export function ScenarioBar() {
  const lab = useLab();
  const doc = useLabState((s) => s.draft.doc);
  const docProblems = useLabState((s) => s.problems.filter((p) => p.where === 'document').map((p) => `${p.path}: ${p.message}`).join('\n'));
  const kernel = str(doc.kernel, 'rfc-v4');
  const patches = typeof doc.patches === 'number' ? doc.patches : 6;
  const host = obj(doc.host);
  const vm = obj(doc.vm);
  return (
    <div className="scenario-bar">
      <label>
        Kernel{' '}
        <select value={kernel} onChange={(e) => lab.setVariant(e.target.value, e.target.value === 'rfc-v4' ? patches : undefined)}>
          {KERNELS.map((k) => <option key={k} value={k}>{KERNEL_LABEL[k] ?? k}</option>)}
          {!KERNELS.includes(kernel as never) && <option value={kernel}>{kernel} (unknown)</option>}
        </select>
      </label>
      {kernel === 'rfc-v4' && (
        <label>
          Patches applied{' '}
          <select value={patches} onChange={(e) => lab.setVariant('rfc-v4', Number(e.target.value))}>
            <option value={0}>0 — none (the v5.19 base)</option>
            {RFC_V4_PATCHES.map((name, i) => (
              <option key={name} value={i + 1}>{i + 1} — up to {name}</option>
            ))}
          </select>
        </label>
      )}
      <label title="kvm_can_mwait_in_guest(): the host has MWAIT, no X86_BUG_MONITOR, and ARAT">
        <input type="checkbox" checked={host.mwait !== false} onChange={(e) => lab.setSetting('host', 'mwait', e.target.checked)} />
        Host can MWAIT in a guest
      </label>
      <label>
        irqchip{' '}
        <select value={str(vm.irqchip, 'kernel')} onChange={(e) => lab.setSetting('vm', 'irqchip', e.target.value)}>
          <option value="kernel">in kernel (KVM_CREATE_IRQCHIP)</option>
          <option value="userspace">in userspace</option>
        </select>
      </label>
      {docProblems && <p className="doc-problems" role="alert">{docProblems}</p>}
    </div>
  );
}
