import { describe, expect, it } from 'vitest';
import { loadCore } from '../../model/cpu/node';
import { parseScenario } from '../../model/scenario/parse';
import { Simulator } from '../../model/sim';
import type { Frame } from '../../model/trace/events';
import { kvmStat } from '../../model/trace/kvmstat';
import { Session } from '../../model/worker/session';
import { FIRST_SCREEN } from './first-screen';

function scenario() {
  const p = parseScenario(FIRST_SCREEN);
  if (!p.ok) throw new Error(JSON.stringify(p.errors));
  return p.scenario;
}

async function ran() {
  const sim = await Simulator.create(await loadCore(), scenario());
  return { sim, doc: sim.runAll() };
}

const names = (roots: readonly Frame[]): string[] => roots.flatMap((f) => [f.fn, ...names(f.calls)]);

/** Time each vCPU spent in each activity, in ns, from the timeline's events. */
function activityTime(sim: Simulator, end: number): Map<number, Record<string, number>> {
  const out = new Map<number, Record<string, number>>();
  const last = new Map<number, { t: number; what: string }>();
  const add = (vcpu: number, what: string, ns: number) => {
    const m = out.get(vcpu) ?? {};
    m[what] = (m[what] ?? 0) + ns;
    out.set(vcpu, m);
  };
  for (const e of sim.events) {
    if (e.kind !== 'activity') continue;
    const prev = last.get(e.vcpu);
    if (prev) add(e.vcpu, prev.what, e.t - prev.t);
    last.set(e.vcpu, { t: e.t, what: e.activity });
  }
  for (const [vcpu, prev] of last) add(vcpu, prev.what, end - prev.t);
  return out;
}

describe('the first screen', () => {
  it('shows the series\' point: vCPU 0 sleeps in vcpu_block between ticks, vCPU 1 halts in the guest', async () => {
    const { sim, doc } = await ran();
    expect(doc.expectations).toEqual({ checked: 1, failed: 0 });
    const [v0, v1] = doc.vcpus;
    expect(v0.disabled_exits.hlt).toBe(false);
    expect(v1.disabled_exits.hlt).toBe(true);
    // Both saw the same ticks; only vCPU 0 exited on HLT and woke from kvm_vcpu_block.
    expect(Number(v0.regs.r15)).toBeGreaterThanOrEqual(4);
    expect(v1.regs.r15).toBe(v0.regs.r15);
    expect(v0.stats.halt_exits).toBeGreaterThanOrEqual(4);
    expect(v0.stats.halt_wakeup).toBeGreaterThanOrEqual(4);
    expect(v1.stats.halt_exits).toBe(0);
    expect(v1.stats.halt_wakeup).toBe(0);

    const time = activityTime(sim, sim.now);
    const share = (vcpu: number, what: string) => (time.get(vcpu)?.[what] ?? 0) / sim.now;
    expect(share(0, 'blocked')).toBeGreaterThan(0.7); // the pCPU is free most of the time
    expect(share(0, 'guest_halted')).toBe(0);
    expect(share(1, 'guest_halted')).toBeGreaterThan(0.7); // the pCPU is held
    expect(share(1, 'blocked')).toBe(0);
  });

  it('uses the x2APIC timer in the kernel\'s LAPIC, periodic', async () => {
    const { sim } = await ran();
    for (const v of sim.inspectVcpus()) {
      expect(v.apic?.mode).toBe('x2apic');
      expect(v.apic?.timer.mode).toBe('periodic');
    }
  });

  it('puts HLT first by time in vCPU 0\'s exit statistics, and nowhere in vCPU 1\'s', async () => {
    const { sim } = await ran();
    const rows0 = kvmStat(sim.events, 0).rows;
    const byTime = [...rows0].sort((a, b) => b.timePct - a.timePct);
    expect(byTime[0].name).toBe('HLT');
    expect(byTime[0].timePct).toBeGreaterThan(90);
    expect(kvmStat(sim.events, 1).rows.map((r) => r.name)).not.toContain('HLT');
  });

  it('compares one of vCPU 0\'s HLT exits: asleep in kvm_vcpu_block without EXIT_USERSPACE, back in userspace with it', async () => {
    const s = await Session.open(loadCore, scenario());
    await s.apply({ kind: 'run' });
    const hlt = s.events.find((e) => e.kind === 'kvm_exit' && e.vcpu === 0 && e.reason === 12);
    if (hlt?.kind !== 'kvm_exit') throw new Error('no HLT exit');
    const c = await s.compare({ vcpu: 0, exit: hlt.exit });
    if (typeof c === 'string') throw new Error(c);
    expect(c.left.label).toBe('without EXIT_USERSPACE');
    expect(names(c.left.roots)).toContain('kvm_vcpu_block');
    expect(c.right.roots[0]).toMatchObject({ fn: 'kvm_arch_vcpu_ioctl_run', ret: 0 });
    expect(names(c.right.roots)).not.toContain('kvm_vcpu_block');
  });
});
