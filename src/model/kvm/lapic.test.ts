// The in-kernel LAPIC: the timer in its three modes, register reads through the xAPIC page and the
// x2APIC MSRs, priority between pending vectors, and KVM_INTERRUPT with a userspace irqchip.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { KvmVcpu } from './kvm_host';
import { APIC_IRR, APIC_ISR, KvmLapic } from './lapic';
import { XAPIC_EOI, XAPIC_ENABLE, framesNamed, oneShotTimer, periodicTimer, runDoc, withIdt } from './test-scenario';

const create = { op: 'create_vcpu', id: 0 };
const run = (timeout_ns?: number) => ({ op: 'run', fd: 'vcpu0', ...(timeout_ns ? { timeout_ns } : {}) });
const regs = { op: 'get_regs', fd: 'vcpu0' };

describe('the LAPIC timer', () => {
  test('one-shot: fires once, `ns` after TMICT is written', async () => {
    const asm = withIdt(`${XAPIC_ENABLE}\n${oneShotTimer(0x40, 30_000)}\n  sti\n.l: hlt\n  jmp .l`, { 0x40: `  inc r12\n${XAPIC_EOI}\n  out 0x80, al\n  iretq` });
    const { steps, sim } = await runDoc({ kernel: 'v5.19', guest: { asm }, program: [create, run(), run(1e6), regs] });
    expect(steps[1].run?.io?.port).toBe(0x80);
    expect(steps[1].t_ns).toBeGreaterThanOrEqual(30_000);
    expect(steps[1].t_ns).toBeLessThan(40_000);
    expect(steps[2].blocked).toBe(true); // no second tick
    expect(steps[3].blocked).toBe(true); // KVM_GET_REGS waits for vcpu->mutex
    expect(sim.inspectVcpus()[0].regs.r12).toBe(1n);
  });

  test('periodic: one tick per period, never faster than min_timer_period_us (200 µs)', async () => {
    const asm = withIdt(`${XAPIC_ENABLE}\n${periodicTimer(0x40, 1000)}\n  sti\n.l: hlt\n  jmp .l`, { 0x40: `  inc r12\n${XAPIC_EOI}\n  iretq` });
    const { steps, sim } = await runDoc({ kernel: 'v5.19', guest: { asm }, program: [create, run(1_050_000)] });
    expect(steps[1].blocked).toBe(true);
    expect(sim.inspectVcpus()[0].regs.r12).toBe(5n); // 1.05 ms / 200 µs
  });

  test('TSC-deadline through the MSR: fires at that guest TSC; a deadline in the past fires at once', async () => {
    const body = [
      XAPIC_ENABLE,
      '  mov dword [rbx+0x320], 0x40040', // TSC-deadline mode, vector 0x40
      '  rdtsc', '  shl rdx, 32', '  or rax, rdx', '  add rax, 90000', '  mov rdx, rax', '  shr rdx, 32',
      '  mov ecx, 0x6e0', '  wrmsr', '  sti', '.l: hlt', '  jmp .l',
    ].join('\n');
    const asm = withIdt(body, { 0x40: `${XAPIC_EOI}\n  out 0x80, al\n  iretq` });
    const { steps } = await runDoc({ kernel: 'rfc-v4', guest: { asm }, program: [create, run()] });
    expect(steps[1].run?.io?.port).toBe(0x80);
    expect(steps[1].t_ns).toBeGreaterThanOrEqual(30_000); // 90000 cycles at 3 GHz
    expect(steps[1].t_ns).toBeLessThan(35_000);
  });

  test('TMCCT counts down; a masked LVTT drops the tick', async () => {
    const body = [XAPIC_ENABLE, '  mov dword [rbx+0x3e0], 0xb', '  mov dword [rbx+0x320], 0x10040', '  mov dword [rbx+0x380], 100000',
      '  mov eax, [rbx+0x390]', '  mov r13, rax', '  sti', '  hlt', '  out 0x80, al'].join('\n');
    const { steps, sim } = await runDoc({ kernel: 'rfc-v4', guest: { asm: withIdt(body, { 0x40: '  out 0x81, al' }) }, program: [create, run(500_000)] });
    expect(steps[1].blocked).toBe(true);
    const tmcct = Number(sim.inspectVcpus()[0].regs.r13);
    expect(tmcct).toBeGreaterThan(90_000);
    expect(tmcct).toBeLessThan(100_000);
    expect(sim.inspectVcpus()[0].apic?.irr).toEqual([]);
  });
});

describe('registers and priority', () => {
  test('xAPIC reads go through the emulator; x2APIC mode makes the ID the vCPU id', async () => {
    const body = [XAPIC_ENABLE, '  mov eax, [rbx+0x20]', '  mov r13, rax', '  mov eax, [rbx+0x30]', '  mov r14, rax',
      '  mov ecx, 0x1b', '  rdmsr', '  or eax, 0xc00', '  wrmsr', '  mov ecx, 0x802', '  rdmsr', '  mov r15, rax', '  out 0x80, al'].join('\n');
    const { steps } = await runDoc({
      kernel: 'rfc-v4', guest: { asm: body },
      program: [{ op: 'create_vcpu', id: 0 }, { op: 'create_vcpu', id: 3 }, { op: 'run', fd: 'vcpu3' }, { op: 'get_regs', fd: 'vcpu3' }],
    });
    expect(framesNamed(steps[2].frames, 'x86_emulate_instruction').length).toBeGreaterThan(0);
    expect(steps[3].regs).toMatchObject({ r13: '0x3000000', r14: '0x50014', r15: '0x3' });
  });

  test('the higher vector class is delivered first; TPR holds a lower one back', async () => {
    // Two self-IPIs while IF=0 (0x40 and 0x90), then STI: 0x90 first, its handler EOIs, then 0x40.
    const body = [XAPIC_ENABLE, '  cli', '  mov dword [rbx+0x300], 0x40040', '  mov dword [rbx+0x300], 0x40090',
      '  mov dword [rbx+0x80], 0x50', // TPR 0x50: class 4 (0x40) is held back
      '  sti', '  nop', '  out 0x80, al', '  mov dword [rbx+0x80], 0', '  nop', '  out 0x82, al'].join('\n');
    const asm = withIdt(body, {
      0x40: `  shl r12, 8\n  or r12, 0x40\n${XAPIC_EOI}\n  iretq`,
      0x90: `  shl r12, 8\n  or r12, 0x90\n${XAPIC_EOI}\n  iretq`,
    });
    const { steps } = await runDoc({ kernel: 'rfc-v4', guest: { asm }, program: [create, run(), regs, run(), regs] });
    expect(steps[1].run?.io?.port).toBe(0x80);
    expect(steps[2].regs?.r12).toBe('0x90'); // 0x40 is below the TPR
    expect(steps[3].run?.io?.port).toBe(0x82);
    expect(steps[4].regs?.r12).toBe('0x9040');
  });
});

describe('KVM_INTERRUPT', () => {
  test('userspace irqchip: after KVM_EXIT_HLT the VMM injects, the next KVM_RUN delivers', async () => {
    const asm = withIdt('  sti\n  hlt\n  out 0x80, al', { 0x30: '  out 0x81, al' });
    const { steps } = await runDoc({
      kernel: 'rfc-v4', vm: { irqchip: 'userspace' }, guest: { asm },
      program: [create, run(), { op: 'interrupt', fd: 'vcpu0', vector: 0x30 }, run()],
    });
    expect(steps[1].run?.exit_reason).toBe('KVM_EXIT_HLT');
    expect(steps[2].ret).toBe(0);
    expect(steps[3].run?.io?.port).toBe(0x81);
    expect(framesNamed(steps[3].frames, 'vmx_inject_irq')[0].note).toMatch(/vector 48 \(re-injected\)/);
  });

  test('in-kernel irqchip: -ENXIO', async () => {
    const { steps } = await runDoc({ kernel: 'rfc-v4', guest: { asm: 'hlt' }, program: [create, { op: 'interrupt', fd: 'vcpu0', vector: 0x30 }] });
    expect(steps[1]).toMatchObject({ ret: -1, errno: 'ENXIO' });
  });
});

describe('IRR and ISR', () => {
  test('the highest set vector, kept as vectors are set and cleared, is what a scan of the registers finds', () => {
    const scan = (apic: KvmLapic, base: number) => {
      for (let v = 255; v >= 0; v--) if (apic.testVector(base, v)) return v;
      return -1;
    };
    const move = fc.record({ set: fc.boolean(), isr: fc.boolean(), vec: fc.integer({ min: 16, max: 255 }) });
    fc.assert(fc.property(fc.array(move, { maxLength: 60 }), (moves) => {
      const apic = new KvmLapic({ vcpu_id: 0 } as KvmVcpu);
      for (const m of moves) {
        const base = m.isr ? APIC_ISR : APIC_IRR;
        if (m.set) apic.setVector(base, m.vec);
        else apic.clearVector(base, m.vec);
        expect(apic.highest(base)).toBe(scan(apic, base));
        expect(apic.irrPending).toBe(scan(apic, APIC_IRR) !== -1);
      }
      expect(apic.highest(APIC_ISR)).toBe(scan(apic, APIC_ISR));
    }));
  });
});
