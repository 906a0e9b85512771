// KVM's paravirtual EOI: the MSR (enable, disable, alignment, a GPA outside RAM, the value read back),
// a tick acknowledged through the flag (no EOI exit; KVM's EOI at the next exit), a guest that writes
// the EOI MSR anyway (one EOI, not two), no PV EOI while another interrupt waits in the IRR or after a
// nested EOI (highest_isr_cache -1), the state across a snapshot, and a property: any interleaving of
// ticks and guest choices leaves the LAPIC as a guest that always EOIs by MSR does.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Frame } from '../trace/events';
import { framesNamed, runDoc, simulator, withIdt } from './test-scenario';

const create = { op: 'create_vcpu', id: 0 };
const run = (timeout_ns?: number) => ({ op: 'run', fd: 'vcpu0', ...(timeout_ns ? { timeout_ns } : {}) });
const PERIOD = 200_000;

/** x2APIC on, software-enabled; RDX = 0 afterwards. */
const X2APIC = ['  mov ecx, 0x1b', '  rdmsr', '  or eax, 0xc00', '  wrmsr', '  xor edx, edx', '  mov ecx, 0x80f', '  mov eax, 0x1ff', '  wrmsr'].join('\n');
/** MSR_KVM_PV_EOI_EN = the GPA of `pv_word` | KVM_MSR_ENABLED (or 0: off, the same exit). */
const pvMsr = (on: boolean) => ['  mov ecx, 0x4b564d04', `  mov eax, ${on ? 'pv_word + 1' : '0'}`, '  xor edx, edx', '  wrmsr'].join('\n');
const PV_ON = pvMsr(true);
/** The x2APIC timer, periodic, vector 0x40, one tick per 200 µs. */
const TIMER = ['  mov ecx, 0x83e', '  mov eax, 0xb', '  wrmsr', '  mov ecx, 0x832', '  mov eax, 0x20040', '  wrmsr', '  mov ecx, 0x838', `  mov eax, ${PERIOD}`, '  wrmsr'].join('\n');
const EOI_MSR = ['  mov ecx, 0x80b', '  xor eax, eax', '  xor edx, edx', '  wrmsr'].join('\n');
/** Linux's kvm_guest_apic_eoi_write(): clear the flag; only if KVM had not set it, the EOI MSR. */
const pvAck = (label: string) => ['  btr dword [pv_word], 0', `  jc ${label}`, EOI_MSR, `${label}:`].join('\n');
const PV_WORD = 'align 4\npv_word:\n  dd 0';
/** Halts until r12 ticks were handled, then exits to userspace through port 0x80. */
const idleUntil = (ticks: number) => `  sti\n.idle:\n  hlt\n  cmp r12, ${ticks}\n  jb .idle\n  cli\n  out 0x80, al`;

function notes(frames: readonly Frame[] | undefined, fn: string): string[] {
  return framesNamed(frames, fn).map((f) => f.note ?? '');
}

describe('MSR_KVM_PV_EOI_EN', () => {
  test('enable, misaligned (#GP), outside RAM (#GP, value kept), disable (stored as written), read back', async () => {
    const body = [
      '  mov ecx, 0x4b564d04', '  xor edx, edx',
      '  mov eax, pv_word + 1', '  wrmsr', '  rdmsr', '  mov r8, rax',
      '  mov eax, pv_word + 3', '  wrmsr', '  rdmsr', '  mov r9, rax',
      '  mov eax, 0x10000001', '  wrmsr', '  rdmsr', '  mov r10, rax',
      '  mov eax, 0x10000000', '  wrmsr', '  rdmsr', '  mov r11, rax',
      '  out 0x80, al', PV_WORD,
    ].join('\n');
    // #GP: skip the 2-byte WRMSR, count it in R13.
    const asm = withIdt(body, { 13: '  add rsp, 8\n  add qword [rsp], 2\n  inc r13\n  iretq' });
    const { steps, sim } = await runDoc({ kernel: 'v5.19', guest: { asm }, program: [create, run()] });
    const r = sim.inspectVcpus()[0].regs;
    const gpa = r.r8 - 1n;
    expect(r.r8 & 3n).toBe(1n);
    expect(r.r13).toBe(2n);
    expect([r.r9, r.r10, r.r11]).toEqual([r.r8, r.r8, 0x10000000n]);
    expect(framesNamed(steps[1].frames, 'kvm_lapic_set_pv_eoi').map((f) => f.ret)).toEqual([0, 1, -14, 0]);
    expect(notes(steps[1].frames, 'kvm_lapic_set_pv_eoi')[2]).toContain('has no memslot');
    const pv = sim.inspectVcpus()[0].apic!.pvEoi;
    expect(pv).toMatchObject({ msr: '0x10000000', enabled: false, gpa: null, summary: 'PV EOI off' });
    expect(gpa).toBeGreaterThan(0n);
  });

  test('KVM_CAP_ENFORCE_PV_FEATURE_CPUID: offered, and PV_EOI in the guest CPUID still lets the MSR through', async () => {
    const asm = ['  mov ecx, 0x4b564d04', '  xor edx, edx', '  mov eax, pv_word + 1', '  wrmsr', '  out 0x80, al', PV_WORD].join('\n');
    const { steps, sim } = await runDoc({
      kernel: 'v5.19', guest: { asm },
      program: [
        { op: 'check_extension', cap: 'KVM_CAP_ENFORCE_PV_FEATURE_CPUID', expect: { ret: 1 } }, create,
        { op: 'enable_cap', fd: 'vcpu0', cap: 'KVM_CAP_ENFORCE_PV_FEATURE_CPUID', args: 1, expect: { ret: 0 } }, run(),
      ],
    });
    expect(steps.map((s) => s.expect ?? 'none')).toEqual(['met', 'none', 'met', 'none']);
    expect(steps[3].run?.io?.port).toBe(0x80);
    expect(sim.inspectVcpus()[0].apic!.pvEoi.enabled).toBe(true);
  });
});

describe('acknowledging through the flag', () => {
  test('the tick acknowledged by clearing the flag makes no EOI exit; KVM does the EOI at the next exit', async () => {
    const asm = withIdt(`${X2APIC}\n${PV_ON}\n${TIMER}\n${idleUntil(5)}\n${PV_WORD}`, { 0x40: `  inc r12\n${pvAck('.acked')}\n  iretq` });
    const { steps, sim } = await runDoc({ kernel: 'rfc-v4', guest: { asm }, program: [create, run()] });
    const frames = steps[1].frames;
    // Five ticks, each flagged at its injection, each acknowledged by the guest: every EOI is KVM's.
    expect(notes(frames, 'apic_sync_pv_eoi_to_guest').filter((n) => n.includes('PV EOI flag set'))).toHaveLength(5);
    expect(notes(frames, 'apic_sync_pv_eoi_from_guest')).toEqual(Array(5).fill('guest cleared the flag: EOI done here for vector 0x40'));
    // The EOI comes with the exit that follows the handler (HLT; the last, the port 0x80 exit), before that exit is handled.
    const eoiExits = framesNamed(frames, 'vcpu_enter_guest').filter((f) => framesNamed(f.calls, 'apic_sync_pv_eoi_from_guest').length);
    for (const f of eoiExits) {
      const order = f.calls.map((c) => c.fn);
      expect(order.indexOf('kvm_lapic_sync_from_vapic')).toBeLessThan(order.indexOf('vmx_handle_exit'));
    }
    expect(eoiExits.map((f) => (framesNamed(f.calls, 'kvm_emulate_halt').length ? 'HLT' : 'IO'))).toEqual(['HLT', 'HLT', 'HLT', 'HLT', 'IO']);
    // No WRMSR to the EOI register: the only x2APIC writes are the setup's.
    expect(framesNamed(frames, 'kvm_lapic_reg_write').map((f) => f.args?.reg)).not.toContain('APIC_EOI');
    const v = sim.inspectVcpus()[0];
    expect(v.stats.halt_exits).toBe(5);
    expect(v.apic).toMatchObject({ isr: [], irr: [], highestIsrCache: -1 });
    expect(v.apic!.pvEoi).toMatchObject({ enabled: true, pending: false, flag: 0 });
    expect(v.apic!.pvEoi.summary).toMatch(/^PV EOI on at GPA 0x[0-9a-f]+$/);
  });

  test('a guest that writes the EOI MSR anyway gets one EOI, not two', async () => {
    // Vector 0x30 stays in service under the ticks: a second EOI per tick would take it away.
    const body = [X2APIC, PV_ON, '  mov ecx, 0x83f', '  mov eax, 0x30', '  wrmsr', '  sti', '.wait:', '  hlt', '  jmp .wait', PV_WORD].join('\n');
    const asm = withIdt(body, {
      0x30: `${TIMER}\n  sti\n.l:\n  hlt\n  cmp r12, 3\n  jb .l\n  cli\n  out 0x80, al`,
      0x40: `  inc r12\n  push rax\n  push rcx\n  push rdx\n${EOI_MSR}\n  pop rdx\n  pop rcx\n  pop rax\n  iretq`,
    });
    const { steps, sim } = await runDoc({ kernel: 'rfc-v4', guest: { asm }, program: [create, run()] });
    const frames = steps[1].frames;
    // Each tick was offered PV EOI (0x30 is below it but not in the IRR, and the cache names 0x40)...
    expect(notes(frames, 'apic_sync_pv_eoi_to_guest').filter((n) => n.includes('highest_isr_cache = 0x40'))).toHaveLength(3);
    // ...the EOI WRMSR's exit found the flag still set and only cleared it; the WRMSR did the one EOI.
    expect(notes(frames, 'apic_sync_pv_eoi_from_guest').every((n) => n.startsWith('the flag is still set'))).toBe(true);
    expect(framesNamed(frames, 'kvm_lapic_reg_write').filter((f) => f.args?.reg === 'APIC_EOI').map((f) => f.note)).toEqual(Array(3).fill('vector 64 leaves the ISR'));
    expect(sim.inspectVcpus()[0].apic).toMatchObject({ isr: [0x30], irr: [] });
  });

  test('a second interrupt pending in the IRR at entry: no PV EOI for that entry, the guest EOIs by MSR', async () => {
    // The tick's handler sends itself vector 0x30 (below the tick: it waits in the IRR), then acknowledges.
    const body = [X2APIC, PV_ON, TIMER, idleUntil(1), PV_WORD].join('\n');
    const asm = withIdt(body, {
      0x40: `  inc r12\n  mov ecx, 0x83f\n  mov eax, 0x30\n  xor edx, edx\n  wrmsr\n${pvAck('.a40')}\n  iretq`,
      0x30: `  inc r14\n${pvAck('.a30')}\n  iretq`,
    });
    const { steps, sim } = await runDoc({ kernel: 'rfc-v4', guest: { asm }, program: [create, run()] });
    const to = notes(steps[1].frames, 'apic_sync_pv_eoi_to_guest');
    expect(to).toEqual([
      expect.stringContaining('highest_isr_cache = 0x40'), // the tick's injection
      'IRR pending (vector 0x30): the guest must EOI by MSR', // re-entry after the self-IPI's WRMSR
      'IRR pending (vector 0x30): the guest must EOI by MSR', // after the EOI WRMSR: IF=0 still, 0x30 waits for the window
      expect.stringContaining('highest_isr_cache = 0x30'), // 0x30 injected at the interrupt window
    ]);
    // The self-IPI's exit cleared the unused flag; the tick's BTR then found it clear and wrote the MSR.
    expect(framesNamed(steps[1].frames, 'kvm_lapic_reg_write').filter((f) => f.args?.reg === 'APIC_EOI').map((f) => f.note)).toEqual(['vector 64 leaves the ISR']);
    expect(notes(steps[1].frames, 'apic_sync_pv_eoi_from_guest')).toContain('guest cleared the flag: EOI done here for vector 0x30');
    const v = sim.inspectVcpus()[0];
    expect([v.regs.r12, v.regs.r14]).toEqual([1n, 1n]);
    expect(v.apic).toMatchObject({ isr: [], irr: [] });
  });

  test('the IOAPIC needs the vector\'s EOI (a level-triggered pin has it): no flag, until the pin is edge-triggered again', async () => {
    const pin1 = (low: number) => ['  mov rbx, 0xfec00000', '  mov dword [rbx], 0x12', `  mov dword [rbx+0x10], 0x${low.toString(16)}`].join('\n');
    const body = [
      X2APIC, PV_ON, pin1(0x18040), TIMER, '  sti',
      '.first:', '  hlt', '  cmp r12, 1', '  jb .first',
      pin1(0x10040), // edge-triggered, still masked: a new scan
      '.second:', '  hlt', '  cmp r12, 2', '  jb .second', '  cli', '  out 0x80, al', PV_WORD,
    ].join('\n');
    const asm = withIdt(body, { 0x40: `  inc r12\n  push rax\n  push rcx\n  push rdx\n${pvAck('.a')}\n  pop rdx\n  pop rcx\n  pop rax\n  iretq` });
    const { steps, sim } = await runDoc({ kernel: 'v5.19', guest: { asm }, program: [create, run()] });
    expect(notes(steps[1].frames, 'apic_sync_pv_eoi_to_guest')).toEqual([
      "the IOAPIC needs vector 0x40's EOI: the guest must EOI by MSR",
      // apic_set_eoi's KVM_REQ_EVENT: the entry after the EOI WRMSR looks again, with nothing in service.
      'highest_isr_cache is -1 (no injection since the last EOI): no PV EOI for this entry',
      expect.stringContaining('PV EOI flag set'),
    ]);
    expect(framesNamed(steps[1].frames, 'kvm_lapic_reg_write').filter((f) => f.args?.reg === 'APIC_EOI')).toHaveLength(1);
    expect(sim.inspectVcpus()[0].apic).toMatchObject({ isr: [], irr: [] });
  });

  test('nested: after the inner vector\'s EOI highest_isr_cache is -1, so the outer one gets no PV EOI', async () => {
    // 0x30 is in service when the tick nests on it; the tick is acknowledged through the flag.
    const body = [X2APIC, PV_ON, '  mov ecx, 0x83f', '  mov eax, 0x30', '  wrmsr', '  sti', '.wait:', '  hlt', '  jmp .wait', PV_WORD].join('\n');
    const asm = withIdt(body, {
      0x30: `${TIMER}\n  sti\n.l:\n  hlt\n  cmp r12, 1\n  jb .l\n  cli\n  out 0x80, al\n  inc r14\n${pvAck('.a30')}\n  out 0x81, al`,
      0x40: `  inc r12\n${pvAck('.a40')}\n  mov ecx, 0x838\n  xor eax, eax\n  xor edx, edx\n  wrmsr\n  iretq`,
    });
    const sim = await simulator({ kernel: 'rfc-v4', guest: { asm }, program: [create, run(), { op: 'set_regs', fd: 'vcpu0', regs: { r15: 1 } }, run()] });
    sim.step();
    const first = sim.step();
    expect(first.run?.io?.port).toBe(0x80);
    expect(notes(first.frames, 'apic_sync_pv_eoi_from_guest')).toContain('guest cleared the flag: EOI done here for vector 0x40');
    expect(sim.inspectVcpus()[0].apic).toMatchObject({ isr: [0x30], highestIsrCache: -1 });
    sim.step(); // KVM_SET_REGS: KVM_REQ_EVENT, so the next entry runs kvm_lapic_sync_to_vapic
    const second = sim.step();
    expect(second.run?.io?.port).toBe(0x81);
    // The entry after KVM_SET_REGS, and the one after 0x30's EOI WRMSR (apic_set_eoi makes KVM_REQ_EVENT).
    expect(notes(second.frames, 'apic_sync_pv_eoi_to_guest')).toEqual(Array(2).fill('highest_isr_cache is -1 (no injection since the last EOI): no PV EOI for this entry'));
    expect(framesNamed(second.frames, 'kvm_lapic_reg_write').map((f) => f.note)).toEqual(['vector 48 leaves the ISR']);
    expect(sim.inspectVcpus()[0].apic).toMatchObject({ isr: [], irr: [] });
  });
});

test('snapshot and restore keep the MSR, the flag in guest memory and highest_isr_cache', async () => {
  // Handled ticks in R12; the guest stops at port 0x80 after two, turns PV EOI off, and stops again.
  const body = [X2APIC, PV_ON, TIMER, idleUntil(2), '  mov ecx, 0x4b564d04', '  xor eax, eax', '  xor edx, edx', '  wrmsr', '  out 0x81, al', PV_WORD].join('\n');
  const asm = withIdt(body, { 0x40: `  inc r12\n${pvAck('.a')}\n  iretq` });
  const sim = await simulator({ kernel: 'rfc-v4', guest: { asm }, program: [create, run(), run()] });
  sim.step();
  sim.step();
  const snap = sim.snapshot()!;
  const before = sim.inspectVcpus()[0].apic!;
  expect(before.pvEoi.enabled).toBe(true);
  sim.step();
  expect(sim.inspectVcpus()[0].apic!.pvEoi.enabled).toBe(false);
  sim.restore(snap);
  expect(sim.inspectVcpus()[0].apic).toEqual(before);
  const again = sim.step();
  expect(again.run?.io?.port).toBe(0x81);
  expect(sim.inspectVcpus()[0].apic!.pvEoi).toMatchObject({ enabled: false, msr: '0x0' });
});

test('property: any interleaving of ticks and guest choices ends as a guest that always EOIs by MSR', async () => {
  // Per tick the guest picks: 0 PV EOI, 1 the EOI MSR, 2 an exit (CPUID) before PV EOI (the exit takes
  // the flag back: BTR finds it clear and the MSR is written), 3 a self-IPI of 0x30 first (in the IRR:
  // no flag at the next entry), 4 a spin past the next tick (it waits in the IRR). The last tick stops
  // the timer. The same choices with every acknowledgement by MSR must leave the same LAPIC behind.
  const TICKS = 6;
  const tick = (ack: string) => [
    '  push rax', '  push rcx', '  push rdx', '  push rbx',
    '  movzx ebx, byte [choices + r12]', '  inc r12',
    `  cmp r12, ${TICKS}`, '  jb .go', '  mov ecx, 0x838', '  xor eax, eax', '  xor edx, edx', '  wrmsr',
    '.go:', '  cmp ebx, 1', '  je .msr', '  cmp ebx, 2', '  je .exit', '  cmp ebx, 3', '  je .ipi', '  cmp ebx, 4', '  je .late', '  jmp .ack',
    '.exit:', '  xor eax, eax', '  cpuid', '  jmp .ack',
    '.ipi:', '  mov ecx, 0x83f', '  mov eax, 0x30', '  xor edx, edx', '  wrmsr', '  jmp .ack',
    '.late:', '  mov ecx, 0x60000', '.spin:', '  dec ecx', '  jnz .spin', '  jmp .ack',
    '.msr:', EOI_MSR, '  jmp .done',
    '.ack:', ack, '.done:',
    '  pop rbx', '  pop rdx', '  pop rcx', '  pop rax', '  iretq',
  ].join('\n');
  const vec30 = (ack: string) => ['  inc r14', '  push rax', '  push rcx', '  push rdx', ack, '  pop rdx', '  pop rcx', '  pop rax', '  iretq'].join('\n');
  const guest = (choices: number[], pv: boolean) => withIdt(
    [X2APIC, pvMsr(pv), TIMER, idleUntil(TICKS), PV_WORD, 'choices:', `  db ${[...choices, 0, 0].join(', ')}`].join('\n'),
    { 0x40: tick(pv ? pvAck('.pv') : EOI_MSR), 0x30: vec30(pv ? pvAck('.pv') : EOI_MSR) },
  );
  const outcome = async (choices: number[], pv: boolean) => {
    const { sim, steps } = await runDoc({ kernel: 'rfc-v4', guest: { asm: guest(choices, pv) }, program: [create, run(10 * TICKS * PERIOD)] });
    const v = sim.inspectVcpus()[0];
    return { port: steps[1].run?.io?.port, ticks: v.regs.r12, ipis: v.regs.r14, isr: v.apic!.isr, irr: v.apic!.irr, exits: v.stats.exits };
  };
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: TICKS, maxLength: TICKS }), async (choices) => {
      const { exits: pvExits, ...withPv } = await outcome(choices, true);
      const { exits: msrExits, ...byMsr } = await outcome(choices, false);
      expect(withPv).toEqual(byMsr);
      expect(withPv).toMatchObject({ port: 0x80, ipis: BigInt(choices.filter((c) => c === 3).length), isr: [], irr: [] });
      expect(withPv.ticks).toBeGreaterThanOrEqual(BigInt(TICKS));
      // PV EOI can save an exit per tick, never add one; a tick acknowledged at once through the flag saves one.
      expect(pvExits).toBeLessThanOrEqual(msrExits);
      if (choices.includes(0)) expect(pvExits).toBeLessThan(msrExits);
    }),
    { numRuns: 12, seed: 0x5eed },
  );
});
