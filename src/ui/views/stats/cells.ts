// The cells of a `perf kvm stat report` row as perf prints them (%8.2f%%, %9.2fus, "( +-%7.2f%% )"),
// without perf's column padding: the table aligns the columns. The test pads them back and checks
// them against the CLI's text, so the page and `exitscope run` can never disagree.
import type { KvmStat, KvmStatRow } from '../../../model/trace/kvmstat';
import { cFixed } from '../../../model/trace/printf';

export const STAT_COLUMNS = ['VM-EXIT', 'Samples', 'Samples%', 'Time%', 'Min Time', 'Max Time', 'Avg time'] as const;

const us = (ns: number) => `${cFixed(ns / 1000, 2)}us`;
const pct = (x: number) => `${cFixed(x, 2)}%`;

export function statCells(r: KvmStatRow): string[] {
  return [r.name, String(r.samples), pct(r.samplesPct), pct(r.timePct), us(r.minNs), us(r.maxNs), `${us(r.avgNs)} ( +-${cFixed(r.stddevPct, 2, 7)}% )`];
}

/** perf's header line for the scope. */
export function statTitle(stat: KvmStat): string {
  return `Analyze events for all VMs, ${stat.vcpu === 'all' ? 'all VCPUs' : `VCPU ${stat.vcpu}`}:`;
}

export function statTotals(stat: KvmStat): string {
  return `Total Samples:${stat.totalSamples}, Total events handled time:${cFixed(stat.totalNs / 1000, 2)}us.`;
}
