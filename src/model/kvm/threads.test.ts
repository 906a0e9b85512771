// Several vCPU threads in virtual time (run_threads), IPIs between them, who holds a pCPU while idle
// (HLT in guest) and who does not (vcpu_block), MWAIT woken by another vCPU's store, the RFC v4
// selftest's four cases, halt-polling's window, and the PLE window.
import { describe, expect, test } from 'vitest';
import type { TraceEvent } from '../trace/events';
import { XAPIC_EOI, XAPIC_ENABLE, framesNamed, oneShotTimer, runDoc, withIdt } from './test-scenario';

const vcpus = (n: number) => Array.from({ length: n }, (_, id) => ({ op: 'create_vcpu', id }));
/** vCPU 0 sends an IPI (vector 0x40, physical destination 1) after a while; vCPU 1 sleeps until it arrives. */
const IPI_GUEST = withIdt([
  XAPIC_ENABLE,
  '  cmp rdi, 0', '  jne waiter',
  '  mov ecx, 20000', '.spin: dec ecx', '  jnz .spin',
  '  mov dword [rbx+0x310], 0x1000000', '  mov dword [rbx+0x300], 0x40', // ICR2 = dest 1, ICR = fixed vector 0x40
  '  out 0x80, al', '.done: jmp .done',
  'waiter:', '  sti', '  hlt', '  out 0x81, al', '.idle: jmp .idle',
].join('\n'), { 0x40: `${XAPIC_EOI}\n  iretq` });

function activities(events: readonly TraceEvent[], vcpu: number): string[] {
  return events.filter((e) => e.kind === 'activity' && e.vcpu === vcpu).map((e) => (e as { activity: string }).activity);
}

describe('run_threads', () => {
  test('an IPI wakes the vCPU sleeping in vcpu_block; exits to userspace are counted per fd', async () => {
    const { steps, doc, sim } = await runDoc({
      kernel: 'rfc-v4', guest: { asm: IPI_GUEST },
      program: [...vcpus(2), { op: 'run_threads', fds: ['vcpu0', 'vcpu1'], for_ns: 100_000 }],
    });
    const r = steps[2];
    expect(r.threads).toEqual({ vcpu0: { KVM_EXIT_IO: 1 }, vcpu1: { KVM_EXIT_IO: 1 } });
    expect(r.in_kvm_run).toEqual(['vcpu0', 'vcpu1']); // both spin in the guest afterwards
    expect(doc.vcpus[1].stats).toMatchObject({ halt_exits: 1, halt_wakeup: 1 });
    expect(activities(sim.events, 1)).toContain('blocked');
  });

  test('HLT in guest: the idle vCPU holds its pCPU (guest_halted) and the IPI needs an EXTERNAL_INTERRUPT exit', async () => {
    const { steps, doc, sim } = await runDoc({
      kernel: 'rfc-v4', guest: { asm: IPI_GUEST },
      program: [...vcpus(2), { op: 'enable_cap', fd: 'vcpu1', cap: 'X86_DISABLE_EXITS', args: ['HLT', 'OVERRIDE'] },
        { op: 'run_threads', fds: ['vcpu0', 'vcpu1'], for_ns: 100_000 }],
    });
    expect(steps[3].threads).toEqual({ vcpu0: { KVM_EXIT_IO: 1 }, vcpu1: { KVM_EXIT_IO: 1 } });
    expect(doc.vcpus[1].stats).toMatchObject({ halt_exits: 0, irq_exits: 1, halt_wakeup: 0 });
    const acts = activities(sim.events, 1);
    expect(acts).toContain('guest_halted');
    expect(acts).not.toContain('blocked');
  });

  test('MWAIT in guest (exits disabled) wakes on another vCPU\'s store to the monitored line', async () => {
    const asm = [
      '  cmp rdi, 0', '  jne waiter',
      '  mov ecx, 5000', '.spin: dec ecx', '  jnz .spin',
      '  mov qword [rel flag], 1', '  out 0x80, al', '.done: jmp .done',
      'waiter:', '  lea rax, [rel flag]', '  xor ecx, ecx', '  xor edx, edx', '  monitor', '  mwait', '  out 0x81, al', '.idle: jmp .idle',
      'align 64', 'flag: dq 0',
    ].join('\n');
    const { steps, doc } = await runDoc({
      kernel: 'rfc-v4', guest: { asm },
      program: [{ op: 'enable_cap', fd: 'vm', cap: 'X86_DISABLE_EXITS', args: ['MWAIT'] }, ...vcpus(2),
        { op: 'run_threads', fds: ['vcpu0', 'vcpu1'], for_ns: 50_000 }],
    });
    expect(steps[3].threads).toEqual({ vcpu0: { KVM_EXIT_IO: 1 }, vcpu1: { KVM_EXIT_IO: 1 } });
    expect(doc.vcpus[1].stats.exits).toBe(1); // only the OUT: MONITOR and MWAIT ran natively
  });

  test('a fatal exit ends the thread\'s loop', async () => {
    const { steps } = await runDoc({
      kernel: 'rfc-v4', guest: { asm: 'lidt [idtr]\nint3\nidtr: dw 0\ndq 0' },
      program: [...vcpus(1), { op: 'run_threads', fds: ['vcpu0'], for_ns: 100_000 }],
    });
    expect(steps[1].threads).toEqual({ vcpu0: { KVM_EXIT_SHUTDOWN: 1 } });
    expect(steps[1].in_kvm_run).toBeUndefined();
  });
});

describe('RFC v4 7/7 selftest (disable_exits_test.c), on the Intel model', () => {
  const guest = { asm: 'sti\nhlt\ncli\n' };
  const debug = (fd: string) => ({ op: 'set_guest_debug', fd, control: ['ENABLE', 'EXIT_USERSPACE'] });
  const cap = (fd: string) => ({ op: 'enable_cap', fd, cap: 'X86_DISABLE_EXITS', args: ['HLT', 'OVERRIDE'] });

  test('TC1/TC2: VM scope after vCPU creation — vCPU 1 no longer exits on HLT and hangs in KVM_RUN', async () => {
    const { steps, sim } = await runDoc({
      kernel: 'rfc-v4', guest,
      program: [{ op: 'create_vcpu', id: 0 }, debug('vcpu0'), { op: 'run', fd: 'vcpu0' },
        { op: 'create_vcpu', id: 1 }, debug('vcpu1'), cap('vm'), { op: 'run', fd: 'vcpu1', timeout_ns: 1e6 }],
    });
    expect(steps[2].run?.hw_exit_reason).toBe(12); // TC1
    expect(steps[5].ret).toBe(0);
    expect(steps[6].blocked).toBe(true); // TC2: the hang Zhi Wang reported (on Intel: HLT in VMX non-root)
    expect(sim.inspectVcpus()[1].activity).toBe('guest_halted');
  });

  test('TC3/TC4: vCPU scope — vCPU 0 still exits, vCPU 1 hangs', async () => {
    const { steps } = await runDoc({
      kernel: 'rfc-v4', guest,
      program: [{ op: 'create_vcpu', id: 0 }, debug('vcpu0'), { op: 'create_vcpu', id: 1 }, debug('vcpu1'), cap('vcpu1'),
        { op: 'run', fd: 'vcpu0' }, { op: 'run', fd: 'vcpu1', timeout_ns: 1e6 }],
    });
    expect(steps[5].run).toMatchObject({ exit_reason: 'KVM_EXIT_UNKNOWN', hw_exit_reason: 12 });
    expect(steps[6].blocked).toBe(true);
  });

  test('v5.19: a late VM-scope enable changes the flags but not the existing vCPU\'s VMCS', async () => {
    const { steps, doc } = await runDoc({
      kernel: 'v5.19', guest,
      program: [{ op: 'create_vcpu', id: 0 }, { op: 'enable_cap', fd: 'vm', cap: 'X86_DISABLE_EXITS', args: ['HLT'] },
        { op: 'create_vcpu', id: 1 }, { op: 'run', fd: 'vcpu0', timeout_ns: 1e6 }, { op: 'run', fd: 'vcpu1', timeout_ns: 1e6 }],
    });
    expect(doc.vcpus.map((v) => v.disabled_exits.hlt)).toEqual([true, true]); // both read kvm->arch
    expect(doc.vcpus[0].stats.halt_exits).toBe(1); // ...but vCPU 0 still exits on HLT
    expect(doc.vcpus[1].stats.halt_exits).toBe(0);
    expect(steps[3].run?.mp_state).toBe('HALTED');
    expect(steps[4].run?.mp_state).toBe('RUNNABLE');
  });
});

describe('halt-polling', () => {
  // Three short halts (50 µs) then a long one (500 µs), each woken by a one-shot timer.
  const asm = withIdt([
    XAPIC_ENABLE, '  mov r12, 4', '  sti',
    'again:', '  mov eax, 50000', '  cmp r12, 1', '  jne .short', '  mov eax, 500000', '.short:',
    '  mov dword [rbx+0x3e0], 0xb', '  mov dword [rbx+0x320], 0x40', '  mov dword [rbx+0x380], eax',
    '  hlt', '  dec r12', '  jnz again', '  out 0x80, al',
  ].join('\n'), { 0x40: `${XAPIC_EOI}\n  iretq` });

  test.each([['v5.19', 0], ['mainline', 20000]])('%s: the window grows on short halts and shrinks after a long one (to %i)', async (kernel, after) => {
    const { steps, sim } = await runDoc({ kernel, guest: { asm }, program: [...vcpus(1), { op: 'run', fd: 'vcpu0' }] });
    const polls = framesNamed(steps[1].frames, 'kvm_vcpu_halt').map((f) => f.note!.match(/halt_poll_ns (\d+) → (\d+)/)!.slice(1).map(Number));
    expect(polls).toEqual([[0, 10000], [10000, 20000], [20000, 40000], [40000, after]]);
    expect(sim.inspectVcpus()[0].haltPollNs).toBe(after);
  });

  test('a poll window that covers the wait succeeds without sleeping', async () => {
    const loop = withIdt([XAPIC_ENABLE, '  mov dword [rbx+0x3e0], 0xb', '  mov dword [rbx+0x320], 0x20040', '  mov dword [rbx+0x380], 1', '  sti', '.l: hlt', '  jmp .l'].join('\n'),
      { 0x40: `${XAPIC_EOI}\n  iretq` });
    const { doc } = await runDoc({ kernel: 'rfc-v4', guest: { asm: loop }, program: [...vcpus(1), { op: 'run', fd: 'vcpu0', timeout_ns: 5e6 }] });
    const s = doc.vcpus[0].stats;
    expect(s.halt_exits).toBeGreaterThan(20);
    expect(s.halt_successful_poll).toBeGreaterThan(10);
    expect(s.halt_attempted_poll).toBeLessThan(s.halt_exits); // never the first halt (window 0)
    expect(s.halt_poll_success_ns).toBeGreaterThan(0);
  });

  test('halt_poll_ns = 0 or MSR_KVM_POLL_CONTROL = 0: never polls', async () => {
    const guest = { asm: withIdt(`${XAPIC_ENABLE}\n${oneShotTimer(0x40, 10_000)}\n  sti\n  hlt\n  out 0x80, al`, { 0x40: `${XAPIC_EOI}\n  iretq` }) };
    const off = await runDoc({ kernel: 'rfc-v4', host: { halt_poll_ns: 0 }, guest, program: [...vcpus(1), { op: 'run', fd: 'vcpu0' }] });
    expect(off.doc.vcpus[0].stats.halt_attempted_poll).toBe(0);
    const msr = { asm: withIdt(`  mov ecx, 0x4b564d05\n  xor eax, eax\n  xor edx, edx\n  wrmsr\n${XAPIC_ENABLE}\n${oneShotTimer(0x40, 10_000)}\n  sti\n  hlt\n  out 0x80, al`, { 0x40: `${XAPIC_EOI}\n  iretq` }) };
    const noPoll = await runDoc({ kernel: 'rfc-v4', guest: msr, program: [...vcpus(1), { op: 'run', fd: 'vcpu0' }] });
    expect(framesNamed(noPoll.steps[1].frames, 'kvm_vcpu_halt')[0].note).toMatch(/guest disabled polling/);
  });
});

describe('PAUSE-loop exiting', () => {
  const spin = 'mov ecx, 2000\n.l: pause\ndec ecx\njnz .l\nout 0x80, al';
  test('handle_pause grows the PLE window ×2 per exit', async () => {
    const { doc, sim } = await runDoc({ kernel: 'rfc-v4', guest: { asm: spin }, program: [...vcpus(1), { op: 'run', fd: 'vcpu0' }] });
    const exits = sim.events.filter((e) => e.kind === 'kvm_exit' && e.reason === 40).length;
    expect(exits).toBeGreaterThan(2);
    expect(sim.inspectVcpus()[0].pleWindow).toBe(4096 * 2 ** exits);
    expect(doc.vcpus[0].stats.exits).toBe(exits + 1);
  });

  test('RFC v4: a per-vCPU PAUSE disable keeps PLE on; only the window stops growing', async () => {
    const { sim } = await runDoc({
      kernel: 'rfc-v4', guest: { asm: spin },
      program: [...vcpus(1), { op: 'enable_cap', fd: 'vcpu0', cap: 'X86_DISABLE_EXITS', args: ['PAUSE'] }, { op: 'run', fd: 'vcpu0' }],
    });
    expect(sim.events.some((e) => e.kind === 'kvm_exit' && e.reason === 40)).toBe(true);
    expect(sim.inspectVcpus()[0].pleWindow).toBe(4096);
  });

  test('VM-scope PAUSE disable before creation: PLE off, no exits', async () => {
    const { sim } = await runDoc({
      kernel: 'rfc-v4', guest: { asm: spin },
      program: [{ op: 'enable_cap', fd: 'vm', cap: 'X86_DISABLE_EXITS', args: ['PAUSE'] }, ...vcpus(1), { op: 'run', fd: 'vcpu0' }],
    });
    expect(sim.events.filter((e) => e.kind === 'kvm_exit').length).toBe(1);
  });
});
