// Spec §3.2 table H (HLT with exits enabled), H1–H10, and §3.4 (exits disabled): return values along
// the frames, exit_reason and hw.hardware_exit_reason, mp_state, RIP.
import { describe, expect, test } from 'vitest';
import { XAPIC_EOI, XAPIC_ENABLE, callOrder, framesNamed, oneShotTimer, retOf, runDoc, withIdt } from './test-scenario';

const STI_HLT = { asm: 'sti\nhlt\ncli\nout 0x80, al\n' }; // HLT at 0x10001, RIP after it 0x10002
const create = { op: 'create_vcpu', id: 0 };
const run = (timeout_ns?: number) => ({ op: 'run', fd: 'vcpu0', ...(timeout_ns ? { timeout_ns } : {}) });
const debug = (...control: string[]) => ({ op: 'set_guest_debug', fd: 'vcpu0', control });

describe('table H', () => {
  test('H1 in-kernel LAPIC, nothing pending: KVM_RUN does not return; HALTED, RIP past the HLT', async () => {
    const { steps, doc } = await runDoc({ kernel: 'rfc-v4', guest: STI_HLT, program: [create, run(1e6)] });
    const r = steps[1];
    expect(r.blocked).toBe(true);
    expect(r.ret).toBeNull();
    expect(r.run).toMatchObject({ mp_state: 'HALTED', rip: '0x10002' });
    expect(retOf(r.frames, 'kvm_emulate_halt')).toBe(1);
    expect(retOf(r.frames, '__kvm_emulate_halt')).toBe(1);
    const block = framesNamed(r.frames, 'kvm_vcpu_block')[0];
    expect(block.ret).toBeUndefined(); // still sleeping
    expect(doc.vcpus[0].stats.halt_exits).toBe(1);
  });

  test('H2 a wake event (the LAPIC timer): vcpu_block returns 1, RUNNABLE, the interrupt is injected', async () => {
    const asm = withIdt(`${XAPIC_ENABLE}\n${oneShotTimer(0x40, 50_000)}\n  sti\n  hlt\n  out 0x80, al`, {
      0x40: `${XAPIC_EOI}\n  iretq`,
    });
    const { steps, doc } = await runDoc({ kernel: 'rfc-v4', guest: { asm }, program: [create, run()] });
    const r = steps[1];
    expect(r.ret).toBe(0);
    expect(r.run).toMatchObject({ exit_reason: 'KVM_EXIT_IO', mp_state: 'RUNNABLE' });
    expect(r.t_ns).toBeGreaterThan(50_000);
    const blocks = framesNamed(r.frames, 'vcpu_block');
    expect(blocks.every((b) => b.ret === 1)).toBe(true);
    expect(blocks.at(-1)!.note).toMatch(/RUNNABLE/);
    expect(framesNamed(r.frames, 'vmx_inject_irq')[0].note).toMatch(/vector 64/);
    expect(doc.vcpus[0].stats).toMatchObject({ halt_exits: 1, irq_injections: 1 });
  });

  test('H3 userspace irqchip: KVM_EXIT_HLT, RUNNABLE, RIP past the HLT', async () => {
    const { steps } = await runDoc({ kernel: 'rfc-v4', vm: { irqchip: 'userspace' }, guest: STI_HLT, program: [create, run()] });
    expect(steps[1]).toMatchObject({ ret: 0, run: { exit_reason: 'KVM_EXIT_HLT', exit_reason_code: 5, mp_state: 'RUNNABLE', rip: '0x10002' } });
    expect(retOf(steps[1].frames, 'kvm_skip_emulated_instruction')).toBe(1);
    expect(retOf(steps[1].frames, '__kvm_emulate_halt')).toBe(0);
  });

  test('H4 EXIT_USERSPACE, in-kernel LAPIC: returns 0 with exit_reason stale (UNKNOWN), hw 12; the next KVM_RUN blocks', async () => {
    const { steps } = await runDoc({
      kernel: 'rfc-v4', guest: STI_HLT,
      program: [create, debug('ENABLE', 'EXIT_USERSPACE'), run(), run(1e6)],
    });
    expect(steps[2]).toMatchObject({ ret: 0, run: { exit_reason: 'KVM_EXIT_UNKNOWN', exit_reason_code: 0, hw_exit_reason: 12, mp_state: 'HALTED', rip: '0x10002' } });
    expect(retOf(steps[2].frames, 'kvm_skip_emulated_instruction')).toBe(0);
    expect(retOf(steps[2].frames, '__kvm_emulate_halt')).toBe(1);
    expect(retOf(steps[2].frames, 'kvm_emulate_halt')).toBe(0);
    const next = steps[3];
    expect(next.blocked).toBe(true);
    expect(callOrder(next.frames).slice(0, 3)).toEqual(['kvm_arch_vcpu_ioctl_run', 'vcpu_run', 'vcpu_block']);
  });

  test('H5 EXIT_USERSPACE, userspace irqchip: KVM_EXIT_HLT, hw 12 stays (no union payload)', async () => {
    const { steps } = await runDoc({
      kernel: 'rfc-v4', vm: { irqchip: 'userspace' }, guest: STI_HLT,
      program: [create, debug('ENABLE', 'EXIT_USERSPACE'), run()],
    });
    expect(steps[2]).toMatchObject({ ret: 0, run: { exit_reason: 'KVM_EXIT_HLT', hw_exit_reason: 12, mp_state: 'RUNNABLE' } });
  });

  test('H6 SINGLESTEP, in-kernel LAPIC: KVM_EXIT_DEBUG at the RIP after HLT, HALTED', async () => {
    const { steps } = await runDoc({
      kernel: 'rfc-v4', guest: STI_HLT,
      program: [create, debug('ENABLE', 'SINGLESTEP'), run(), run(), run(1e6)],
    });
    // The first step is the STI (a #DB exit), the second the HLT (through kvm_skip_emulated_instruction).
    expect(steps[2].run).toMatchObject({ exit_reason: 'KVM_EXIT_DEBUG', debug: { exception: 1, pc: '0x10001', dr6: '0xffff4ff0' } });
    expect(steps[3]).toMatchObject({ ret: 0, run: { exit_reason: 'KVM_EXIT_DEBUG', mp_state: 'HALTED', debug: { exception: 1, pc: '0x10002', dr6: '0xffff4ff0' } } });
    expect(retOf(steps[3].frames, 'kvm_vcpu_do_singlestep')).toBe(0);
    expect(retOf(steps[3].frames, '__kvm_emulate_halt')).toBe(1);
    expect(steps[4].blocked).toBe(true); // HALTED: the next KVM_RUN blocks until an event
  });

  test('H7 SINGLESTEP, userspace irqchip: KVM_EXIT_HLT overwrites the debug exit', async () => {
    const { steps } = await runDoc({
      kernel: 'rfc-v4', vm: { irqchip: 'userspace' }, guest: STI_HLT,
      program: [create, debug('ENABLE', 'SINGLESTEP'), run(), run()],
    });
    expect(steps[3]).toMatchObject({ ret: 0, run: { exit_reason: 'KVM_EXIT_HLT', mp_state: 'RUNNABLE', debug: { pc: '0x10002' } } });
    expect(retOf(steps[3].frames, 'kvm_vcpu_do_singlestep')).toBe(0);
    expect(retOf(steps[3].frames, '__kvm_emulate_halt')).toBe(0);
  });

  test('H8 TF set by the guest: #DB queued, vcpu_block does not sleep, the #DB is delivered past the HLT', async () => {
    const asm = withIdt('  pushfq\n  or qword [rsp], 0x100\n  popfq\n  hlt\nafter:\n  out 0x80, al', {
      1: '  mov rax, [rsp]\n  out 0x81, al',
    });
    const { steps, sim } = await runDoc({ kernel: 'rfc-v4', guest: { asm }, program: [create, run(), { op: 'get_regs', fd: 'vcpu0' }] });
    const r = steps[1];
    expect(r.run).toMatchObject({ exit_reason: 'KVM_EXIT_IO', io: { port: 0x81 } });
    expect(framesNamed(r.frames, 'kvm_vcpu_do_singlestep')[0]).toMatchObject({ ret: 1 });
    expect(framesNamed(r.frames, 'vcpu_block')[0].ret).toBe(1);
    expect(framesNamed(r.frames, 'kvm_vcpu_halt')).toHaveLength(0); // runnable at once: never halted
    const hltAt = Number(sim.readGuest(0x10000, 64).indexOf(0xf4)) + 0x10000;
    expect(steps[2].regs!.rax).toBe('0x' + (hltAt + 1).toString(16));
  });

  test.each([['kernel', 'KVM_EXIT_DEBUG'], ['userspace', 'KVM_EXIT_HLT']])('H9 SINGLESTEP + EXIT_USERSPACE, %s irqchip: as H6/H7', async (irqchip, reason) => {
    const { steps } = await runDoc({
      kernel: 'rfc-v4', vm: { irqchip }, guest: STI_HLT,
      program: [create, debug('ENABLE', 'SINGLESTEP', 'EXIT_USERSPACE'), run(), run()],
    });
    // 6/7 stored hw.hardware_exit_reason = 12, then kvm_vcpu_do_singlestep filled run->debug, whose
    // `exception` (1) shares those bytes: userspace reads 1.
    expect(steps[3]).toMatchObject({ ret: 0, run: { exit_reason: reason, hw_exit_reason: 1, debug: { exception: 1, pc: '0x10002' } } });
    expect(retOf(steps[3].frames, 'kvm_skip_emulated_instruction')).toBe(0);
  });

  test('H10 cli; hlt with a vector in the IRR: not an event while IF=0, the vCPU sleeps', async () => {
    const asm = withIdt(`  cli\n${XAPIC_ENABLE}\n  mov dword [rbx+0x300], 0x40040\n  hlt\n  out 0x80, al`, { 0x40: '  out 0x81, al' });
    const { steps, sim } = await runDoc({ kernel: 'rfc-v4', guest: { asm }, program: [create, run(1e6)] });
    expect(steps[1].blocked).toBe(true);
    expect(steps[1].run?.mp_state).toBe('HALTED');
    expect(sim.inspectVcpus()[0].apic?.irr).toEqual([0x40]);
  });
});

describe('HLT exits disabled (hlt_in_guest): §3.4', () => {
  test('the HLT does not exit; the vCPU stays halted inside KVM_RUN, RUNNABLE, no halt_exits', async () => {
    const { steps, doc, sim } = await runDoc({
      kernel: 'rfc-v4', guest: STI_HLT,
      program: [{ op: 'enable_cap', fd: 'vm', cap: 'X86_DISABLE_EXITS', args: ['HLT'] }, create, run(1e6)],
    });
    expect(steps[2].blocked).toBe(true);
    expect(steps[2].run?.mp_state).toBe('RUNNABLE');
    expect(doc.vcpus[0].stats).toMatchObject({ halt_exits: 0, exits: 0 });
    expect(sim.inspectVcpus()[0].activity).toBe('guest_halted');
  });

  test('a LAPIC timer wakes it: EXTERNAL_INTERRUPT exit, still HLT in the VMCS, vmx_clear_hlt when injecting', async () => {
    const asm = withIdt(`${XAPIC_ENABLE}\n${oneShotTimer(0x40, 50_000)}\n  sti\n  hlt\n  out 0x80, al`, { 0x40: `${XAPIC_EOI}\n  iretq` });
    const { steps, doc } = await runDoc({
      kernel: 'rfc-v4', guest: { asm },
      program: [{ op: 'enable_cap', fd: 'vm', cap: 'X86_DISABLE_EXITS', args: ['HLT'] }, create, run()],
    });
    const r = steps[2];
    expect(r.run?.exit_reason).toBe('KVM_EXIT_IO');
    expect(framesNamed(r.frames, 'handle_external_interrupt')).toHaveLength(1);
    expect(framesNamed(r.frames, 'vmx_clear_hlt')).toHaveLength(1);
    expect(framesNamed(r.frames, 'kvm_emulate_halt')).toHaveLength(0);
    expect(doc.vcpus[0].stats).toMatchObject({ halt_exits: 0, irq_exits: 1 });
  });
});

describe('mainline HLT (1876dd69dfe8, v6.12)', () => {
  test('handled in the fastpath: __vmx_handle_exit returns 1 without a handler', async () => {
    const { steps } = await runDoc({ kernel: 'mainline', guest: STI_HLT, program: [create, run(1e6)] });
    const r = steps[1];
    expect(framesNamed(r.frames, 'handle_fastpath_hlt')[0].ret).toBe('EXIT_FASTPATH_EXIT_HANDLED');
    expect(framesNamed(r.frames, '__vmx_handle_exit')[0]).toMatchObject({ ret: 1, note: 'already handled in the fastpath' });
    expect(r.run?.mp_state).toBe('HALTED');
  });

  test('userspace irqchip: EXIT_FASTPATH_EXIT_USERSPACE, KVM_EXIT_HLT', async () => {
    const { steps } = await runDoc({ kernel: 'mainline', vm: { irqchip: 'userspace' }, guest: STI_HLT, program: [create, run()] });
    expect(steps[1].run?.exit_reason).toBe('KVM_EXIT_HLT');
    expect(framesNamed(steps[1].frames, 'handle_fastpath_hlt')[0].ret).toBe('EXIT_FASTPATH_EXIT_USERSPACE');
  });

  test.each([['mainline', 'RUNNABLE'], ['v5.19', 'HALTED']])('%s: a HLT with an interrupt already deliverable', async (kernel, state) => {
    // A self-IPI while IF=0; STI; HLT: after the skip clears the STI shadow the interrupt is deliverable.
    const asm = withIdt(`  cli\n${XAPIC_ENABLE}\n  mov dword [rbx+0x300], 0x40040\n  sti\n  hlt\n  out 0x80, al`, { 0x40: '  out 0x81, al' });
    const { steps } = await runDoc({ kernel, guest: { asm }, program: [create, run()] });
    expect(steps[1].run?.io?.port).toBe(0x81);
    const halt = framesNamed(steps[1].frames, '__kvm_emulate_halt')[0];
    expect(halt.note).toMatch(state === 'RUNNABLE' ? /stays RUNNABLE/ : /HALTED/);
  });
});
