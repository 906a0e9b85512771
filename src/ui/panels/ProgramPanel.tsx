// The userspace program (the ioctl list) as editable JSON, with the result of each operation
// beside it, and the ioctls issued from the page after it.
import { useMemo } from 'react';
import type { OpResultView } from '../../model/worker/view';
import { CodeEditor } from '../editors/CodeEditor';
import { useLab, useLabState } from '../store/use-lab';
import { CallOutcome } from './ExitFlags';
import { editorMessages } from './problems';

const NO_RESULTS: OpResultView[] = [];

export function ProgramPanel() {
  const lab = useLab();
  const text = useLabState((s) => s.draft.program);
  const problems = useLabState((s) => s.problems);
  const results = useLabState((s) => s.view?.results ?? NO_RESULTS);
  const next = useLabState((s) => s.view?.next ?? 0);
  const total = useLabState((s) => s.view?.total ?? 0);
  const busy = useLabState((s) => s.view?.inProgress ?? null);
  const messages = useMemo(() => editorMessages(problems, 'program'), [problems]);
  const fromProgram = results.filter((r) => r.index !== null);
  const fromPage = results.filter((r) => r.index === null);
  return (
    <section className="panel program-panel" aria-labelledby="program-heading">
      <h2 id="program-heading">Userspace program</h2>
      <div className="program-grid">
        <CodeEditor text={text} language="json" label="Program (JSON list of ioctls)" messages={messages} onChange={lab.editProgram} />
        <ol className="results" aria-label="Result of each operation">
          {fromProgram.map((r) => (
            <ResultItem key={r.index} result={r} />
          ))}
          {!fromProgram.length && <li className="empty">Nothing has run yet: step or run.</li>}
          {busy ? (
            <li className="next-op" value={busy.index + 1}>under way: {busy.summary}</li>
          ) : (
            next < total && <li className="next-op" value={next + 1}>next</li>
          )}
        </ol>
      </div>
      {fromPage.length > 0 && (
        <>
          <h3>Issued from the page</h3>
          <ol className="results">
            {fromPage.map((r, i) => <ResultItem key={i} result={r} />)}
          </ol>
        </>
      )}
    </section>
  );
}

function ResultItem({ result }: { result: OpResultView }) {
  const { run } = result.detail as { run?: { exit_reason?: string } };
  return (
    <li className={result.expect === 'failed' ? 'expect-failed' : undefined}>
      <CallOutcome result={result} />
      {result.detail.blocked === true ? (
        <span className="exit-reason"> still inside KVM_RUN at the timeout</span>
      ) : (
        run?.exit_reason && <span className="exit-reason"> <code>{run.exit_reason}</code></span>
      )}
      {result.expect && <span className={`expect ${result.expect}`}> expect {result.expect}</span>}
    </li>
  );
}
