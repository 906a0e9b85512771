import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main';
import { loadCore } from '../cpu/node';
import { galleryEntry } from '../scenario/gallery';
import { formatKvmStat } from '../trace/kvmstat';
import { Host } from './host';
import { HeldRecording, type Batch, type Draft, type Move, type Reply, type Request } from './protocol';
import type { Frame } from '../trace/events';
import type { LabView } from './view';

type Sent = Request extends infer R ? (R extends unknown ? Omit<R, 'seq'> : never) : never;

function draftOf(doc: { [key: string]: unknown }): Draft {
  const { program, guest, ...rest } = doc as { program: unknown; guest: { asm: string } };
  return { doc: rest as Draft['doc'], code: guest.asm, codeKind: 'asm', program: JSON.stringify(program) };
}
const DEFAULT = draftOf(galleryEntry('v4-5-vcpu-scope')!.doc);
const SPIN = draftOf({
  format: 'exitscope/1', kernel: 'rfc-v4', guest: { asm: 'spin:\n inc rax\n jmp spin\n' },
  program: [{ op: 'create_vcpu', id: 0 }, { op: 'run', fd: 'vcpu0', timeout_ns: 1e9 }],
});

const batchesOf = (replies: Reply[]): Batch[] => replies.flatMap((r) => (r.type === 'batch' ? [r.batch] : []));

/** A host with a recording page; `onYield` runs each time a run gives the message loop a turn. */
/** `msPerCall`: how far the host's clock moves each time it reads it (0: it stands still). */
function harness(onYield: (host: Host, n: number) => void = () => {}, msPerCall = 0) {
  const replies: Reply[] = [];
  const crashes: unknown[] = [];
  let seq = 0, yields = 0, clock = 0;
  const host: Host = new Host({
    post: (r, transfer) => replies.push(structuredClone(r, { transfer })), // as postMessage does
    crash: (e) => crashes.push(e),
    newCore: loadCore,
    yieldNow: async () => onYield(host, ++yields),
    now: () => (clock += msPerCall),
  });
  const send = async (r: Sent) => {
    host.receive({ ...r, seq: ++seq } as Request);
    await host.idle();
  };
  const lastSent = () => [...replies].reverse().find((r) => r.type === 'view') as Extract<Reply, { type: 'view' }>;
  // The last view as the page sees it: whole (every view read in order, as the page does). Recording
  // numbers name a recording within one worker, so they are left out of comparisons between hosts.
  const held = new HeldRecording();
  let read = 0;
  let last: { view: LabView; moves: Move[]; running: boolean } | null = null;
  const lastView = () => {
    for (; read < replies.length; read++) {
      const r = replies[read];
      if (r.type !== 'view') continue;
      const view = held.resolve(r.view);
      if (typeof view === 'string') throw new Error(view);
      last = { ...r, view: { ...view, frames: view.frames && { ...view.frames, recording: 0 } } };
    }
    return last!;
  };
  return { host, replies, crashes, send, lastView, lastSent };
}

describe('the worker host', () => {
  it('loads a draft: loaded, the replayed events in a batch, then a view', async () => {
    const h = harness();
    await h.send({ type: 'load', draft: DEFAULT, moves: [] });
    expect(h.replies.map((r) => r.type)).toEqual(['loaded', 'batch', 'view']);
    expect(h.replies[1]).toMatchObject({ type: 'batch', batch: { replay: true, stats: { vm: { totalSamples: 0 } } } });
    expect(h.lastView()).toMatchObject({ running: false, moves: [], view: { next: 0, done: false } });
  });

  it('rejects a bad draft with its problems and keeps the session it had', async () => {
    const h = harness();
    await h.send({ type: 'load', draft: DEFAULT, moves: [] });
    await h.send({ type: 'move', move: { kind: 'step', unit: 'op' } });
    await h.send({ type: 'load', draft: { ...DEFAULT, code: 'hlt\nbogus eax\n' }, moves: [] });
    expect(h.replies.at(-1)).toMatchObject({ type: 'rejected', problems: [{ where: 'asm', line: 2 }] });
    await h.send({ type: 'move', move: { kind: 'step', unit: 'op' } });
    expect(h.lastView().view.next).toBe(2);
  });

  it('sends only new events after a step, in one batch, not replayed', async () => {
    const h = harness();
    await h.send({ type: 'load', draft: DEFAULT, moves: [] });
    const before = h.replies.length;
    await h.send({ type: 'move', move: { kind: 'step', unit: 'op' } });
    const batches = batchesOf(h.replies.slice(before));
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ replay: false, ioctls: [{ ioctl: 'KVM_ENABLE_CAP' }], stats: null });
  });

  it('sends the statistics exactly as `exitscope run` prints them, for the VM and each vCPU', async () => {
    const doc = galleryEntry('hlt-half-the-vcpus')!.doc;
    const h = harness();
    await h.send({ type: 'load', draft: draftOf(doc), moves: [] });
    await h.send({ type: 'move', move: { kind: 'run' } });
    const stats = batchesOf(h.replies).reverse().find((b) => b.stats)!.stats!;
    let printed = '';
    const io = { out: (t: string) => void (printed += t), err: () => {}, readFile: async () => JSON.stringify(doc), readStdin: async () => '', writeFile: async () => {} };
    await main(['run', 'scenario.json'], io);
    expect(stats.vcpus.length).toBeGreaterThan(1);
    expect(stats.vm.totalSamples).toBeGreaterThan(0);
    for (const stat of [stats.vm, ...stats.vcpus]) expect(printed).toContain(formatKvmStat(stat).trim());
  });

  it('Step back rebuilds the state before the last move', async () => {
    const a = harness();
    await a.send({ type: 'load', draft: DEFAULT, moves: [] });
    for (let i = 0; i < 5; i++) await a.send({ type: 'move', move: { kind: 'step', unit: 'op' } });
    await a.send({ type: 'back' });
    const b = harness();
    await b.send({ type: 'load', draft: DEFAULT, moves: Array(4).fill({ kind: 'step', unit: 'op' }) });
    expect(a.lastView().view).toEqual(b.lastView().view);
    expect(a.lastView().moves).toHaveLength(4);
  });

  it('answers Pause during a long run, and the paused position replays exactly', async () => {
    const a = harness((host, n) => n === 3 && host.receive({ type: 'pause', seq: 99 }));
    await a.send({ type: 'load', draft: SPIN, moves: [] });
    await a.send({ type: 'move', move: { kind: 'run' } });
    const paused = a.lastView();
    expect(paused.running).toBe(false);
    expect(paused.moves).toEqual([{ kind: 'run', budget: expect.any(Number) }]);
    expect(paused.view.vcpus[0].regs.rax).toBeGreaterThan(0n);

    const b = harness();
    await b.send({ type: 'load', draft: SPIN, moves: paused.moves });
    expect(b.lastView().view).toEqual(paused.view);
  });

  it('while running, sends a batch about once a frame of its clock, not once a slice, and all of it before the last view', async () => {
    let slices = 0;
    const h = harness((_, n) => (slices = n), 3); // the clock moves 6 ms a slice
    await h.send({ type: 'load', draft: { ...SPIN, code: 'spin:\n out 0x21, al\n jmp spin\n' }, moves: [] }); // exits in every slice
    await h.send({ type: 'move', move: { kind: 'step', unit: 'op' } }); // the vCPU exists
    const from = h.replies.length;
    await h.send({ type: 'move', move: { kind: 'run' } });
    const types = h.replies.slice(from).map((r) => r.type);
    const batches = types.filter((t) => t === 'batch').length;
    expect(slices).toBeGreaterThan(6);
    expect(batches).toBeGreaterThanOrEqual(Math.floor(slices / 3));
    expect(batches).toBeLessThanOrEqual(Math.ceil(slices / 2) + 1);
    expect(types.slice(-2)).toEqual(['batch', 'view']);
  });

  it('sends a recording once: a later view of the same one leaves it out, one that grew sends it again', async () => {
    const h = harness();
    await h.send({ type: 'load', draft: DEFAULT, moves: [] });
    await h.send({ type: 'move', move: { kind: 'step', unit: 'exit' } });
    const stepped = h.lastSent().view.frames!;
    expect(stepped.roots!.length).toBeGreaterThan(0);
    await h.send({ type: 'pause' }); // answered with a view of the same state
    expect(h.lastSent().view.frames).toEqual({ ...stepped, roots: undefined });
    expect(h.lastSent().view.frames).not.toHaveProperty('roots');
    expect(h.lastView().view.frames!.roots).toEqual(stepped.roots);
    await h.send({ type: 'move', move: { kind: 'step', unit: 'exit' } });
    const grown = h.lastSent().view.frames!;
    expect(grown.recording).not.toBe(stepped.recording);
    expect(grown.roots).toBeDefined();
    // Run to the end, then views of the finished run (a refused Run, Step frame with nothing left).
    await h.send({ type: 'move', move: { kind: 'run' } });
    const ran = h.lastSent().view.frames!;
    expect(ran.roots).toBeDefined();
    await h.send({ type: 'move', move: { kind: 'run' } });
    await h.send({ type: 'move', move: { kind: 'step', unit: 'frame' } });
    const views = h.replies.filter((r) => r.type === 'view').slice(-2);
    expect(views.map((r) => r.view.frames)).toEqual([{ ...ran, roots: undefined }, { ...ran, roots: undefined }]);
  });

  it('while running, keeps a large recording that grows out of the views until the run stops', async () => {
    const busy = draftOf({
      format: 'exitscope/1', kernel: 'rfc-v4', guest: { asm: 'again:\n out 0x21, al\n jmp again\n' },
      program: [{ op: 'create_vcpu', id: 0 }, { op: 'create_vcpu', id: 1 }, { op: 'run_threads', fds: ['vcpu0', 'vcpu1'], for_ns: 4_000_000 }],
    });
    const h = harness(() => {}, 5); // the clock moves 5 ms a reading: views go out while it runs
    await h.send({ type: 'load', draft: busy, moves: [] });
    for (let i = 0; i < 3; i++) await h.send({ type: 'move', move: { kind: 'step', unit: 'exit' } });
    const before = h.replies.length;
    await h.send({ type: 'move', move: { kind: 'run' } });
    const views = h.replies.slice(before).filter((r) => r.type === 'view');
    const live = views.filter((v) => v.running);
    expect(live.length).toBeGreaterThan(3);
    const size = (f: Frame[]): number => f.reduce((n, x) => n + 1 + size(x.calls), 0);
    for (const v of live) if (v.view.frames?.roots) expect(size(v.view.frames.roots)).toBeLessThanOrEqual(2_000);
    const last = views.at(-1)!;
    expect(last.running).toBe(false);
    expect(size(last.view.frames!.roots!)).toBeGreaterThan(2_000);
    expect(h.lastView().view.frames!.total).toBe(2 * size(last.view.frames!.roots!)); // the page reads every view whole
  });

  it('gives the same state stepping exit by exit as running, and as a link to either', async () => {
    const stepped = harness();
    await stepped.send({ type: 'load', draft: DEFAULT, moves: [] });
    while (!stepped.lastView().view.done) await stepped.send({ type: 'move', move: { kind: 'step', unit: 'exit' } });
    const ran = harness();
    await ran.send({ type: 'load', draft: DEFAULT, moves: [] });
    await ran.send({ type: 'move', move: { kind: 'run' } });
    const strip = (v: LabView) => ({ ...v, frames: v.frames && { ...v.frames, cursor: 0 } });
    expect(strip(stepped.lastView().view)).toEqual(strip(ran.lastView().view));
    const linked = harness();
    await linked.send({ type: 'load', draft: DEFAULT, moves: stepped.lastView().moves });
    expect(linked.lastView().view).toEqual(stepped.lastView().view);
  });

  it('goes to exit N, forward or back, reaching what stepping exit by exit reaches', async () => {
    const doc = draftOf(galleryEntry('hlt-h3-userspace-irqchip')!.doc); // vCPU 0 exits on HLT, then on OUT
    const stepped = harness();
    await stepped.send({ type: 'load', draft: doc, moves: [] });
    while (stepped.lastView().view.vcpus[0]?.exits !== 2) await stepped.send({ type: 'move', move: { kind: 'step', unit: 'exit' } });

    const forward = harness();
    await forward.send({ type: 'load', draft: doc, moves: [] });
    await forward.send({ type: 'goto', vcpu: 0, exit: 1 });
    expect(forward.lastView().view).toEqual(stepped.lastView().view);

    const back = harness();
    await back.send({ type: 'load', draft: doc, moves: [{ kind: 'run' }] });
    await back.send({ type: 'goto', vcpu: 0, exit: 1 });
    expect(back.lastView().view).toEqual(stepped.lastView().view);
    expect(back.lastView().moves).toEqual([{ kind: 'to_exit', vcpu: 0, exit: 1 }]);

    await back.send({ type: 'goto', vcpu: 0, exit: 99 });
    expect(back.replies.at(-1)).toMatchObject({ type: 'refused', message: 'vCPU 0 makes no exit #99: the program ends before it' });
    expect(back.lastView().view.done).toBe(true);
  });

  it('refuses what cannot be done, saying why, and stays where it was', async () => {
    const h = harness();
    await h.send({ type: 'load', draft: DEFAULT, moves: [] });
    await h.send({ type: 'move', move: { kind: 'ioctl', op: { op: 'set_guest_debug', fd: 'vcpu0', control: ['ENABLE'] } } });
    expect(h.replies.find((r) => r.type === 'refused')).toMatchObject({ message: expect.stringContaining('no vcpu0 was created') });
    expect(h.lastView().moves).toEqual([]);
  });

  it('opens a link whose moves are damaged at the start, saying what is wrong', async () => {
    const h = harness();
    await h.send({ type: 'load', draft: DEFAULT, moves: [{ kind: 'step', unit: 'sideways' }] as unknown as Move[] });
    expect(h.replies.find((r) => r.type === 'refused')).toMatchObject({ message: expect.stringContaining('unknown step unit "sideways"') });
    expect(h.lastView()).toMatchObject({ moves: [], view: { next: 0 } });
  });

  it('issues page ioctls through the model, with the kernel\'s answer and reason', async () => {
    const h = harness();
    await h.send({ type: 'load', draft: DEFAULT, moves: Array(3).fill({ kind: 'step', unit: 'op' }) });
    await h.send({ type: 'move', move: { kind: 'ioctl', op: { op: 'enable_cap', fd: 'vcpu0', cap: 'KVM_CAP_X86_DISABLE_EXITS', args: ['HLT'] } } });
    const v = h.lastView().view;
    expect(v.vcpus[0].disabled.hlt).toBe(true);
    expect(v.results.at(-1)).toMatchObject({ index: null, op: 'enable_cap', ret: 0, summary: expect.stringContaining('HLT') });
    // The same call at VM scope after vCPU creation: on patch 5/7 it is accepted and reaches every vCPU;
    // with only patch 1/7 it is refused, and the refusal's reason comes from the model's frames.
    const one = harness();
    await one.send({ type: 'load', draft: { ...DEFAULT, doc: { ...DEFAULT.doc, patches: 1 } }, moves: Array(3).fill({ kind: 'step', unit: 'op' }) });
    await one.send({ type: 'move', move: { kind: 'ioctl', op: { op: 'enable_cap', fd: 'vm', cap: 'KVM_CAP_X86_DISABLE_EXITS', args: ['HLT'] } } });
    expect(one.lastView().view.results.at(-1)).toMatchObject({ ret: -1, errno: 'EINVAL', reason: expect.any(String) });
  });

  it('records the KVM_RUN being looked at again with EXIT_USERSPACE flipped, for the side-by-side diff', async () => {
    const h = harness();
    const toFirstRun: Move[] = Array(4).fill({ kind: 'step', unit: 'op' }); // create, check, set_guest_debug, run
    await h.send({ type: 'load', draft: draftOf(galleryEntry('hlt-h4-exit-userspace')!.doc), moves: toFirstRun });
    await h.send({ type: 'compare' });
    const c = h.replies.at(-1) as Extract<Reply, { type: 'compare' }>;
    expect(c.type).toBe('compare');
    expect(c.compare.right.label).toBe('with EXIT_USERSPACE');
    expect(c.compare.left.label).toMatch(/^without EXIT_USERSPACE/);
    // With the flag KVM_RUN returns 0 after the HLT; without it the vCPU sleeps inside KVM_RUN.
    expect(c.compare.right.roots.at(-1)).toMatchObject({ fn: 'kvm_arch_vcpu_ioctl_run', ret: 0 });
    expect(c.compare.left.roots.at(-1)?.ret).toBeUndefined();
    // The same exit named by the page (selected in the timeline), and one that has not happened.
    await h.send({ type: 'compare', vcpu: 0, exit: 0 });
    expect((h.replies.at(-1) as Extract<Reply, { type: 'compare' }>).compare).toEqual(c.compare);
    await h.send({ type: 'compare', vcpu: 0, exit: 5 });
    expect(h.replies.at(-1)).toMatchObject({ type: 'refused', message: 'vCPU 0 has made no exit #5 yet' });
    // The session itself is untouched.
    await h.send({ type: 'move', move: { kind: 'step', unit: 'frame' } });
    expect(h.lastView().moves).toEqual([...toFirstRun, { kind: 'step', unit: 'frame' }]);
  });

  it('reports a trap and an exception as crashes', async () => {
    for (const how of ['trap', 'throw'] as const) {
      const h = harness();
      await h.send({ type: 'crash', how });
      expect(String(h.crashes[0])).toMatch(how === 'trap' ? /RuntimeError: unreachable/ : /deliberate exception/);
    }
  });
});
