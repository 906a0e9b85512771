// Spec §3.7 table I (port IO), I1–I6, with the completion callbacks and string IO through the emulator.
import { describe, expect, test } from 'vitest';
import { callOrder, framesNamed, retOf, runDoc } from './test-scenario';

const create = { op: 'create_vcpu', id: 0 };
const run = { op: 'run', fd: 'vcpu0' };
const regs = { op: 'get_regs', fd: 'vcpu0' };
const exitUserspace = { op: 'set_guest_debug', fd: 'vcpu0', control: ['ENABLE', 'EXIT_USERSPACE'] };
const userspaceIrqchip = { irqchip: 'userspace' };

describe('table I', () => {
  test('I1 OUT/IN handled by an in-kernel device (the PIC): no exit, kvm_fast_pio returns 1', async () => {
    const asm = 'mov al, 0xfb\nout 0x21, al\nxor eax, eax\nin al, 0x21\nout 0x80, al\n';
    const { steps, doc } = await runDoc({ kernel: 'rfc-v4', guest: { asm }, program: [create, run] });
    const r = steps[1];
    expect(r.run).toMatchObject({ exit_reason: 'KVM_EXIT_IO', io: { port: 0x80, direction: 1, data: ['0xfb'] } });
    expect(framesNamed(r.frames, 'kvm_fast_pio').map((f) => f.ret)).toEqual([1, 1, 0]);
    expect(doc.vcpus[0].stats.io_exits).toBe(3);
  });

  test('I2 OUT to userspace: KVM_EXIT_IO with the data in the PIO page, RIP still at the OUT; I2′ the next KVM_RUN skips it', async () => {
    const { steps } = await runDoc({
      kernel: 'rfc-v4', vm: userspaceIrqchip, guest: { asm: 'mov al, 0x5a\nout 0x80, al\nhlt\n' },
      program: [create, run, run],
    });
    expect(steps[1]).toMatchObject({
      ret: 0,
      run: { exit_reason: 'KVM_EXIT_IO', exit_reason_code: 2, rip: '0x10002', io: { direction: 1, size: 1, port: 0x80, count: 1, data_offset: 4096, data: ['0x5a'] } },
    });
    expect(retOf(steps[1].frames, 'kvm_fast_pio')).toBe(0);
    expect(framesNamed(steps[1].frames, 'kvm_skip_emulated_instruction')).toHaveLength(0);
    const again = steps[2];
    expect(callOrder(again.frames).slice(0, 3)).toEqual(['kvm_arch_vcpu_ioctl_run', 'complete_fast_pio_out', 'kvm_skip_emulated_instruction']);
    expect(retOf(again.frames, 'complete_fast_pio_out')).toBe(1);
    expect(again.run).toMatchObject({ exit_reason: 'KVM_EXIT_HLT', rip: '0x10005' });
  });

  test('I3 IN from userspace: complete_fast_pio_in merges (size < 4) or zero-extends (size 4) the data into RAX', async () => {
    const asm = 'mov eax, 0x12345678\nin al, 0x80\nmov rbx, rax\nmov rax, -1\nin eax, 0x80\nhlt\n';
    const { steps } = await runDoc({
      kernel: 'rfc-v4', vm: userspaceIrqchip, guest: { asm },
      program: [create, run, run, run, regs],
    });
    expect(steps[1].run?.io).toMatchObject({ direction: 0, size: 1, port: 0x80, count: 1 });
    expect(retOf(steps[2].frames, 'complete_fast_pio_in')).toBe(1);
    expect(steps[2].run?.io).toMatchObject({ direction: 0, size: 4 });
    expect(steps[3].run?.exit_reason).toBe('KVM_EXIT_HLT');
    // KVM zeroes the PIO page before userspace sees an IN; the model's userspace writes nothing.
    expect(steps[4].regs).toMatchObject({ rbx: '0x12345600', rax: '0x0' });
  });

  test('I4 OUT to port 0x7e with KVM_X86_QUIRK_OUT_7E_INC_RIP: RIP advanced before the exit; off: it is not', async () => {
    const program = [create, run, run];
    const on = await runDoc({ kernel: 'rfc-v4', vm: userspaceIrqchip, guest: { asm: 'out 0x7e, al\nhlt\n' }, program });
    expect(on.steps[1].run).toMatchObject({ exit_reason: 'KVM_EXIT_IO', rip: '0x10002', io: { port: 0x7e } });
    const done = framesNamed(on.steps[2].frames, 'complete_fast_pio_out_port_0x7e')[0];
    expect(done).toMatchObject({ ret: 1, calls: [] }); // only clears pio.count
    expect(on.steps[2].run).toMatchObject({ exit_reason: 'KVM_EXIT_HLT', rip: '0x10003' });
    const off = await runDoc({
      kernel: 'rfc-v4', vm: userspaceIrqchip, guest: { asm: 'out 0x7e, al\nhlt\n' },
      program: [{ op: 'enable_cap', fd: 'vm', cap: 'DISABLE_QUIRKS2', args: 8 }, ...program],
    });
    expect(off.steps[0].ret).toBe(0);
    expect(off.steps[2].run).toMatchObject({ exit_reason: 'KVM_EXIT_IO', rip: '0x10000' });
  });

  test('I5 EXIT_USERSPACE, in-kernel device: the skip returns 0, exit_reason stale, hw 30', async () => {
    const { steps } = await runDoc({ kernel: 'rfc-v4', guest: { asm: 'out 0x21, al\nout 0x80, al\n' }, program: [create, exitUserspace, run] });
    expect(steps[2]).toMatchObject({ ret: 0, run: { exit_reason: 'KVM_EXIT_UNKNOWN', hw_exit_reason: 30, rip: '0x10002' } });
    expect(retOf(steps[2].frames, 'kvm_fast_pio')).toBe(0);
  });

  test('I6 EXIT_USERSPACE, userspace device: KVM_EXIT_IO, then KVM_RUN returns 0 again before any entry', async () => {
    const { steps } = await runDoc({
      kernel: 'rfc-v4', vm: userspaceIrqchip, guest: { asm: 'out 0x80, al\nhlt\n' },
      program: [create, exitUserspace, run, run, run],
    });
    // The write to run->io overwrote hw.hardware_exit_reason: it reads back the io bytes.
    expect(steps[2].run).toMatchObject({ exit_reason: 'KVM_EXIT_IO', rip: '0x10000', io: { port: 0x80, direction: 1 } });
    expect(steps[2].run!.hw_exit_reason).not.toBe(30);
    const second = steps[3];
    expect(second).toMatchObject({ ret: 0, run: { exit_reason: 'KVM_EXIT_IO', rip: '0x10002' } });
    expect(callOrder(second.frames)).toEqual(['kvm_arch_vcpu_ioctl_run', 'complete_fast_pio_out', 'kvm_skip_emulated_instruction']);
    expect(retOf(second.frames, 'kvm_skip_emulated_instruction')).toBe(0);
    expect(steps[4].run?.exit_reason).toBe('KVM_EXIT_HLT');
  });
});

describe('string IO through the emulator', () => {
  test('REP OUTSB to userspace: one element per exit, the REP stays on the instruction', async () => {
    const asm = 'lea rsi, [rel msg]\nmov ecx, 3\nrep outsb\nhlt\nmsg: db 0x61, 0x62, 0x63\n';
    const { steps } = await runDoc({ kernel: 'rfc-v4', vm: userspaceIrqchip, guest: { asm }, program: [create, run, run, run, run, regs] });
    expect(steps.slice(1, 4).map((s) => s.run?.io?.data[0])).toEqual(['0x61', '0x62', '0x63']);
    expect(framesNamed(steps[1].frames, 'x86_emulate_instruction')[0].ret).toBe(0);
    expect(steps[4].run?.exit_reason).toBe('KVM_EXIT_HLT');
    expect(steps[5].regs?.rcx).toBe('0x0');
  });

  test('INSB from userspace reads ahead: one exit for the whole REP, completed by complete_emulated_pio', async () => {
    const asm = 'lea rdi, [rel buf]\nmov ecx, 4\nrep insb\nhlt\nbuf: dd -1\n';
    const { steps, sim } = await runDoc({ kernel: 'rfc-v4', vm: userspaceIrqchip, guest: { asm }, program: [create, run, run, regs] });
    expect(steps[1].run?.io).toMatchObject({ direction: 0, count: 4 });
    expect(retOf(steps[2].frames, 'complete_emulated_pio')).toBe(1);
    expect(steps[2].run?.exit_reason).toBe('KVM_EXIT_HLT');
    expect(steps[3].regs?.rcx).toBe('0x0');
    const buf = Number(BigInt(steps[3].regs!.rdi)) - 4;
    expect([...sim.readGuest(buf, 4)]).toEqual([0, 0, 0, 0]);
  });

  test('REP OUTSB to an in-kernel port: no exit to userspace', async () => {
    const asm = 'lea rsi, [rel msg]\nmov ecx, 3\nrep outsb\nout 0x80, al\nmsg: db 1, 2, 3\n';
    const { steps, doc } = await runDoc({ kernel: 'rfc-v4', guest: { asm: asm.replace('rep outsb', 'mov dx, 0x21\nrep outsb') }, program: [create, run] });
    expect(steps[1].run?.io?.port).toBe(0x80);
    expect(doc.vcpus[0].stats.insn_emulation).toBe(1);
  });
});

describe('userspace completing an IN (run.io_data)', () => {
  test('the bytes go to the PIO page; complete_fast_pio_in merges a byte into RAX and zero-extends a dword', async () => {
    const asm = 'mov eax, 0x12345678\nin al, 0x80\nmov rbx, rax\nmov rax, -1\nin eax, 0x80\nhlt\n';
    const { steps } = await runDoc({
      kernel: 'rfc-v4', vm: userspaceIrqchip, guest: { asm },
      program: [create, run, { ...run, io_data: 0xab }, { ...run, io_data: [0x78, 0x56, 0x34, 0x12] }, regs],
    });
    expect(framesNamed(steps[2].frames, 'complete_fast_pio_in')[0]).toMatchObject({ ret: 1, note: '0xab from the PIO page (run->io.data_offset): RAX = 0x123456ab' });
    expect(steps[3].run?.exit_reason).toBe('KVM_EXIT_HLT');
    expect(steps[4].regs).toMatchObject({ rbx: '0x123456ab', rax: '0x12345678' });
  });

  test('a REP INSW takes its elements from the page through complete_emulated_pio', async () => {
    const asm = 'mov rdi, 0x20000\nmov ecx, 3\nmov dx, 0x80\nrep insw\nmov rbx, [0x20000]\nhlt\n';
    const { steps } = await runDoc({
      kernel: 'rfc-v4', vm: userspaceIrqchip, guest: { asm },
      program: [create, run, { ...run, io_data: [0x11, 0x22, 0x33, 0x44, 0x55, 0x66] }, regs],
    });
    expect(steps[1].run?.io).toMatchObject({ direction: 0, size: 2, count: 3 });
    expect(retOf(steps[2].frames, 'complete_emulated_pio')).toBe(1);
    expect(steps[3].regs).toMatchObject({ rbx: '0x665544332211', rcx: '0x0' });
  });

  test('refused, with no KVM_RUN issued, when there is no IN to complete or the thread is still inside KVM_RUN', async () => {
    const { steps, sim } = await runDoc({
      kernel: 'rfc-v4', guest: { asm: 'hlt' },
      program: [create, { ...run, io_data: 1 }, { ...run, timeout_ns: 1e5 }, { ...run, io_data: 1 }],
    });
    expect(steps[1]).toMatchObject({ ret: null, reason: 'io_data: run->exit_reason is KVM_EXIT_UNKNOWN, not KVM_EXIT_IO: there is no IN to complete' });
    expect(steps[2].blocked).toBe(true);
    expect(steps[3]).toMatchObject({ ret: null, reason: 'io_data: the vCPU thread is still inside the earlier KVM_RUN, which has not returned' });
    expect(sim.inspectVcpus()[0].stats.halt_exits).toBe(1);
  });
});
