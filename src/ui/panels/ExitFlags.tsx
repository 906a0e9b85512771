// The four KVM_CAP_X86_DISABLE_EXITS checkboxes of one fd (checked = exit disabled), and what the
// kernel answered to the last change. Each box shows the kernel's state: after a refused call it
// is back where the kernel left it, with the model's reason beside it.
import { EXIT_FLAG_NAMES, type ExitFlags as Flags, type OpResultView } from '../../model/worker/view';
import { useLab, useLabState } from '../store/use-lab';

const LABEL = { mwait: 'MWAIT', hlt: 'HLT', pause: 'PAUSE', cstate: 'CSTATE' } as const;
const WHAT = {
  mwait: 'MONITOR/MWAIT run in the guest (CPU_BASED_MWAIT_EXITING and CPU_BASED_MONITOR_EXITING clear)',
  hlt: 'HLT runs in the guest (CPU_BASED_HLT_EXITING clear)',
  pause: 'no PAUSE-loop exits (SECONDARY_EXEC_PAUSE_LOOP_EXITING clear)',
  cstate: 'C-state residency MSRs readable without exits',
} as const;

export function ExitFlagBoxes({ fd, flags, disabled }: { fd: string; flags: Flags; disabled: boolean }) {
  const lab = useLab();
  const last = useLabState((s) => lastCapResult(s.view?.results ?? [], fd));
  const override = useLabState((s) => s.view?.vm.override ?? false);
  return (
    <fieldset className="flags">
      <legend>Exits disabled on <code>{fd}</code></legend>
      {EXIT_FLAG_NAMES.map((f) => (
        <label key={f} title={WHAT[f]}>
          <input type="checkbox" checked={flags[f]} disabled={disabled} onChange={(e) => lab.toggleExit(fd, f, e.target.checked)} />
          {LABEL[f]}
        </label>
      ))}
      {last && <CallOutcome result={last} />}
      {!override && EXIT_FLAG_NAMES.some((f) => flags[f]) && (
        <p className="hint">This kernel has no KVM_X86_DISABLE_EXITS_OVERRIDE (RFC v4 4/7): the cap can disable exits, not enable them again.</p>
      )}
    </fieldset>
  );
}

/** The last KVM_ENABLE_CAP(KVM_CAP_X86_DISABLE_EXITS) on this fd, from the program or the page. */
function lastCapResult(results: readonly OpResultView[], fd: string): OpResultView | undefined {
  for (let i = results.length - 1; i >= 0; i--) if (results[i].op === 'enable_cap' && results[i].fd === fd) return results[i];
  return undefined;
}

/** "→ 0" or "→ -1 EINVAL: a vCPU already exists — patch 1/7", the reason in the model's words. */
export function CallOutcome({ result }: { result: OpResultView }) {
  const failed = result.errno !== null;
  const blocked = result.detail.blocked === true;
  return (
    <p className={failed ? 'outcome failed' : 'outcome'} role={failed ? 'status' : undefined}>
      <code>{result.summary}</code> → <code>{result.ret ?? '—'}</code>
      {blocked && result.reason && <> (not done: {result.reason})</>}
      {failed && (
        <>
          {' '}
          <strong>{result.errno}</strong>
          {result.reason && <>: {result.reason}</>}
        </>
      )}
    </p>
  );
}
