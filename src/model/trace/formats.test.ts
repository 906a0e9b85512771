// The three trace formats on event streams built by hand (the real runs are in src/cli/cli.test.ts
// and the gallery conformance test).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TraceEvent, VcpuActivity } from './events';
import { formatTraceCmd, tracepointText } from './ftrace';
import { formatKvmStat, kvmStat, type KvmStat } from './kvmstat';
import { nest, nestingViolations, toChromeTrace } from './perfetto';
import { cFixed } from './printf';

const act = (t: number, vcpu: number, activity: VcpuActivity): TraceEvent => ({ kind: 'activity', t, vcpu, activity });
const exit = (t: number, vcpu: number, reason: number, rip: bigint, n = 0): Extract<TraceEvent, { kind: 'kvm_exit' }> =>
  ({ kind: 'kvm_exit', t, vcpu, exit: n, reason, rip, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 });
const entry = (t: number, vcpu: number, rip: bigint): TraceEvent => ({ kind: 'kvm_entry', t, vcpu, rip });

/** vCPU 0: an HLT exit with a userspace irqchip (KVM_EXIT_HLT); vCPU 1: an OUT handled in the kernel, then HLT. */
const STREAM: TraceEvent[] = [
  { kind: 'ioctl', t: 0, seq: 0, fd: 'vm', ioctl: 'KVM_CREATE_VCPU', args: { id: 0 }, ret: 5, errno: null },
  act(1_000, 0, 'kvm'), entry(1_500, 0, 0x10000n), act(1_500, 0, 'guest'),
  exit(2_500, 0, 12, 0x10000n), act(2_500, 0, 'kvm'),
  { kind: 'kvm_userspace_exit', t: 3_000, vcpu: 0, reason: 5, errno: 0 }, act(3_000, 0, 'userspace'),
  act(10_000, 1, 'kvm'), entry(10_400, 1, 0x10000n), act(10_400, 1, 'guest'),
  { ...exit(11_000, 1, 30, 0x10000n), info1: 0x800040n } as TraceEvent, act(11_000, 1, 'kvm'),
  entry(11_800, 1, 0x10002n), act(11_800, 1, 'guest'),
  exit(12_000, 1, 12, 0x10002n, 1), act(12_000, 1, 'kvm'), act(12_300, 1, 'polling'), act(212_300, 1, 'blocked'),
  { kind: 'inj_virq', t: 1_500_000, vcpu: 1, vector: 32, soft: false },
  act(1_500_000, 1, 'kvm'), entry(1_500_700, 1, 0x10003n), act(1_500_700, 1, 'guest'),
];

describe('trace-cmd report', () => {
  it('prints each tracepoint with the kernel’s format and trace-cmd’s prefix', () => {
    expect(formatTraceCmd(STREAM, 4)).toBe(
      [
        'cpus=4',
        '       exitscope-4201  [000]     0.000002: kvm_entry:            vcpu 0, rip 0x10000',
        '       exitscope-4201  [000]     0.000003: kvm_exit:             vcpu 0 reason HLT rip 0x10000 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000',
        '       exitscope-4201  [000]     0.000003: kvm_userspace_exit:   reason KVM_EXIT_HLT (5)',
        '       exitscope-4202  [001]     0.000010: kvm_entry:            vcpu 1, rip 0x10000',
        '       exitscope-4202  [001]     0.000011: kvm_exit:             vcpu 1 reason IO_INSTRUCTION rip 0x10000 info1 0x0000000000800040 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000',
        '       exitscope-4202  [001]     0.000012: kvm_entry:            vcpu 1, rip 0x10002',
        '       exitscope-4202  [001]     0.000012: kvm_exit:             vcpu 1 reason HLT rip 0x10002 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000',
        '       exitscope-4202  [001]     0.001501: kvm_entry:            vcpu 1, rip 0x10003',
        '',
      ].join('\n'),
    );
  });

  it('names failed KVM_RUNs as the kernel does, and unknown values in hex', () => {
    expect(tracepointText({ kind: 'kvm_userspace_exit', t: 0, vcpu: 0, reason: 0, errno: -4 })).toBe('reason restart (4)');
    expect(tracepointText({ kind: 'kvm_userspace_exit', t: 0, vcpu: 0, reason: 0, errno: -22 })).toBe('reason error (22)');
    expect(tracepointText({ kind: 'kvm_userspace_exit', t: 0, vcpu: 0, reason: 99, errno: 0 })).toBe('reason 0x63 (99)');
    expect(tracepointText(exit(0, 0, 0x80000021, 0n))).toContain('reason INVALID_STATE FAILED_VMENTRY rip');
    expect(tracepointText(exit(0, 0, 77, 0n))).toContain('reason 0x4d rip');
  });

  it('prints seconds and microseconds, rounded to the nearest µs', () => {
    const line = (t: number) => formatTraceCmd([entry(t, 0, 0n)], 1).split('\n')[1].slice(29, 41);
    expect([line(0), line(499), line(500), line(1_234_567_890_123)]).toEqual(['    0.000000', '    0.000000', '    0.000001', ' 1234.567890']);
  });
});

describe('perf kvm stat report', () => {
  it('times each exit from kvm_exit to the next kvm_entry of its vCPU, and leaves unfinished ones out', () => {
    const all = kvmStat(STREAM);
    expect(all.rows.map((r) => [r.name, r.samples, r.minNs, r.maxNs])).toEqual([
      ['HLT', 1, 1_488_700, 1_488_700],
      ['IO_INSTRUCTION', 1, 800, 800],
    ]);
    expect(all.unfinished).toBe(1); // vCPU 0's HLT went to userspace and never re-entered
    expect(all.totalNs).toBe(1_489_500);
    expect(kvmStat(STREAM, 0).rows).toEqual([]);
    expect(kvmStat(STREAM, 1).totalSamples).toBe(2);
  });

  it('lays the table out exactly as perf (the anchor line from a real report)', () => {
    const stat: KvmStat = {
      vcpu: 'all', totalSamples: 25891, totalNs: 68_277_440_990, unfinished: 0,
      rows: [{ reason: 12, name: 'HLT', samples: 2232, samplesPct: 8.62, timePct: 99.92, minNs: 560, maxNs: 1_001_118_990, avgNs: 30_567_940, stddevPct: 9.88 }],
    };
    expect(formatKvmStat(stat).split('\n')).toEqual([
      '', '', 'Analyze events for all VMs, all VCPUs:', '',
      '             VM-EXIT    Samples  Samples%     Time%    Min Time    Max Time         Avg time ', '',
      '                 HLT       2232     8.62%    99.92%      0.56us 1001118.99us  30567.94us ( +-   9.88% )',
      '', 'Total Samples:25891, Total events handled time:68277440.99us.', '', '',
    ]);
  });

  it('computes the ± column as perf’s relative standard error of the mean', () => {
    const times = [100, 200, 600];
    const events = times.flatMap((d, i) => [exit(i * 10_000, 0, 12, 0n), entry(i * 10_000 + d, 0, 0n)]);
    const [row] = kvmStat(events).rows;
    const mean = 300, sd = Math.sqrt(((200 ** 2) + (100 ** 2) + (300 ** 2)) / 2);
    expect(row.avgNs).toBe(mean);
    expect(row.stddevPct).toBeCloseTo((100 * sd) / Math.sqrt(3) / mean, 10);
  });

  it('accounts for every finished exit, whatever the stream', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(2), fc.boolean(), fc.constantFrom(1, 12, 30, 48), fc.nat(5000)), { maxLength: 60 }), (steps) => {
        let t = 0;
        const events = steps.map(([v, isExit, reason, dt]) => ((t += dt), isExit ? exit(t, v, reason, 0n) : entry(t, v, 0n)));
        const s = kvmStat(events);
        expect(s.rows.reduce((n, r) => n + r.samples, 0)).toBe(s.totalSamples);
        if (s.totalSamples) expect(s.rows.reduce((n, r) => n + r.samplesPct, 0)).toBeCloseTo(100, 9);
        for (const r of s.rows) expect(r.minNs <= r.avgNs + 1e-9 && r.avgNs <= r.maxNs + 1e-9).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('rounds exact ties to even, like glibc’s printf', () => {
    expect([cFixed(1.125, 2), cFixed(1.135, 2), cFixed(0.5, 0), cFixed(1.5, 0), cFixed(2.675, 2), cFixed(7, 2, 9)])
      .toEqual(['1.12', '1.14', '0', '2', '2.67', '     7.00']);
  });
});

describe('Perfetto JSON', () => {
  it('shows KVM_RUN, the exits inside it and what the thread did meanwhile', () => {
    const trace = toChromeTrace(STREAM, 4);
    const v1 = trace.traceEvents.filter((e) => e.tid === 4202 && e.ph === 'X').map((e) => [e.name, e.ts, e.dur]);
    expect(v1).toEqual([
      ['KVM_RUN', 10, 1490.7],
      ['kvm', 10, 0.4],
      ['guest', 10.4, 0.6],
      ['IO_INSTRUCTION', 11, 0.8],
      ['kvm', 11, 0.8],
      ['guest', 11.8, 0.2],
      ['HLT', 12, 1488.7],
      ['kvm', 12, 0.3],
      ['polling', 12.3, 200],
      ['blocked', 212.3, 1287.7],
      ['kvm', 1500, 0.7],
      ['guest', 1500.7, 0],
    ].filter(([, , d]) => d !== 0));
    expect(trace.traceEvents.filter((e) => e.ph === 'M').map((e) => e.args?.name)).toEqual(['exitscope (VMM)', 'main', 'vcpu 0', 'vcpu 1']);
    expect(nestingViolations(trace)).toEqual([]);
  });

  it('keeps a slice that an empty sibling starts with', () => {
    const slice = (name: string, start: number, end: number, depth: number) => ({ name, cat: 'c', start, end, depth });
    expect(nest([slice('kvm', 5, 5, 2), slice('guest', 5, 5, 1), slice('guest (halted)', 5, 90, 1), slice('KVM_RUN', 5, 90, 0)]).map((s) => s.name))
      .toEqual(['KVM_RUN', 'guest (halted)']);
  });

  it('finds overlapping slices', () => {
    const x = (name: string, ts: number, dur: number) => ({ name, ph: 'X' as const, ts, dur, pid: 1, tid: 2 });
    expect(nestingViolations({ displayTimeUnit: 'ns', traceEvents: [x('a', 0, 2), x('b', 1, 2), x('c', 1, 0.5)] }))
      .toEqual(['tid 2: b [1000, 3000) overlaps a [0, 2000)']);
  });

  it('nests strictly on every thread, whatever the stream', () => {
    const kinds = ['entry', 'exit', 'uexit', 'guest', 'guest_halted', 'kvm', 'polling', 'blocked', 'userspace'] as const;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(2), fc.constantFrom(...kinds), fc.nat(3000)), { maxLength: 80 }), (steps) => {
        let t = 0;
        const events = steps.map(([v, k, dt]): TraceEvent => {
          t += dt;
          if (k === 'entry') return entry(t, v, 0n);
          if (k === 'exit') return exit(t, v, 12, 0n);
          if (k === 'uexit') return { kind: 'kvm_userspace_exit', t, vcpu: v, reason: 5, errno: 0 };
          return act(t, v, k);
        });
        const trace = toChromeTrace(events, 2);
        expect(JSON.parse(JSON.stringify(trace))).toEqual(trace);
        expect(nestingViolations(trace)).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });
});
