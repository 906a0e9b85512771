// The tally that the lab's worker feeds batch by batch gives what kvmStat gives for the whole
// stream (and so what `exitscope run` prints), however the stream is cut.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from './events';
import { KvmStatTally, kvmStat } from './kvmstat';

const exit = (t: number, vcpu: number, reason: number): TraceEvent =>
  ({ kind: 'kvm_exit', t, vcpu, exit: 0, reason, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 });
const entry = (t: number, vcpu: number): TraceEvent => ({ kind: 'kvm_entry', t, vcpu, rip: 0n });

/** Exits and entries of three vCPUs in any order, at times that rise per vCPU only. */
const streamArb = fc.array(fc.tuple(fc.nat(2), fc.boolean(), fc.constantFrom(1, 12, 30, 48), fc.integer({ min: 0, max: 5e6 })), { maxLength: 80 }).map((steps) => {
  const t = [0, 0, 0];
  return steps.map(([v, isExit, reason, dt]) => (isExit ? exit((t[v] += dt), v, reason) : entry((t[v] += dt), v)));
});

describe('KvmStatTally', () => {
  it('fed in batches, gives kvmStat of the whole stream for the VM and for each vCPU', () => {
    fc.assert(
      fc.property(streamArb, fc.array(fc.nat(80), { maxLength: 6 }), (events, cuts) => {
        const tally = new KvmStatTally();
        let from = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          tally.add(events.slice(from, Math.max(from, cut)));
          from = Math.max(from, cut);
        }
        tally.add(events.slice(from));
        for (const scope of ['all', 0, 1, 2] as const) expect(tally.stat(scope)).toEqual(kvmStat(events, scope));
        expect(tally.vcpus()).toEqual([...new Set(events.filter((e) => e.kind === 'kvm_exit').map((e) => e.vcpu))].sort());
      }),
      { numRuns: 300 },
    );
  });

  it('counts an exit once its vCPU enters again, and one still in KVM as unfinished', () => {
    const tally = new KvmStatTally().add([exit(0, 0, 12), exit(5, 1, 30)]);
    expect([tally.stat().totalSamples, tally.stat().unfinished, tally.stat(1).unfinished]).toEqual([0, 2, 1]);
    tally.add([entry(1000, 0)]);
    expect(tally.stat().rows).toMatchObject([{ name: 'HLT', samples: 1, minNs: 1000, maxNs: 1000 }]);
    expect([tally.stat(0).unfinished, tally.stat(7).rows]).toEqual([0, []]);
  });
});
