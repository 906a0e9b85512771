import { describe, expect, it } from 'vitest';
import { loadCore } from '../cpu/node';
import { galleryEntry } from '../scenario/gallery';
import { parseScenario } from '../scenario/parse';
import type { Scenario } from '../scenario/types';
import type { Move } from './protocol';
import { Session } from './session';

function scenario(id: string): Scenario {
  const p = parseScenario(galleryEntry(id)!.doc);
  if (!p.ok) throw new Error(JSON.stringify(p.errors));
  return p.scenario;
}

async function after(id: string, moves: Move[]) {
  const s = await Session.open(loadCore, scenario(id));
  for (const m of moves) expect(await s.apply(m)).toBeNull();
  return s;
}

describe('session', () => {
  it('runs the default scenario to its end and shows the model state', async () => {
    const s = await after('v4-5-vcpu-scope', [{ kind: 'run' }]);
    const v = await s.view();
    expect(v.done).toBe(true);
    expect(v.vcpus.map((c) => c.disabled.hlt)).toEqual([false, true]);
    expect(v.results.map((r) => r.op)).toEqual(['enable_cap', 'create_vcpu', 'create_vcpu', 'enable_cap', 'run', 'run']);
    expect(v.results[0].summary).toContain('KVM_ENABLE_CAP');
    expect(v.frames?.ioctl).toBe('KVM_RUN');
    expect(v.vcpus[0].disasm.some((d) => d.current)).toBe(true);
  });
});

describe('stepping', () => {
  it('goes to the first VM exit in one step, through the ioctls before it', async () => {
    const s = await after('v4-5-vcpu-scope', [{ kind: 'step', unit: 'exit' }]);
    const v = await s.view();
    expect(v.vcpus[0].exits).toBe(1);
    expect(v.inProgress?.summary).toBe('vcpu0 KVM_RUN');
    expect(s.events.filter((e) => e.kind === 'kvm_exit')).toHaveLength(1);
  });

  it('goes into the first KVM_RUN in one instruction step', async () => {
    // The guest's only instruction is a HLT that exits: the step ends with that KVM_RUN.
    const s = await after('v4-5-vcpu-scope', [{ kind: 'step', unit: 'instruction' }]);
    const v = await s.view();
    expect(v.results.map((r) => r.op)).toEqual(['enable_cap', 'create_vcpu', 'create_vcpu', 'enable_cap', 'run']);
    expect(v.done).toBe(false);
  });
});

describe('going back', () => {
  it('restores a checkpoint and replays the rest, reaching what a replay from the start reaches', async () => {
    // Every OUT exits to userspace: many KVM_RUNs, so many operation boundaries to take checkpoints at.
    const p = parseScenario({
      format: 'exitscope/1', kernel: 'rfc-v4', vm: { irqchip: 'userspace' },
      guest: { asm: 'again:\n    out 0x80, al\n    inc rax\n    jmp again\n' },
      program: [{ op: 'create_vcpu', id: 0 }, ...Array.from({ length: 30 }, () => ({ op: 'run', fd: 'vcpu0' }))],
    });
    if (!p.ok) throw new Error('bad scenario');
    const s = await Session.open(loadCore, p.scenario);
    const moves: Move[] = [];
    const units = ['op', 'instruction', 'op', 'frame', 'exit'] as const;
    for (let i = 0; !s.done && moves.length < 40; i++) {
      const m: Move = { kind: 'step', unit: units[i % units.length] };
      if ((await s.apply(m)) === null) moves.push(m);
    }
    expect(moves.length).toBeGreaterThan(16);
    for (const n of [moves.length - 1, 17, 9, 3]) {
      const back = await s.rewind(moves.slice(0, n));
      expect(back.refused).toBeNull();
      expect(back.restored).toBeGreaterThan(n >= 16 ? 0 : -1);
      expect(back.restored).toBeLessThanOrEqual(n);
      const again = await Session.open(loadCore, p.scenario);
      for (const m of moves.slice(0, n)) await again.apply(m);
      expect(await back.session.view()).toEqual(await again.view());
      expect(back.session.events).toEqual(again.events);
    }
  });
});
