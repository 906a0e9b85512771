// Time between kvm_exit and kvm_entry: the exit-plus-entry round trip (host.exit_cycles) and what
// each handler's work costs (costs.ts), read back through perf kvm stat's aggregation of the events.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { kvmStat } from '../trace/kvmstat';
import { CPUID_NS, EXTERNAL_INTERRUPT_NS, MMIO_NS, MSR_WRITE_NS, PIO_KERNEL_NS } from './costs';
import { runDoc, withIdt } from './test-scenario';

const x2apicWrite = (msr: number, val: number) => `  mov ecx, ${msr}\n  mov eax, ${val}\n  xor edx, edx\n  wrmsr`;
const X2APIC_ON = ['  mov ecx, 0x1b', '  rdmsr', '  or eax, 0xc00', '  wrmsr', x2apicWrite(0x80f, 0x1ff)].join('\n');
const EOI = ['  push rax', '  push rcx', '  push rdx', x2apicWrite(0x80b, 0), '  pop rdx', '  pop rcx', '  pop rax'].join('\n');

/** CPUID, an in-kernel OUT (the PIC), an in-kernel MMIO read (the IOAPIC), then a HLT the LAPIC timer ends, then userspace. */
const GUEST = withIdt([
  '  xor eax, eax', '  cpuid',
  '  mov al, 0xff', '  out 0x21, al',
  '  mov rbx, 0xfec00000', '  mov eax, [rbx]',
  X2APIC_ON, x2apicWrite(0x83e, 0xb), x2apicWrite(0x832, 0x40), x2apicWrite(0x838, 50_000),
  '  sti', '  hlt', '  out 0x80, al',
].join('\n'), { 0x40: `${EOI}\n  iretq` });

/** The average exit time perf kvm stat shows for a handler costing `ns` on a host of `ghz` and `exitCycles`. */
const expected = (ghz: number, exitCycles: number, ns: number) => (exitCycles + Math.round(ns * ghz)) / ghz;

async function stat(host: Record<string, number> = {}, asm = GUEST) {
  const { sim, steps } = await runDoc({ kernel: 'rfc-v4', host, guest: { asm }, program: [{ op: 'create_vcpu', id: 0 }, { op: 'run', fd: 'vcpu0' }] }, { frames: false });
  return { stat: kvmStat(sim.events), run: steps[1] };
}

describe('exit time', () => {
  test('each handled exit takes the round trip plus its handler; HLT has few samples and most of the time', async () => {
    const { stat: s, run } = await stat();
    expect(run.run?.io?.port).toBe(0x80);
    const row = (name: string) => s.rows.find((r) => r.name === name)!;
    expect(row('CPUID').avgNs).toBeCloseTo(expected(3, 1100, CPUID_NS), 6);
    expect(row('IO_INSTRUCTION')).toMatchObject({ samples: 1 }); // the OUT to userspace has no kvm_entry yet
    expect(row('IO_INSTRUCTION').avgNs).toBeCloseTo(expected(3, 1100, PIO_KERNEL_NS), 6);
    expect(row('EPT_VIOLATION').avgNs).toBeCloseTo(expected(3, 1100, MMIO_NS), 6);
    expect(row('MSR_WRITE').minNs).toBeCloseTo(expected(3, 1100, MSR_WRITE_NS), 6);
    expect(row('MSR_READ').avgNs).toBeCloseTo(1100 / 3, 6);
    for (const r of s.rows) expect(r.minNs).toBeGreaterThan(0);
    const hlt = row('HLT');
    expect(hlt.samples).toBe(1);
    expect(hlt.avgNs).toBeGreaterThan(40_000); // the whole halt, until the timer's interrupt is injected
    expect(Math.max(...s.rows.map((r) => r.timePct))).toBe(hlt.timePct);
    expect(hlt.samplesPct).toBeLessThan(20);
    expect(s.unfinished).toBe(1);
  });

  test('an EXTERNAL_INTERRUPT exit (the LAPIC timer while the guest spins with HLT exits off) pays the host\'s handler', async () => {
    const asm = withIdt([X2APIC_ON, x2apicWrite(0x83e, 0xb), x2apicWrite(0x832, 0x40), x2apicWrite(0x838, 20_000), '  sti', 'spin: jmp spin'].join('\n'), {
      0x40: `${EOI}\n  out 0x81, al`,
    });
    const { stat: s, run } = await stat({}, asm);
    expect(run.run?.io?.port).toBe(0x81);
    expect(s.rows.find((r) => r.name === 'EXTERNAL_INTERRUPT')?.avgNs).toBeCloseTo(expected(3, 1100, EXTERNAL_INTERRUPT_NS), 6);
  });

  test('property: the time follows host.ghz and host.exit_cycles, and no exit ends before it began', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 5000 }), async (ghz, exitCycles) => {
        const { stat: s } = await stat({ ghz, exit_cycles: exitCycles });
        expect(s.rows.find((r) => r.name === 'CPUID')!.avgNs).toBeCloseTo(expected(ghz, exitCycles, CPUID_NS), 6);
        expect(s.rows.find((r) => r.name === 'MSR_READ')!.avgNs).toBeCloseTo(exitCycles / ghz, 6);
        for (const r of s.rows) expect(r.minNs).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 6 },
    );
  });
});
