import { describe, expect, it } from 'vitest';
import { loadCore } from '../cpu/node';
import { galleryEntry } from '../scenario/gallery';
import { EOI, idt, lapicTimer } from '../scenario/gallery/build';
import { parseScenario } from '../scenario/parse';
import type { Scenario } from '../scenario/types';
import type { Frame } from '../trace/events';
import type { Move } from './protocol';
import { Session } from './session';

function scenarioOf(doc: Parameters<typeof parseScenario>[0]): Scenario {
  const p = parseScenario(doc);
  if (!p.ok) throw new Error(JSON.stringify(p.errors));
  return p.scenario;
}
const scenario = (id: string) => scenarioOf(galleryEntry(id)!.doc);

async function after(id: string, moves: Move[]) {
  const s = await Session.open(loadCore, scenario(id));
  for (const m of moves) expect(await s.apply(m)).toBeNull();
  return s;
}

/** A session's view, but for the number its recording goes by (each session numbers its own). */
async function seen(s: Session) {
  const v = await s.view();
  return { ...v, frames: v.frames && { ...v.frames, recording: 0 } };
}

describe('session', () => {
  it('names a recording by a number that stays while it does not change and changes when it does', async () => {
    const s = await after('v4-5-vcpu-scope', [{ kind: 'step', unit: 'exit' }]);
    const first = (await s.view()).frames!;
    expect((await s.view()).frames!.recording).toBe(first.recording);
    await s.apply({ kind: 'step', unit: 'exit' }); // the same KVM_RUN's array, grown
    const grown = (await s.view()).frames!;
    expect(grown.roots).toBe(first.roots);
    expect(grown.recording).not.toBe(first.recording);
    const other = await after('v4-5-vcpu-scope', [{ kind: 'step', unit: 'exit' }]);
    expect((await other.view()).frames!.recording).not.toBe(first.recording); // unique across sessions
  });

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
      expect(back.session).toBe(s); // restored into the same Simulator, not a fresh one
      expect(await seen(back.session)).toEqual(await seen(again));
      expect(back.session.events).toEqual(again.events);
    }
  });

  it('goes back to the start and runs again to the same end', async () => {
    const s = await Session.open(loadCore, scenario('hlt-half-the-vcpus'));
    await s.apply({ kind: 'run' });
    const end = await seen(s);
    const events = [...s.events];
    expect((await s.rewind([])).restored).toBe(0);
    expect((await s.view()).next).toBe(0);
    expect(s.events).toEqual([]);
    await s.apply({ kind: 'run' });
    expect(await seen(s)).toEqual(end);
    expect(s.events).toEqual(events);
  });

  it('gives each event to its reader once, in pieces, keeping none as an object; a rewind gives them from the first again', async () => {
    const s = await Session.open(loadCore, scenario('hlt-half-the-vcpus'));
    const taken: ReturnType<Session['takeEvents']> = [];
    const takeAll = () => {
      for (let e = s.takeEvents(); e.length; e = s.takeEvents()) taken.push(...e);
    };
    for (const m of [{ kind: 'step', unit: 'op' }, { kind: 'step', unit: 'exit' }, { kind: 'run' }] as Move[]) {
      expect(await s.apply(m)).toBeNull();
      takeAll();
    }
    expect(taken.length).toBeGreaterThan(100);
    expect(taken).toEqual(s.events);
    expect(s.events).not.toBe(s.events); // made afresh each time: the session holds no array of them
    const all = taken.splice(0);
    await s.rewind([{ kind: 'step', unit: 'op' }]);
    takeAll();
    expect(taken).toEqual(all.slice(0, taken.length));
    expect(taken.length).toBeLessThan(all.length);
  });
});

/** A vCPU that writes to a port of a userspace device forever: each OUT is a KVM_RUN of its own. */
const OUT_LOOP = scenarioOf({
  format: 'exitscope/1', kernel: 'rfc-v4', vm: { irqchip: 'userspace' },
  guest: { asm: 'again:\n    out 0x80, al\n    inc rax\n    jmp again\n' },
  program: [{ op: 'create_vcpu', id: 0 }, ...Array.from({ length: 5 }, () => ({ op: 'run', fd: 'vcpu0' }))],
});

/** Two vCPUs woken by their x2APIC timers, run by run_threads (the first screen's program, shorter). */
const TIMER_THREADS = scenarioOf({
  format: 'exitscope/1', kernel: 'rfc-v4',
  guest: {
    // lapicTimer's LVT value with bit 17 set: periodic, vector 32, every 100 µs.
    asm: ['start:', idt({ 32: 'tick' }), lapicTimer(32 | (1 << 17), 100_000), '    sti', 'idle:', '    hlt', '    jmp idle', 'tick:', EOI, '    iretq', ''].join('\n'),
  },
  program: [{ op: 'create_vcpu', id: 0 }, { op: 'create_vcpu', id: 1 }, { op: 'run_threads', fds: ['vcpu0', 'vcpu1'], for_ns: 500_000 }],
});

const names = (roots: readonly Frame[]): string[] => roots.flatMap((f) => [f.fn, ...names(f.calls)]);
const userspaceExits = (s: Session, vcpu: number) => s.events.filter((e) => e.kind === 'kvm_userspace_exit' && e.vcpu === vcpu);

describe('comparing one exit with and without EXIT_USERSPACE', () => {
  it('replays to just before the KVM_RUN that made the exit, not to the start', async () => {
    const s = await Session.open(loadCore, OUT_LOOP);
    while (s.exitsOf(0) < 4) expect(await s.apply({ kind: 'step', unit: 'exit' })).toBeNull();
    const moves = s.moves.length;
    const c = await s.compare({ vcpu: 0, exit: 2 });
    if (typeof c === 'string') throw new Error(c);
    expect(c).toMatchObject({ vcpu: 0, exit: 2, left: { label: 'without EXIT_USERSPACE' }, right: { label: 'with EXIT_USERSPACE (flipped before this KVM_RUN)' } });
    // Exit #2 is the third OUT: the third KVM_RUN, which began after the second one returned.
    const secondReturn = userspaceExits(s, 0)[1].t;
    for (const side of [c.left, c.right]) {
      expect(side.roots[0]).toMatchObject({ fn: 'kvm_arch_vcpu_ioctl_run' });
      expect(side.roots[0].t).toBeGreaterThan(secondReturn);
    }
    // Without the flag the KVM_RUN returns KVM_EXIT_IO at the OUT, as recorded; with it, RFC v4 6/7's
    // path through kvm_skip_emulated_instruction is taken: the two recordings differ.
    expect(names(c.left.roots)).not.toEqual(names(c.right.roots));
    expect(c.left.roots[0].ret).toBe(0);
    // The session itself is where it was.
    expect(s.moves).toHaveLength(moves);
    expect(s.exitsOf(0)).toBe(4);
  });

  it('flips the flag between two KVM_RUNs of a run_threads thread (exit N of vCPU 1 with EXIT_USERSPACE on)', async () => {
    // The first screen's shape: two vCPUs under run_threads, vCPU 1 with EXIT_USERSPACE, so each of
    // its exits is a KVM_RUN of its own, re-issued by its thread.
    const s = await Session.open(loadCore, TIMER_THREADS);
    for (const m of [{ kind: 'step', unit: 'op' }, { kind: 'step', unit: 'op' }] as const) expect(await s.apply(m)).toBeNull();
    expect(await s.apply({ kind: 'ioctl', op: { op: 'set_guest_debug', fd: 'vcpu1', control: ['KVM_GUESTDBG_ENABLE', 'KVM_GUESTDBG_EXIT_USERSPACE'] } })).toBeNull();
    expect(await s.apply({ kind: 'run' })).toBeNull();
    expect(userspaceExits(s, 1).length).toBeGreaterThan(3);
    const c = await s.compare({ vcpu: 1, exit: 3 });
    if (typeof c === 'string') throw new Error(c);
    expect(c).toMatchObject({ vcpu: 1, exit: 3, left: { label: 'without EXIT_USERSPACE (flipped before this KVM_RUN)' }, right: { label: 'with EXIT_USERSPACE' } });
    // Both sides are vCPU 1's fourth KVM_RUN, begun after its third returned.
    const thirdReturn = userspaceExits(s, 1)[2].t;
    for (const side of [c.left, c.right]) expect(side.roots[0].t).toBeGreaterThanOrEqual(thirdReturn);
    const skip = (roots: readonly Frame[]): Frame | undefined => roots.flatMap((f) => (f.fn === 'kvm_skip_emulated_instruction' ? [f] : [skip(f.calls)].filter((x) => x !== undefined)))[0];
    expect(skip(c.left.roots)?.ret).toBe(1); // back into the guest
    expect(skip(c.right.roots)).toMatchObject({ ret: 0, ends_run: true }); // RFC v4 6/7: KVM_RUN returns
    expect(c.left.roots[0].ret).toBeUndefined(); // still running without the flag
    expect(c.right.roots[0].ret).toBe(0);
  });

  it('says why when there is nothing to compare', async () => {
    const s = await Session.open(loadCore, OUT_LOOP);
    expect(await s.compare()).toMatch(/look at a KVM_RUN first/);
    expect(await s.compare({ vcpu: 0, exit: 3 })).toBe('vCPU 0 has made no exit #3 yet');
  });
});
