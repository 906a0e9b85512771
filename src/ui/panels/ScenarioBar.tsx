// The scenario's kernel (and for RFC v4 how many of its patches) and host options, compact enough
// for the top bar. Changing any of them reloads the document and replays what was done.
import type { Json } from '../../model/scenario/document';
import { KERNELS } from '../../model/scenario/types';
import { useLab, useLabState } from '../store/use-lab';

/** The six kernel patches of RFC v4 (7/7 is the selftest): a short name, and the subject's words. */
const RFC_V4_PATCHES = [
  ['1/7 before vCPUs', 'only allow exits disable before vCPUs created'],
  ['2/7 per-vCPU flags', 'move *_in_guest flags to vCPU scope'],
  ['3/7 reject MWAIT', 'reject disabling of MWAIT interception when not allowed'],
  ['4/7 OVERRIDE', 'let userspace re-enable exits (KVM_X86_DISABLE_EXITS_OVERRIDE)'],
  ['5/7 vCPU-fd cap', 'vCPU-scoped toggling (KVM_CAP_X86_DISABLE_EXITS on a vCPU fd, KVM_REQ_DISABLE_EXITS)'],
  ['6/7 EXIT_USERSPACE', 'guest_debug flag KVM_GUESTDBG_EXIT_USERSPACE'],
] as const;

const KERNEL_LABEL: Record<string, string> = {
  'v5.19': 'v5.19 (before)',
  'rfc-v4': 'RFC v4 (2022)',
  'rfc-v6': 'RFC v6 (2023)',
  mainline: 'mainline (v6.18)',
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
    <div className="scenario-bar" role="group" aria-label="Kernel and host">
      <label>
        Kernel{' '}
        <select value={kernel} onChange={(e) => lab.setVariant(e.target.value, e.target.value === 'rfc-v4' ? patches : undefined)}>
          {KERNELS.map((k) => <option key={k} value={k}>{KERNEL_LABEL[k] ?? k}</option>)}
          {!KERNELS.includes(kernel as never) && <option value={kernel}>{kernel} (unknown)</option>}
        </select>
      </label>
      {kernel === 'rfc-v4' && (
        <label title={patches ? `Patches 1/7 to ${patches}/7 applied; the last: ${RFC_V4_PATCHES[patches - 1]?.[1]}` : 'No patch applied: the v5.19 base'}>
          Patches applied{' '}
          <select value={patches} onChange={(e) => lab.setVariant('rfc-v4', Number(e.target.value))}>
            <option value={0}>none (v5.19)</option>
            {RFC_V4_PATCHES.map(([name, subject], i) => (
              <option key={name} value={i + 1} title={subject}>{i ? '1–' : ''}{name}</option>
            ))}
          </select>
        </label>
      )}
      <label title="kvm_can_mwait_in_guest(): the host has MWAIT, no X86_BUG_MONITOR, and ARAT">
        <input type="checkbox" checked={host.mwait !== false} onChange={(e) => lab.setSetting('host', 'mwait', e.target.checked)} />
        Host can MWAIT
      </label>
      <label title="KVM_CREATE_IRQCHIP (the LAPIC in the kernel), or an interrupt controller in userspace">
        irqchip{' '}
        <select value={str(vm.irqchip, 'kernel')} onChange={(e) => lab.setSetting('vm', 'irqchip', e.target.value)}>
          <option value="kernel">in kernel</option>
          <option value="userspace">in userspace</option>
        </select>
      </label>
      {docProblems && <p className="doc-problems" role="alert">{docProblems}</p>}
    </div>
  );
}
