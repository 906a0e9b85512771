// The stepping controls, each with its key in the tooltip, and where the simulation stands. Step
// instruction steps the selected vCPU (the panel marked as selected; click another to change it).
import { useLab, useLabState } from '../store/use-lab';
import { runCommand } from './commands';
import { SHORTCUTS, tooltip, type Command } from './shortcuts';
import { formatNs } from '../views/common/format';

export function Toolbar({ openHelp }: { openHelp: () => void }) {
  const lab = useLab();
  const ready = useLabState((s) => s.worker === 'ready');
  const running = useLabState((s) => s.running);
  const view = useLabState((s) => s.view);
  const canBack = useLabState((s) => s.moves.length > 0);
  const refusal = useLabState((s) => s.refusal);
  const selected = useLabState((s) => s.selection.exit !== null);
  const vcpu = useLabState((s) => s.selection.vcpu);
  const done = view?.done ?? true;

  const enabled: Record<Command, boolean> = {
    'step-instruction': ready && !running && !done,
    'step-exit': ready && !running && !done,
    'step-frame': ready && !running && (!done || (view?.frames ? view.frames.cursor < view.frames.total : false)),
    'step-op': ready && !running && !done,
    run: ready && !running && !done,
    pause: ready && running,
    reset: ready && !running && canBack,
    back: ready && !running && canBack,
    'goto-exit': ready && !running && selected,
    help: true,
  };
  const title = (c: Command) =>
    c === 'step-instruction' ? `${tooltip(c)}: the next instruction of vCPU ${vcpu}, the selected panel (click another vCPU to step it)` : tooltip(c);

  return (
    <div className="toolbar" role="toolbar" aria-label="Stepping">
      {SHORTCUTS.filter((s) => s.command !== 'help').map((s) => (
        <button
          key={s.command}
          type="button"
          className={`btn btn-${s.command}`}
          title={title(s.command)}
          aria-keyshortcuts={s.key.toUpperCase()}
          disabled={!enabled[s.command]}
          onClick={() => runCommand(lab, s.command, openHelp)}
        >
          {s.name}
          {s.command === 'step-instruction' && <span className="target" aria-hidden="true">vCPU {vcpu}</span>}
        </button>
      ))}
      <button type="button" className="btn btn-help" title={tooltip('help')} aria-keyshortcuts="?" onClick={openHelp}>
        ?
        <span className="sr-only">Keyboard shortcuts</span>
      </button>
      <p className="position" aria-live="off">
        {view ? (
          <>
            {view.done
              ? 'program finished'
              : view.inProgress
                ? `in operation ${view.inProgress.index + 1} of ${view.total}: ${view.inProgress.summary}`
                : `next: operation ${view.next + 1} of ${view.total}`}
            {' · '}t = {formatNs(view.now)}
            {running && ' · running…'}
          </>
        ) : (
          'loading the simulation…'
        )}
      </p>
      {refusal && <p className="refusal" role="status">{refusal.message}</p>}
    </div>
  );
}
