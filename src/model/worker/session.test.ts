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
