// `perf kvm stat report --event=vmexit`, from the event stream: the aggregation as a pure function
// returning rows (the lab renders the same rows) and the text exactly as perf lays it out.
//
// As perf (tools/perf/builtin-kvm.c, handle_begin_event/handle_end_event) does it: an exit's time
// runs from its kvm_exit to the next kvm_entry of the same vCPU, and only exits that reach that
// kvm_entry are counted; a second kvm_exit before any entry replaces the first. Min/max/average are
// per exit reason; "±" is the relative standard error of the mean, 100 * sqrt(M2 / (n-1) / n) / mean
// with Welford's running M2 (tools/perf/util/stat.c, update_stats/stddev_stats/rel_stddev_stats).
// Rows are sorted by samples, most first (perf's default --key sample); ties by reason number.
import type { TraceEvent } from './events';
import { vmxExitReasonName } from './ftrace';
import { cFixed } from './printf';

export interface KvmStatRow {
  reason: number; // basic exit reason
  name: string; // as perf decodes it ("HLT")
  samples: number;
  samplesPct: number;
  timePct: number;
  minNs: number;
  maxNs: number;
  avgNs: number;
  stddevPct: number; // relative standard error of the mean, in %
}

export interface KvmStat {
  vcpu: number | 'all';
  rows: KvmStatRow[];
  totalSamples: number;
  totalNs: number;
  /** Exits still waiting for their kvm_entry when the events end (perf does not count them). */
  unfinished: number;
}

interface Acc { n: number; mean: number; m2: number; min: number; max: number; sum: number }

/**
 * The same aggregation fed as the events come (the lab's worker adds each batch as the model emits
 * it): `stat()` is at every moment what `kvmStat` gives for all the events added so far, number for
 * number, because `kvmStat` is this tally fed once. Each sample updates the VM's tally and its
 * vCPU's in event order, as a filtered `kvmStat` would see them.
 */
export class KvmStatTally {
  private readonly pending = new Map<number, { t: number; reason: number }>();
  private readonly all = new Map<number, Acc>();
  private readonly perVcpu = new Map<number, Map<number, Acc>>();

  /** Folds in events that follow those added before. */
  add(events: readonly TraceEvent[]): this {
    for (const e of events) {
      if (e.kind === 'kvm_exit') {
        this.pending.set(e.vcpu, { t: e.t, reason: e.reason & 0xffff });
        if (!this.perVcpu.has(e.vcpu)) this.perVcpu.set(e.vcpu, new Map());
        continue;
      }
      if (e.kind !== 'kvm_entry') continue;
      const begin = this.pending.get(e.vcpu);
      if (!begin || e.t < begin.t) continue; // no exit seen yet: the trace started inside the guest
      this.pending.delete(e.vcpu);
      const ns = e.t - begin.t;
      sample(this.all, begin.reason, ns);
      sample(this.perVcpu.get(e.vcpu)!, begin.reason, ns);
    }
    return this;
  }

  /** The vCPUs that have made an exit, in id order. */
  vcpus(): number[] {
    return [...this.perVcpu.keys()].sort((a, b) => a - b);
  }

  stat(vcpu: number | 'all' = 'all'): KvmStat {
    const acc = vcpu === 'all' ? this.all : (this.perVcpu.get(vcpu) ?? new Map<number, Acc>());
    const unfinished = vcpu === 'all' ? this.pending.size : Number(this.pending.has(vcpu));
    return statOf(vcpu, acc, unfinished);
  }
}

export function kvmStat(events: readonly TraceEvent[], vcpu: number | 'all' = 'all'): KvmStat {
  return new KvmStatTally().add(events).stat(vcpu);
}

function sample(acc: Map<number, Acc>, reason: number, ns: number): void {
  let a = acc.get(reason);
  if (!a) acc.set(reason, (a = { n: 0, mean: 0, m2: 0, min: Infinity, max: 0, sum: 0 }));
  a.n++;
  const delta = ns - a.mean;
  a.mean += delta / a.n;
  a.m2 += delta * (ns - a.mean);
  a.min = Math.min(a.min, ns);
  a.max = Math.max(a.max, ns);
  a.sum += ns;
}

function statOf(vcpu: number | 'all', acc: Map<number, Acc>, unfinished: number): KvmStat {
  const totalSamples = [...acc.values()].reduce((s, a) => s + a.n, 0);
  const totalNs = [...acc.values()].reduce((s, a) => s + a.sum, 0);
  const rows = [...acc.entries()]
    .map(([reason, a]): KvmStatRow => ({
      reason,
      name: vmxExitReasonName(reason),
      samples: a.n,
      samplesPct: (a.n / totalSamples) * 100,
      timePct: totalNs ? (a.sum / totalNs) * 100 : 0,
      minNs: a.min,
      maxNs: a.max,
      avgNs: a.sum / a.n,
      stddevPct: a.n > 1 && a.mean ? (100 * Math.sqrt(a.m2 / (a.n - 1) / a.n)) / a.mean : 0,
    }))
    .sort((x, y) => y.samples - x.samples || x.reason - y.reason);
  return { vcpu, rows, totalSamples, totalNs, unfinished };
}

/** The report text, column for column as perf prints it (decode width 20, as on x86). */
export function formatKvmStat(stat: KvmStat): string {
  const us = (ns: number) => `${cFixed(ns / 1000, 2, 9)}us`;
  const pct = (x: number) => `${cFixed(x, 2, 8)}%`;
  const lines = [
    '',
    '',
    `Analyze events for all VMs, ${stat.vcpu === 'all' ? 'all VCPUs' : `VCPU ${stat.vcpu}`}:`,
    '',
    `${'VM-EXIT'.padStart(20)} ${'Samples'.padStart(10)} ${'Samples%'.padStart(9)} ${'Time%'.padStart(9)} ${'Min Time'.padStart(11)} ${'Max Time'.padStart(11)} ${'Avg time'.padStart(16)} `,
    '',
  ];
  for (const r of stat.rows) {
    lines.push(
      `${r.name.padStart(20)} ${String(r.samples).padStart(10)} ${pct(r.samplesPct)} ${pct(r.timePct)} ${us(r.minNs)} ${us(r.maxNs)} ${us(r.avgNs)} ( +-${cFixed(r.stddevPct, 2, 7)}% )`,
    );
  }
  lines.push('', `Total Samples:${stat.totalSamples}, Total events handled time:${cFixed(stat.totalNs / 1000, 2)}us.`, '', '');
  return lines.join('\n');
}
