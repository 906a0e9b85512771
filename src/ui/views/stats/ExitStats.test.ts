import fc from 'fast-check';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../../model/trace/events';
import { formatKvmStat, kvmStat, type KvmStat } from '../../../model/trace/kvmstat';
import { statCells } from './cells';
import { ExitStats } from './ExitStats';

/** Exits and entries at rising times on two vCPUs, with reasons from a small set. */
const eventsArb = fc
  .array(fc.tuple(fc.nat(1), fc.constantFrom(1, 12, 30, 40, 48), fc.integer({ min: 1, max: 5e7 }), fc.nat(3000)), { maxLength: 60 })
  .map((xs) => {
    const t = [0, 0];
    const n = [0, 0];
    return xs.flatMap(([vcpu, reason, held, gap]): TraceEvent[] => {
      const exit: TraceEvent = { kind: 'kvm_exit', t: (t[vcpu] += gap), vcpu, exit: n[vcpu]++, reason, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 };
      return [exit, { kind: 'kvm_entry', t: (t[vcpu] += held), vcpu, rip: 0n }];
    });
  });

/** perf's row layout: the cells padded to perf's column widths. */
function perfRow(cells: string[]): string {
  const [avg, err] = cells[6].split(' ( ');
  const w = [20, 10, 9, 9, 11, 11];
  return `${cells.slice(0, 6).map((c, i) => c.padStart(w[i])).join(' ')} ${avg.padStart(11)} ( ${err}`;
}

describe('statCells', () => {
  it('are exactly the CLI report\'s numbers, column for column', () => {
    fc.assert(
      fc.property(eventsArb, fc.constantFrom<KvmStat['vcpu']>('all', 0, 1), (events, scope) => {
        const stat = kvmStat(events, scope);
        const text = formatKvmStat(stat).split('\n');
        const rows = stat.rows.map((r) => perfRow(statCells(r)));
        const first = text.findIndex((l) => l.includes('VM-EXIT')) + 2;
        expect(rows).toEqual(text.slice(first, first + rows.length));
      }),
      { numRuns: 200 },
    );
  });
});

describe('ExitStats', () => {
  const events: TraceEvent[] = [
    { kind: 'kvm_exit', t: 0, vcpu: 0, exit: 0, reason: 12, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 },
    { kind: 'kvm_entry', t: 1_000_000, vcpu: 0, rip: 0n },
    ...Array.from({ length: 9 }, (_, i): TraceEvent[] => [
      { kind: 'kvm_exit', t: 2_000_000 + i * 10_000, vcpu: 1, exit: i, reason: 1, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 },
      { kind: 'kvm_entry', t: 2_000_000 + i * 10_000 + 500, vcpu: 1, rip: 0n },
    ]).flat(),
    { kind: 'kvm_exit', t: 3_000_000, vcpu: 1, exit: 9, reason: 30, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 },
  ];
  const stats = [kvmStat(events), kvmStat(events, 0), kvmStat(events, 1)];

  it('is the region "Exit statistics", showing HLT as few exits but most of the time', () => {
    const m = renderToStaticMarkup(createElement(ExitStats, { stats }));
    expect(m).toMatch(/<section[^>]*aria-labelledby="([^"]+)"[\s\S]*<h2 id="\1">Exit statistics<\/h2>/);
    expect(m).toContain('Analyze events for all VMs, all VCPUs:');
    for (const c of ['VM-EXIT', 'Samples', 'Samples%', 'Time%', 'Min Time', 'Max Time', 'Avg time']) expect(m).toContain(`<th scope="col">${c}</th>`);
    expect(m).toMatch(/<th scope="row">HLT<\/th><td>1<\/td><td[^>]*>10.00%<\/td><td[^>]*>99.55%<\/td>/);
    expect(m).toMatch(/<th scope="row">EXTERNAL_INTERRUPT<\/th><td>9<\/td><td[^>]*>90.00%<\/td><td[^>]*>0.45%<\/td>/);
    expect(m).toContain('Total Samples:10, Total events handled time:1004.50us.');
    expect(m).toContain('1 exit still in KVM (no kvm_entry yet) is not counted, as in perf.');
    expect(m).toContain('<option value="1">vCPU 1</option>');
  });

  it('says why it is empty before any exit completes', () => {
    const m = renderToStaticMarkup(createElement(ExitStats, { stats: [kvmStat([])] }));
    expect(m).toContain('No completed exits yet');
  });
});
