// The region "Exit statistics": `perf kvm stat report --event=vmexit` for the VM or one vCPU, row
// for row what `exitscope run` prints (the trace module's kvmStat), with bars under Samples% and
// Time% so that an exit that is rare but holds the vCPU for long (HLT) stands out. The rows come
// tallied (the worker adds each batch of events to perf's running sums), so a run of 100,000 exits
// costs this view what a run of ten does: it renders when the tables change (while a run streams
// in, every STATS_EVERY_MS at most), and never reads an event.
import { memo, useEffect, useId, useState, type CSSProperties } from 'react';
import { formatKvmStat, type KvmStat } from '../../../model/trace/kvmstat';
import { plural } from '../common/format';
import { usePaced } from '../common/pace';
import { STAT_COLUMNS, statCells, statTitle, statTotals } from './cells';
import '../common/theme.css';
import './stats.css';

export interface ExitStatsProps {
  /** perf kvm stat for the VM, then for each vCPU (kvmStat's rows: what `exitscope run` prints). */
  stats: readonly KvmStat[];
}

const scopeLabel = (s: KvmStat) => (s.vcpu === 'all' ? 'all vCPUs' : `vCPU ${s.vcpu}`);

/** While a run streams in, the tables change at most this often. */
const STATS_EVERY_MS = 250;

export const ExitStats = memo(function ExitStats({ stats: latest }: ExitStatsProps) {
  const stats = usePaced(latest, STATS_EVERY_MS);
  const headingId = useId();
  const [scope, setScope] = useState<KvmStat['vcpu']>('all');
  const stat = stats.find((s) => s.vcpu === scope) ?? stats[0];
  const [copied, setCopied] = useState(false);
  const [textOpen, setTextOpen] = useState(false);
  useEffect(() => setCopied(false), [stat]);

  const copy = async () => {
    if (!stat) return;
    try {
      await navigator.clipboard.writeText(formatKvmStat(stat));
      setCopied(true);
    } catch {
      setCopied(false); // no clipboard permission: the text stays in "As perf prints it"
    }
  };

  return (
    <section className="xs-view xs-stats" aria-labelledby={headingId}>
      <div className="xs-header">
        <h2 id={headingId}>Exit statistics</h2>
        {stats.length > 1 && (
          <span>
            {/* Reads on as the heading: "Exit statistics for all vCPUs". */}
            <span aria-hidden="true">for </span>
            <select aria-label="Statistics for" value={String(scope)} onChange={(e) => setScope(e.target.value === 'all' ? 'all' : Number(e.target.value))}>
              {stats.map((s) => (
                <option key={String(s.vcpu)} value={String(s.vcpu)}>
                  {scopeLabel(s)}
                </option>
              ))}
            </select>
          </span>
        )}
        {stat && (
          <button type="button" onClick={copy}>
            {copied ? 'Copied' : 'Copy as text'}
          </button>
        )}
      </div>
      {!stat || stat.totalSamples === 0 ? (
        <p className="xs-empty">No completed exits yet: perf counts an exit once its vCPU enters the guest again.</p>
      ) : (
        <>
          <p className="xs-mono xs-stat-title">{statTitle(stat)}</p>
          {/* perf's columns stay whole: a pane narrower than the table scrolls it sideways, the
              VM-EXIT column staying in place. Focusable, so the keyboard can scroll it too. */}
          <div className="xs-stat-scroll" tabIndex={0} role="group" aria-label={`perf kvm stat table, ${scopeLabel(stat)}`}>
            <table className="xs-stat-table">
              <caption className="xs-sr-only">perf kvm stat report --event=vmexit, {scopeLabel(stat)}</caption>
              <thead>
                <tr>
                  {STAT_COLUMNS.map((c) => (
                    <th key={c} scope="col">
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {stat.rows.map((r) => {
                  const cells = statCells(r);
                  return (
                    <tr key={r.reason}>
                      <th scope="row">{cells[0]}</th>
                      <td>{cells[1]}</td>
                      <td className="xs-bar" style={{ '--xs-pct': `${r.samplesPct}%` } as CSSProperties}>{cells[2]}</td>
                      <td className="xs-bar xs-bar-time" style={{ '--xs-pct': `${r.timePct}%` } as CSSProperties}>{cells[3]}</td>
                      <td>{cells[4]}</td>
                      <td>{cells[5]}</td>
                      <td>{cells[6]}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <p className="xs-mono">{statTotals(stat)}</p>
          {stat.unfinished > 0 && (
            <p className="xs-sub">
              {plural(stat.unfinished, 'exit')} still in KVM (no kvm_entry yet) {stat.unfinished === 1 ? 'is' : 'are'} not counted, as in perf.
            </p>
          )}
          <details onToggle={(e) => setTextOpen(e.currentTarget.open)}>
            <summary>As perf prints it</summary>
            {textOpen && <pre className="xs-stat-text">{formatKvmStat(stat)}</pre>}
          </details>
        </>
      )}
    </section>
  );
});
