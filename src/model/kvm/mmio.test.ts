// Emulated MMIO (EPT violation → x86_emulate_instruction → KVM_EXIT_MMIO → complete_emulated_mmio),
// MONITOR/MWAIT by variant and quirk, and the C-state residency MSRs CSTATE passes through.
import { describe, expect, test } from 'vitest';
import { framesNamed, retOf, runDoc, withIdt } from './test-scenario';

const create = { op: 'create_vcpu', id: 0 };
const run = { op: 'run', fd: 'vcpu0' };
const regs = { op: 'get_regs', fd: 'vcpu0' };

describe('MMIO to userspace', () => {
  test('a write completes before the exit (RIP past it); its completion just returns 1', async () => {
    const asm = 'mov rbx, 0xd0000000\nmov dword [rbx+8], 0x1234\nout 0x80, al';
    const { steps, doc } = await runDoc({ kernel: 'rfc-v4', guest: { asm }, program: [create, run, run] });
    expect(steps[1].run).toMatchObject({ exit_reason: 'KVM_EXIT_MMIO', rip: '0x1000c', mmio: { phys_addr: '0xd0000008', data: '0x1234', len: 4, is_write: 1 } });
    expect(retOf(steps[1].frames, 'handle_ept_violation')).toBe(0);
    expect(framesNamed(steps[2].frames, 'complete_emulated_mmio')[0]).toMatchObject({ ret: 1, calls: [] });
    expect(steps[2].run?.io?.port).toBe(0x80);
    expect(doc.vcpus[0].stats).toMatchObject({ mmio_exits: 1, insn_emulation: 1 });
  });

  test('a read is replayed with run->mmio.data on the next KVM_RUN', async () => {
    const asm = 'mov rbx, 0xd0000000\nmov eax, -1\nmov eax, [rbx]\nout 0x80, al';
    const { steps } = await runDoc({ kernel: 'rfc-v4', guest: { asm }, program: [create, run, run, regs] });
    expect(steps[1].run).toMatchObject({ exit_reason: 'KVM_EXIT_MMIO', rip: '0x1000a', mmio: { is_write: 0, len: 4 } }); // still at the MOV
    expect(retOf(steps[2].frames, 'complete_emulated_mmio')).toBe(1);
    expect(steps[3].regs?.rax).toBe('0x0'); // this program supplies no data (no mmio_data): the field is 0
  });

  test('run.mmio_data: userspace supplies the read\'s value in run->mmio.data (len bytes of it are used)', async () => {
    const asm = 'mov rbx, 0xd0000000\nmov rax, -1\nmov eax, [rbx]\nmov rcx, rax\nmov ax, [rbx+2]\nout 0x80, al';
    const { steps } = await runDoc({
      kernel: 'rfc-v4', guest: { asm },
      program: [create, run, { ...run, mmio_data: '0x1122334455667788' }, { ...run, mmio_data: [0xcd, 0xab] }, regs],
    });
    expect(framesNamed(steps[2].frames, 'complete_emulated_mmio')[0].note).toBe('run->mmio.data = 0x55667788: the read completes and the instruction is replayed');
    expect(steps[2].run?.mmio).toMatchObject({ phys_addr: '0xd0000002', len: 2, is_write: 0 });
    expect(steps[4].regs).toMatchObject({ rcx: '0x55667788', rax: '0x5566abcd' });
    const refused = await runDoc({ kernel: 'rfc-v4', guest: { asm: 'out 0x80, al' }, program: [create, run, { ...run, mmio_data: 1 }] });
    expect(refused.steps[2]).toMatchObject({ ret: null, reason: 'mmio_data: run->exit_reason is KVM_EXIT_IO, not KVM_EXIT_MMIO: there is no MMIO read to complete' });
  });

  test('a read-modify-write exits twice: the read, then the write', async () => {
    const asm = 'mov rbx, 0xd0000000\ninc dword [rbx]\nout 0x80, al';
    const { steps } = await runDoc({ kernel: 'rfc-v4', guest: { asm }, program: [create, run, run, run] });
    expect(steps[1].run?.mmio).toMatchObject({ is_write: 0 });
    expect(steps[2].run?.mmio).toMatchObject({ is_write: 1, data: '0x1' });
    expect(steps[3].run?.io?.port).toBe(0x80);
  });

  test('with a userspace irqchip the APIC page is MMIO too', async () => {
    const asm = 'mov rbx, 0xfee00000\nmov dword [rbx+0xf0], 0x1ff\nout 0x80, al';
    const { steps } = await runDoc({ kernel: 'rfc-v4', vm: { irqchip: 'userspace' }, guest: { asm }, program: [create, run] });
    expect(steps[1].run).toMatchObject({ exit_reason: 'KVM_EXIT_MMIO', mmio: { phys_addr: '0xfee000f0', is_write: 1 } });
  });

  test('the in-kernel IOAPIC keeps what the guest programs', async () => {
    const asm = 'mov rbx, 0xfec00000\nmov dword [rbx], 0x10\nmov dword [rbx+0x10], 0x31\nmov eax, [rbx+0x10]\nmov dword [rbx], 1\nmov ecx, [rbx+0x10]\nout 0x80, al';
    const { steps } = await runDoc({ kernel: 'rfc-v4', guest: { asm }, program: [create, run, regs] });
    expect(steps[1].run?.io?.port).toBe(0x80);
    expect(steps[2].regs).toMatchObject({ rax: '0x31', rcx: '0x170011' }); // the entry's low word; version 0x11, 24 pins
  });
});

describe('MONITOR/MWAIT with exits enabled', () => {
  const asm = withIdt('  lea rax, [rel x]\n  xor ecx, ecx\n  xor edx, edx\n  monitor\n  out 0x80, al\nx: dq 0', { 6: '  out 0x81, al' });
  const quirkOff = { op: 'enable_cap', fd: 'vm', cap: 'DISABLE_QUIRKS2', args: 0x40 };

  test.each([['v5.19', 'EINVAL', 0x80], ['rfc-v4', 'EINVAL', 0x80], ['rfc-v6', null, 0x81], ['mainline', null, 0x81]])(
    '%s: with MWAIT_NEVER_UD_FAULTS off and no MWAIT in CPUID — quirk cap %s, the guest sees port %i',
    async (kernel, errno, port) => {
      const { steps } = await runDoc({ kernel, guest: { asm }, program: [quirkOff, create, run] });
      expect(steps[0].errno).toBe(errno);
      expect(steps[2].run?.io?.port).toBe(port);
      const handler = framesNamed(steps[2].frames, 'kvm_emulate_monitor')[0];
      expect(handler.note).toMatch(port === 0x81 ? /#UD/ : /emulated as NOP/);
    });
});

describe('CSTATE: only the residency MSRs', () => {
  const asm = withIdt('  mov ecx, 0x3fc\n  rdmsr\n  out 0x80, al', { 13: '  out 0x81, al' });
  test('intercepted (the default), KVM does not handle them: #GP', async () => {
    const { steps } = await runDoc({ kernel: 'rfc-v4', guest: { asm }, program: [create, run] });
    expect(steps[1].run?.io?.port).toBe(0x81);
  });

  test('disabled: reads pass through, and the C1 residency counts the time halted in guest', async () => {
    const body = [
      '  mov rbx, 0xfee00000', '  mov dword [rbx+0xf0], 0x1ff', '  mov dword [rbx+0x3e0], 0xb', '  mov dword [rbx+0x320], 0x40', '  mov dword [rbx+0x380], 10000',
      '  sti', '  hlt', '  mov ecx, 0x660', '  rdmsr', '  shl rdx, 32', '  or rax, rdx', '  out 0x80, al',
    ].join('\n');
    const { steps, doc } = await runDoc({
      kernel: 'rfc-v4', guest: { asm: withIdt(body, { 0x40: '  mov dword [rbx+0xb0], 0\n  iretq' }) },
      program: [{ op: 'enable_cap', fd: 'vm', cap: 'X86_DISABLE_EXITS', args: ['HLT', 'CSTATE'] }, create, run, regs],
    });
    expect(steps[2].run?.io?.port).toBe(0x80);
    const c1 = Number(BigInt(steps[3].regs!.rax));
    expect(c1).toBeGreaterThan(25_000); // ≈ 10 µs at 3 GHz
    expect(c1).toBeLessThan(31_000);
    expect(framesNamed(steps[2].frames, 'kvm_emulate_rdmsr')).toHaveLength(0);
    expect(doc.vcpus[0].stats.halt_exits).toBe(0);
  });
});
