// The views fed by real Simulator runs of gallery scenarios: the frames, events and statistics
// here are what the model produced, not hand-made.
import { describe, expect, it } from 'vitest';
import { loadCore } from '../../model/cpu/node';
import { galleryEntry } from '../../model/scenario/gallery';
import { parseScenarioText } from '../../model/scenario/parse';
import { Simulator, type StepResult } from '../../model/sim';
import type { Frame } from '../../model/trace/events';
import { kvmStat } from '../../model/trace/kvmstat';
import { Timeline } from '../../model/trace/timeline';
import { entry as galleryDoc, op } from '../../model/scenario/gallery/build';
import { vcpuEventColumns } from '../../model/worker/batch';
import { Host } from '../../model/worker/host';
import { HeldRecording, type Draft, type Reply, type Request } from '../../model/worker/protocol';
import { diffFrames, returnPath } from './callchain/diff';
import { exitSummary } from './callchain/FrameDiff';
import { linearise } from './callchain/walk';
import { NarrationFeed } from './narration/feed';
import { statCells } from './stats/cells';
import { exitDetails } from './timeline/details';

async function run(id: string) {
  const entry = galleryEntry(id);
  if (!entry) throw new Error(`no gallery entry ${id}`);
  const parsed = parseScenarioText(JSON.stringify(entry.doc));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const sim = await Simulator.create(await loadCore(), parsed.scenario, { frames: true });
  const steps: StepResult[] = [];
  while (!sim.done) steps.push(sim.step());
  return { sim, steps };
}

/** The frames of the first KVM_RUN of a run. */
const firstRun = (steps: StepResult[]): Frame[] => steps.find((s) => s.op === 'run')?.frames ?? [];

describe('views on real runs', () => {
  it('trace KVM_RUN back to the skip that EXIT_USERSPACE zeroed, and mark what the flag changed (H1 vs H4)', async () => {
    const [without, withFlag] = await Promise.all([run('hlt-h1-in-kernel-sleep'), run('hlt-h4-exit-userspace')]);
    const a = firstRun(without.steps);
    const b = firstRun(withFlag.steps);
    const path = returnPath(b);
    expect(path[0].fn).toBe('kvm_arch_vcpu_ioctl_run');
    expect(path.at(-1)).toMatchObject({ fn: 'kvm_skip_emulated_instruction', ret: 0 });
    expect(path.at(-1)!.note).toMatch(/EXIT_USERSPACE/);
    expect(returnPath(a)).toEqual([]); // H1: KVM_RUN is still blocked in vcpu_block
    expect(exitSummary({ label: 'without', roots: a })).toBe('without: KVM_RUN did not return to userspace in this recording.');
    expect(exitSummary({ label: 'with', roots: b })).toBe('with: KVM_RUN returns 0 to userspace at exit #0, from kvm_skip_emulated_instruction.');

    const rows = diffFrames(a, b);
    const changed = rows.filter((r) => r.kind === 'changed').map((r) => `${r.left!.fn}: ${r.left!.ret} → ${r.right!.ret}`);
    expect(changed).toEqual(expect.arrayContaining(['kvm_emulate_halt: 1 → 0', 'kvm_skip_emulated_instruction: 1 → 0', 'vcpu_enter_guest: 1 → 0']));
    expect(rows.filter((r) => r.kind === 'left').map((r) => r.left!.fn)).toContain('vcpu_block');
    expect(rows.find((r) => r.left?.fn === 'kvm_emulate_halt_noskip')?.kind).toBe('same');
    expect(linearise(b)).toHaveLength(2 * rows.filter((r) => r.right).length);
  });

  it('narrate the H4 exit as the model ran it', async () => {
    const { sim, steps } = await run('hlt-h4-exit-userspace');
    const feed = new NarrationFeed();
    const firstReturn = sim.events.findIndex((e) => e.kind === 'kvm_userspace_exit');
    feed.push(vcpuEventColumns(sim.events.slice(0, firstReturn + 1)));
    feed.setFrames(firstRun(steps), 0);
    expect(feed.tick()).toBe('vCPU 0: HLT exit, kvm_emulate_halt returned 0, KVM_RUN returned to userspace with exit_reason KVM_EXIT_UNKNOWN.');
  });

  it('narrate each exit stepped to with its own handler, and what became of it when the next step handled it', async () => {
    // vCPU 0 writes twice to the in-kernel PIC (handled in KVM), then halts with nothing to wake it.
    const { program, guest, ...doc } = galleryDoc({
      id: 'narration', covers: [], description: '', title: 'Two OUTs and a HLT', kernel: 'rfc-v4', patches: 6,
      asm: 'out 0x21, al\nout 0x21, al\nhlt\n', program: [op.create(0), op.run('vcpu0', undefined, 2_000_000)],
    }).doc as unknown as { program: unknown; guest: { asm: string } };
    const replies: Reply[] = [];
    let seq = 0;
    const host = new Host({ post: (r) => replies.push(r), crash: (e) => { throw e; }, newCore: loadCore, yieldNow: async () => {}, now: () => 0 });
    const feed = new NarrationFeed();
    const held = new HeldRecording();
    /** One request, told as the page tells it: the batch's events with the view's frames. */
    const send = async (r: Request extends infer R ? (R extends unknown ? Omit<R, 'seq'> : never) : never) => {
      const from = replies.length;
      host.receive({ ...r, seq: ++seq } as Request);
      await host.idle();
      for (const x of replies.slice(from)) {
        if (x.type === 'batch' && !x.batch.replay) feed.push(x.batch.vcpuEvents);
        const view = x.type === 'view' && held.resolve(x.view);
        if (typeof view === 'string') throw new Error(view);
        if (view) feed.setFrames(view.frames?.roots ?? [], view.frames?.vcpu ?? null);
      }
      return feed.tick();
    };
    await send({ type: 'load', draft: { doc: doc as Draft['doc'], code: guest.asm, codeKind: 'asm', program: JSON.stringify(program) }, moves: [] });
    const toExit = () => send({ type: 'move', move: { kind: 'step', unit: 'exit' } });
    expect(await toExit()).toBe('vCPU 0: IO_INSTRUCTION exit, still in KVM.');
    expect(await toExit()).toBe('vCPU 0: IO_INSTRUCTION exit, handle_io returned 1, back in the guest. vCPU 0: IO_INSTRUCTION exit, still in KVM.');
    expect(await toExit()).toBe('vCPU 0: IO_INSTRUCTION exit, handle_io returned 1, back in the guest. vCPU 0: HLT exit, still in KVM.');
    expect(await toExit()).toBe('vCPU 0: HLT exit, kvm_emulate_halt returned 1, blocked in kvm_vcpu_block.');
  });

  it('put the exit on vCPU 0\'s lane with its return to userspace, and count it as perf would', async () => {
    const { sim } = await run('hlt-h4-exit-userspace');
    const tl = new Timeline();
    tl.append(sim.events);
    const lane = tl.lane(0)!;
    expect(lane.exits.n).toBe(1);
    expect(Object.fromEntries(exitDetails(lane, 0).rows)).toMatchObject({ reason: 'HLT (12)', rip: '0x10000', 'KVM_RUN returned': '0, KVM_EXIT_UNKNOWN' });
    const stat = kvmStat(sim.events);
    // The one HLT exit never re-entered the guest (the second KVM_RUN blocks): perf counts nothing yet.
    expect([stat.totalSamples, stat.unfinished]).toEqual([0, 1]);
  });

  it('keep every exit of a multi-vCPU run on its lane, in step with perf kvm stat\'s counts', async () => {
    const { sim } = await run('hlt-half-the-vcpus');
    const tl = new Timeline();
    tl.append(sim.events);
    const exits = sim.events.filter((e) => e.kind === 'kvm_exit');
    expect(tl.exitCount).toBe(exits.length);
    expect(tl.lanes.length).toBeGreaterThan(1);
    for (const lane of tl.lanes) {
      const stat = kvmStat(sim.events, lane.vcpu);
      // Every exit that re-entered the guest is a perf sample; the timeline knows each one's re-entry.
      let reentered = 0;
      for (let i = 0; i < lane.exits.n; i++) if (!Number.isNaN(lane.exits.cols.tEntry[i])) reentered++;
      expect(stat.totalSamples).toBe(reentered);
      for (const r of stat.rows) expect(statCells(r)).toHaveLength(7);
    }
  });
});
