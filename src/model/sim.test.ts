// The Simulator's contract: determinism, pausing that changes nothing (cycle budgets, stops at
// instructions, exits and returns), snapshots at operation boundaries, `expect`, the vCPU mutex while
// a thread is inside KVM_RUN, signals, and the result document.
import { describe, expect, test } from 'vitest';
import { loadCore } from './cpu/node';
import { Simulator, type AdvanceOptions, type ResultDoc } from './sim';
import { XAPIC_EOI, XAPIC_ENABLE, scenarioOf, simulator, withIdt, type Doc } from './kvm/test-scenario';
import type { Op } from './scenario/types';
import { KVM_GUESTDBG_ENABLE, KVM_GUESTDBG_EXIT_USERSPACE } from './kvm/uapi';

/** Two vCPUs, an IPI, a timer, HLT with and without exits, IO to userspace: most paths at once. */
const BUSY: Doc = {
  kernel: 'rfc-v4',
  guest: {
    asm: withIdt([
      XAPIC_ENABLE,
      '  mov dword [rbx+0x3e0], 0xb', '  mov dword [rbx+0x320], 0x20040', '  mov dword [rbx+0x380], 1', // periodic tick
      '  sti', '  cmp rdi, 0', '  jne .waiter',
      '.l0: mov ecx, 3000', '.s: pause', '  dec ecx', '  jnz .s',
      '  mov dword [rbx+0x310], 0x1000000', '  mov dword [rbx+0x300], 0x41', '  out 0x80, al', '  hlt', '  jmp .l0',
      '.waiter: hlt', '  out 0x81, al', '  jmp .waiter',
    ].join('\n'), { 0x40: `${XAPIC_EOI}\n  iretq`, 0x41: `  inc r12\n${XAPIC_EOI}\n  iretq` }),
  },
  program: [
    { op: 'create_vcpu', id: 0 }, { op: 'create_vcpu', id: 1 },
    { op: 'enable_cap', fd: 'vcpu1', cap: 'X86_DISABLE_EXITS', args: ['HLT', 'OVERRIDE'] },
    { op: 'run', fd: 'vcpu0' },
    { op: 'run_threads', fds: ['vcpu0', 'vcpu1'], for_ns: 1_500_000 },
    { op: 'stats', fd: 'vcpu1' },
  ],
};

const json = (x: unknown) => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));

async function drive(doc: Doc, how: AdvanceOptions | null, frames = true): Promise<{ result: ResultDoc; events: string }> {
  const sim = await simulator(doc, { frames });
  if (!how) sim.runAll();
  else while (!sim.done) sim.advance(how);
  return { result: sim.result(), events: json(sim.events) };
}

describe('determinism and pausing', () => {
  test('the same scenario gives the same document and events twice', async () => {
    const a = await drive(BUSY, null);
    const b = await drive(BUSY, null);
    expect(json(a.result)).toBe(json(b.result));
    expect(a.events).toBe(b.events);
    expect(a.result.steps[4].threads!.vcpu1.KVM_EXIT_IO).toBeGreaterThan(3);
  });

  test.each<[string, AdvanceOptions]>([
    ['a small cycle budget', { maxCycles: 2500 }],
    ['every VM exit', { until: 'exit' }],
    ['every KVM_RUN return', { until: 'run_return' }],
    ['every KVM_RUN return of vCPU 1', { until: 'run_return', vcpu: 1 }],
    ['every exit of vCPU 1', { until: 'exit', vcpu: 1 }],
  ])('stopping at %s changes nothing', async (_, how) => {
    const a = await drive(BUSY, null);
    const b = await drive(BUSY, how);
    expect(json(b.result)).toBe(json(a.result));
    expect(b.events).toBe(a.events);
  });

  test('single-stepping a vCPU\'s instructions changes nothing', async () => {
    const doc: Doc = { ...BUSY, program: BUSY.program!.slice(0, 4) };
    const a = await drive(doc, null);
    const sim = await simulator(doc);
    let steps = 0;
    while (!sim.done) {
      const r = sim.advance({ until: 'insn', vcpu: 0 });
      if (r.stopped === 'insn') steps++;
    }
    expect(steps).toBeGreaterThan(20);
    expect(json(sim.result())).toBe(json(a.result));
  });

  test('frames off: the same results without frames', async () => {
    const a = await drive(BUSY, null);
    const b = await drive(BUSY, null, false);
    const strip = (d: ResultDoc) => json(d.steps.map(({ frames: _f, reason: _r, ...s }) => s));
    expect(strip(b.result)).toBe(strip(a.result));
    expect(b.result.steps.some((s) => s.frames)).toBe(false);
  });
});

describe('a run_return stop inside run_threads leaves the thread in userspace (NEEDS P9)', () => {
  /** Each vCPU makes an IO exit to userspace, then halts with nothing to wake it (in-kernel LAPIC). */
  const OUT_THEN_HLT: Doc = {
    kernel: 'rfc-v4', guest: { asm: 'mov r12, 0x1234\nout 0x80, al\nhlt\nmov r13, 1\nout 0x81, al\n.l: jmp .l' },
    program: [{ op: 'create_vcpu', id: 0 }, { op: 'create_vcpu', id: 1 }, { op: 'run_threads', fds: ['vcpu0', 'vcpu1'], for_ns: 1e6 }],
  };

  /** A simulator stopped at vCPU 0's first KVM_RUN return inside the run_threads operation. */
  async function atFirstReturn(): Promise<Simulator> {
    const sim = await simulator(OUT_THEN_HLT);
    sim.step();
    sim.step();
    expect(sim.advance({ until: 'run_return', vcpu: 0 })).toEqual({ stopped: 'run_return', vcpu: 0 });
    return sim;
  }
  /** The run_threads result, and vCPU 0's KVM_RUN ioctl events. */
  function finish(sim: Simulator) {
    while (!sim.done) sim.advance();
    const runs = sim.events.filter((e) => e.kind === 'ioctl' && e.fd === 'vcpu0' && e.ioctl === 'KVM_RUN');
    return { step: sim.result().steps.find((s) => s.op === 'run_threads')!, runs, vcpu0: sim.inspectVcpus()[0] };
  }

  test('without an ioctl at the stop, vCPU 0 sleeps in its second KVM_RUN', async () => {
    const { step, runs, vcpu0 } = finish(await atFirstReturn());
    expect(step.threads).toEqual({ vcpu0: { KVM_EXIT_IO: 1 }, vcpu1: { KVM_EXIT_IO: 1 } });
    expect(step.in_kvm_run).toEqual(['vcpu0', 'vcpu1']);
    expect(runs).toHaveLength(1);
    expect(vcpu0.stats).toMatchObject({ halt_exits: 1 });
  });

  test('at the stop the thread is in userspace, the other still inside KVM_RUN: KVM_GET_REGS answers for vCPU 0 only', async () => {
    const sim = await atFirstReturn();
    expect(sim.inspectVcpus()[0]).toMatchObject({ inKvmRun: false, activity: 'userspace' });
    expect(sim.inspectVcpus()[1].inKvmRun).toBe(true);
    const r = sim.ioctl({ op: 'get_regs', fd: 'vcpu0' } as Op);
    expect(r.blocked).toBeUndefined();
    expect(r.regs).toMatchObject({ r12: '0x1234', r13: '0x0' }); // after the OUT, before the HLT
    expect(sim.ioctl({ op: 'get_regs', fd: 'vcpu1' } as Op)).toMatchObject({ blocked: true });
    // The ioctl sits between vCPU 0's two KVM_RUNs in the event stream.
    const { runs } = finish(sim);
    const ioctls = sim.events.filter((e) => e.kind === 'ioctl' && e.fd === 'vcpu0').map((e) => e.kind === 'ioctl' && e.ioctl);
    expect(ioctls).toEqual(['KVM_RUN', 'KVM_GET_REGS']);
    expect(runs).toHaveLength(1);
  });

  test('KVM_SET_GUEST_DEBUG(EXIT_USERSPACE) at the stop makes the next KVM_RUN return at the HLT exit', async () => {
    const sim = await atFirstReturn();
    const r = sim.ioctl({ op: 'set_guest_debug', fd: 'vcpu0', control: KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_EXIT_USERSPACE } as Op);
    expect(r).toMatchObject({ ret: 0 });
    expect(r.blocked).toBeUndefined();
    const { runs, vcpu0 } = finish(sim);
    // The next KVM_RUN completes the OUT and returns at once (I6: twice for one OUT); the one after
    // returns at the HLT exit, exit_reason stale, hw.hardware_exit_reason = EXIT_REASON_HLT.
    expect(runs.map((e) => e.kind === 'ioctl' && [e.ret, e.run?.exit_reason, e.run?.hw_exit_reason])).toEqual([
      [0, 'KVM_EXIT_IO', 0x100800101], [0, 'KVM_EXIT_IO', 0x100800101], [0, 'KVM_EXIT_IO', 12],
    ]);
    expect(vcpu0.stats.halt_exits).toBe(1);
  });

  test('KVM_ENABLE_CAP(X86_DISABLE_EXITS, HLT) on the vCPU at the stop makes the next KVM_RUN halt in the guest', async () => {
    const sim = await atFirstReturn();
    expect(sim.ioctl({ op: 'enable_cap', fd: 'vcpu0', cap: 143, args: 2n, args_more: [], flags: 0 })).toMatchObject({ ret: 0 });
    const { runs, vcpu0 } = finish(sim);
    expect(runs).toHaveLength(1);
    expect(vcpu0.stats.halt_exits).toBe(0);
    expect(vcpu0.activity).toBe('guest_halted');
    expect(finish(sim).step.in_kvm_run).toEqual(['vcpu0', 'vcpu1']);
  });

  test('a stop at another vCPU\'s return re-issues this thread\'s KVM_RUN at once, as before', async () => {
    const sim = await simulator(OUT_THEN_HLT);
    sim.step();
    sim.step();
    expect(sim.advance({ until: 'run_return', vcpu: 1 })).toEqual({ stopped: 'run_return', vcpu: 1 });
    expect(sim.inspectVcpus()[0].inKvmRun).toBe(true); // vCPU 0 returned first (lower index, same clock) and went back in
    expect(sim.ioctl({ op: 'get_regs', fd: 'vcpu0' } as Op)).toMatchObject({ blocked: true });
  });

  test.each<[string, AdvanceOptions[]]>([
    ['at every KVM_RUN return', [{ until: 'run_return' }]],
    ['alternating vCPUs\' returns and budgets', [{ until: 'run_return', vcpu: 0 }, { maxCycles: 1000 }, { until: 'run_return', vcpu: 1 }, { until: 'exit' }]],
  ])('stopping %s and going on gives the same events as running straight through', async (_, hows) => {
    const a = await drive(BUSY, null);
    const sim = await simulator(BUSY);
    let stops = 0;
    for (let i = 0; !sim.done; i++) if (sim.advance(hows[i % hows.length]).stopped === 'run_return') stops++;
    expect(stops).toBeGreaterThan(5);
    expect(json(sim.events)).toBe(a.events);
    expect(json(sim.result())).toBe(json(a.result));
  });
});

describe('snapshots', () => {
  test('restoring an op-boundary snapshot, in this or a fresh simulator, replays the rest identically', async () => {
    const sim = await simulator(BUSY);
    for (let i = 0; i < 4; i++) sim.step();
    const snap = sim.snapshot()!;
    expect(snap).not.toBeNull();
    const rest = () => { while (!sim.done) sim.step(); return json(sim.result()); };
    const first = rest();
    const events = json(sim.events);
    sim.restore(snap);
    expect(sim.next).toBe(4);
    expect(rest()).toBe(first);
    expect(json(sim.events)).toBe(events);
    const other = await Simulator.create(await loadCore(), scenarioOf(BUSY));
    other.restore(snap);
    while (!other.done) other.step();
    expect(json(other.result())).toBe(first);
  });

  test('restoring into the same simulator keeps its objects (and their state is the snapshot\'s)', async () => {
    const sim = await simulator(BUSY);
    for (let i = 0; i < 3; i++) sim.step();
    const snap = sim.snapshot()!;
    const before = sim.inspectVcpus();
    const kvm = (sim as unknown as { kvm: { vcpus: object[] } }).kvm;
    const vcpus = kvm.vcpus.slice();
    while (!sim.done) sim.step();
    sim.restore(snap);
    expect(kvm.vcpus).toEqual(vcpus);
    kvm.vcpus.forEach((v, i) => expect(v).toBe(vcpus[i]));
    expect(json(sim.inspectVcpus())).toBe(json(before));
  });

  test('a long history restores (no spread of it onto the call stack)', async () => {
    const sim = await simulator({
      kernel: 'rfc-v4',
      guest: { asm: withIdt([XAPIC_ENABLE, '  mov dword [rbx+0x3e0], 0xb', '  mov dword [rbx+0x320], 0x20040', '  mov dword [rbx+0x380], 1', '  sti', '.l: hlt', '  jmp .l'].join('\n'), { 0x40: `${XAPIC_EOI}\n  iretq` }) },
      program: [{ op: 'create_vcpu', id: 0 }, { op: 'run', fd: 'vcpu0', timeout_ns: 3e6 }],
    }, { frames: false });
    sim.step();
    const snap = sim.snapshot()!;
    sim.step();
    for (let i = 0; i < 8; i++) sim.ioctl({ op: 'run', fd: 'vcpu0', timeout_ns: 5e8 });
    const n = sim.events.length;
    expect(n).toBeGreaterThan(200_000);
    const late = sim.snapshot();
    expect(late).toBeNull(); // still inside KVM_RUN: take one after the signal
    sim.kick('vcpu0');
    sim.ioctl({ op: 'run', fd: 'vcpu0', timeout_ns: 1e6 });
    const long = sim.snapshot()!;
    sim.restore(snap);
    expect(sim.events.length).toBeLessThan(n);
    sim.restore(long);
    expect(sim.events.length).toBeGreaterThan(n);
  });

  test('no snapshot while a thread is inside KVM_RUN', async () => {
    const sim = await simulator({ kernel: 'rfc-v4', guest: { asm: 'sti\nhlt' }, program: [{ op: 'create_vcpu', id: 0 }, { op: 'run', fd: 'vcpu0', timeout_ns: 1e5 }] });
    sim.step();
    expect(sim.snapshot()).not.toBeNull();
    expect(sim.step().blocked).toBe(true);
    expect(sim.snapshot()).toBeNull();
  });
});

describe('the example of spec/scenario-format.md', () => {
  test('runs and meets its expectations, with the documented result', async () => {
    const sim = await simulator({
      title: 'vCPU-scoped HLT disable', kernel: 'rfc-v4', patches: 6,
      host: { mwait: true, pcpus: 4, halt_poll_ns: 200000 }, vm: { irqchip: 'kernel', memory: '4M' },
      guest: { asm: 'sti\nhlt\ncli\nout 0x80, al\n', org: '0x10000' },
      program: [
        { op: 'create_vcpu', id: 0 },
        { op: 'create_vcpu', id: 1 },
        { op: 'enable_cap', fd: 'vcpu1', cap: 'KVM_CAP_X86_DISABLE_EXITS', args: ['HLT', 'OVERRIDE'], expect: { ret: 0 } },
        { op: 'set_guest_debug', fd: 'vcpu0', control: ['ENABLE', 'EXIT_USERSPACE'] },
        { op: 'run', fd: 'vcpu0', expect: { run: { hw_exit_reason: 12 } } },
      ],
    });
    const doc = sim.runAll();
    expect(doc.expectations).toEqual({ checked: 2, failed: 0 });
    expect(doc.steps[2]).toMatchObject({ index: 2, op: 'enable_cap', ret: 0, errno: null, expect: 'met' });
    expect(doc.steps[4]).toMatchObject({
      index: 4, op: 'run', ret: 0, errno: null, expect: 'met',
      run: { exit_reason: 'KVM_EXIT_UNKNOWN', exit_reason_code: 0, hw_exit_reason: 12, rip: '0x10002', mp_state: 'HALTED' },
      frames: [{ fn: 'kvm_arch_vcpu_ioctl_run', ret: 0, calls: [{ fn: 'vcpu_run', ret: 0 }] }],
    });
    expect(doc.vcpus[1].disabled_exits).toEqual({ mwait: false, hlt: true, pause: false, cstate: false });
    expect(doc.vcpus[0]).toMatchObject({ mp_state: 'HALTED', regs: { rip: '0x10002', rflags: '0x202' }, stats: { halt_exits: 1 } });
  });
});

describe('operations', () => {
  const halted = { kernel: 'rfc-v4', guest: { asm: 'sti\nhlt\nout 0x80, al' } };

  test('`expect` is checked and counted', async () => {
    const sim = await simulator({
      ...halted,
      program: [
        { op: 'check_extension', cap: 'X86_DISABLE_EXITS', expect: { ret: 15 } },
        { op: 'check_extension', cap: 'X86_DISABLE_EXITS', expect: { ret: 14, errno: null } },
        { op: 'create_vcpu', id: 0, expect: { ret: 5 } },
        { op: 'get_mp_state', fd: 'vcpu0', expect: { mp_state: 'RUNNABLE' } },
      ],
    });
    const doc = sim.runAll();
    expect(doc.expectations).toEqual({ checked: 4, failed: 1 });
    expect(doc.steps.map((s) => s.expect)).toEqual(['met', { mismatches: [{ path: 'ret', expected: 14, actual: 15 }] }, 'met', 'met']);
    expect(doc.steps[3].mp_state).toBe('KVM_MP_STATE_RUNNABLE');
  });

  test('a vCPU ioctl waits for vcpu->mutex while the thread is inside KVM_RUN; blocked if it never returns', async () => {
    const sim = await simulator({
      ...halted,
      program: [{ op: 'create_vcpu', id: 0 }, { op: 'run', fd: 'vcpu0', timeout_ns: 1e5 }, { op: 'get_regs', fd: 'vcpu0' }, { op: 'check_extension', cap: 'X86_DISABLE_EXITS' }],
    });
    const doc = sim.runAll();
    expect(doc.steps[1].blocked).toBe(true);
    expect(doc.steps[2]).toMatchObject({ blocked: true, ret: null });
    expect(doc.steps[2].t_ns).toBeGreaterThan(1e9); // it waited the default timeout
    expect(doc.steps[3]).toMatchObject({ ret: 15, t_ns: doc.steps[2].t_ns }); // a VM ioctl does not wait
    expect(doc.steps[2].reason).toBe('KVM_GET_REGS waits for vcpu->mutex, which the vCPU thread holds inside KVM_RUN');
    expect(sim.ioctl({ op: 'get_mp_state', fd: 'vcpu0' } as Op)).toMatchObject({ blocked: true });
  });

  test('a KVM_RUN ioctl event says what the run structure held when it returned', async () => {
    const debug = { op: 'set_guest_debug', fd: 'vcpu0', control: ['ENABLE', 'EXIT_USERSPACE'] };
    const sim = await simulator({ ...halted, program: [{ op: 'create_vcpu', id: 0 }, debug, { op: 'run', fd: 'vcpu0' }] });
    sim.runAll();
    expect(sim.events.filter((e) => e.kind === 'ioctl').at(-1)).toMatchObject({ ioctl: 'KVM_RUN', ret: 0, run: { exit_reason: 'KVM_EXIT_UNKNOWN', hw_exit_reason: 12 } });
  });

  test('stats reads the stats fd, which takes no vcpu->mutex: it answers while the thread is inside KVM_RUN', async () => {
    const sim = await simulator({ ...halted, program: [{ op: 'create_vcpu', id: 0 }, { op: 'run', fd: 'vcpu0', timeout_ns: 1e5 }, { op: 'stats', fd: 'vcpu0' }] });
    const doc = sim.runAll();
    expect(doc.steps[1].blocked).toBe(true);
    const t = doc.steps[1].t_ns;
    expect(doc.steps[2]).toMatchObject({ ret: 0, t_ns: t, stats: { halt_exits: 1, exits: 1 } });
    expect(doc.steps[2].blocked).toBeUndefined();
    expect(doc.steps[2].frames?.[0]).toMatchObject({ fn: 'kvm_vcpu_stats_read', calls: [{ fn: 'kvm_stats_read' }] });
    expect(sim.ioctl({ op: 'stats', fd: 'vcpu0' } as Op)).toMatchObject({ ret: 0, stats: { halt_exits: 1 } });
    expect(sim.events.filter((e) => e.kind === 'ioctl').at(-1)).toMatchObject({ fd: 'vcpu0', ioctl: 'read', args: { file: 'kvm-vcpu-stats:0' } });
    expect(sim.inspectVcpus()[0].inKvmRun).toBe(true);
  });

  test('a later `run` waits for the KVM_RUN still in flight, and a signal ends it with -EINTR', async () => {
    const sim = await simulator({ ...halted, program: [{ op: 'create_vcpu', id: 0 }, { op: 'run', fd: 'vcpu0', timeout_ns: 1e5 }, { op: 'run', fd: 'vcpu0' }] });
    sim.step();
    expect(sim.step().blocked).toBe(true);
    sim.kick('vcpu0');
    const r = sim.step();
    expect(r).toMatchObject({ ret: -1, errno: 'EINTR', run: { exit_reason: 'KVM_EXIT_INTR' } });
    expect(sim.inspectVcpus()[0].stats.signal_exits).toBe(1);
    expect(sim.inspectVcpus()[0].inKvmRun).toBe(false);
  });

  test('an ioctl outside the program goes through the same path; a bad fd is EBADF', async () => {
    const sim = await simulator({ ...halted, program: [{ op: 'create_vcpu', id: 0 }] });
    sim.step();
    const r = sim.ioctl({ op: 'enable_cap', fd: 'vcpu0', cap: 143, args: 2n, args_more: [], flags: 0 });
    expect(r).toMatchObject({ index: null, ret: 0 });
    expect(sim.ioctl({ op: 'get_mp_state', fd: 'vcpu9' } as Op)).toMatchObject({ ret: -1, errno: 'EBADF' });
    expect(sim.inspectVcpus()[0].disabled.hlt).toBe(true);
  });

  test('a long KVM_RUN keeps its first frames and counts the rest', async () => {
    const asm = withIdt(`${XAPIC_ENABLE}\n  mov dword [rbx+0x3e0], 0xb\n  mov dword [rbx+0x320], 0x20040\n  mov dword [rbx+0x380], 1\n  sti\n.l: hlt\n  jmp .l`, { 0x40: `${XAPIC_EOI}\n  iretq` });
    const sim = await simulator({ kernel: 'rfc-v4', guest: { asm }, program: [{ op: 'create_vcpu', id: 0 }, { op: 'run', fd: 'vcpu0', timeout_ns: 2e8 }] });
    const r = sim.runAll().steps[1];
    expect(r.blocked).toBe(true);
    expect(r.frames_dropped).toBeGreaterThan(0);
    expect(r.frames![0].fn).toBe('kvm_arch_vcpu_ioctl_run');
  });

  test('the document: every register, the VMCS words, mp_state and stats per vCPU; events for every ioctl', async () => {
    const sim = await simulator({ ...halted, program: [{ op: 'create_vcpu', id: 0 }, { op: 'run', fd: 'vcpu0', timeout_ns: 1e5 }] });
    const doc = sim.runAll();
    expect(doc).toMatchObject({ format: 'exitscope-result/1', kernel: 'rfc-v4', patches: 6, vm: { disabled_exits: { hlt: false } } });
    expect(Object.keys(doc.vcpus[0].regs)).toHaveLength(18);
    expect(doc.vcpus[0]).toMatchObject({ id: 0, mp_state: 'HALTED', vmcs: { primary: expect.stringMatching(/^0x/) }, stats: { halt_exits: 1 } });
    expect(sim.events.filter((e) => e.kind === 'ioctl').map((e) => (e as { ioctl: string }).ioctl)).toEqual(['KVM_CREATE_VCPU']);
    expect(sim.events.map((e) => e.kind)).toContain('kvm_exit');
  });
});
