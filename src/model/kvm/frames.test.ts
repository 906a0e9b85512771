// The marks the recorder puts on frames so that views need not guess from names: which frame handled
// which VM exit (numbered as the kvm_exit events number them), and where a KVM_RUN's return value came from.
import { describe, expect, test } from 'vitest';
import type { Frame, TraceEvent } from '../trace/events';
import { framesNamed, runDoc } from './test-scenario';

const create = { op: 'create_vcpu', id: 0 };
const run = { op: 'run', fd: 'vcpu0' };

function all(frames: readonly Frame[] | undefined, pick: (f: Frame) => boolean): Frame[] {
  const out: Frame[] = [];
  const walk = (fs: readonly Frame[]) => fs.forEach((f) => { if (pick(f)) out.push(f); walk(f.calls); });
  walk(frames ?? []);
  return out;
}
const exitsOf = (events: readonly TraceEvent[]) =>
  events.filter((e): e is Extract<TraceEvent, { kind: 'kvm_exit' }> => e.kind === 'kvm_exit').map((e) => ({ exit: e.exit, reason: e.reason }));

describe('frame marks', () => {
  test('every exit of a KVM_RUN has one handler frame, with the number of its kvm_exit event', async () => {
    const { steps, sim } = await runDoc({ kernel: 'rfc-v4', guest: { asm: 'xor eax, eax\ncpuid\nout 0x21, al\nout 0x80, al' }, program: [create, run] });
    const frames = steps[1].frames;
    expect(exitsOf(sim.events)).toEqual([{ exit: 0, reason: 10 }, { exit: 1, reason: 30 }, { exit: 2, reason: 30 }]);
    expect(all(frames, (f) => f.handles_exit !== undefined).map((f) => [f.fn, f.handles_exit])).toEqual([
      ['kvm_emulate_cpuid', 0], ['handle_io', 1], ['handle_io', 2],
    ]);
    expect(framesNamed(frames, 'vmx_vcpu_run').map((f) => f.exit)).toEqual([0, 1, 2]);
    // The last exit went to userspace: kvm_fast_pio decided the 0.
    expect(all(frames, (f) => !!f.ends_run).map((f) => f.fn)).toEqual(['kvm_fast_pio']);
  });

  test.each([
    ['H4 (EXIT_USERSPACE): the skip', { irqchip: 'kernel' }, true, 'kvm_skip_emulated_instruction'],
    ['H3 (userspace irqchip): __kvm_emulate_halt', { irqchip: 'userspace' }, false, '__kvm_emulate_halt'],
  ])('%s returned the 0 that ended KVM_RUN', async (_, vm, flag, origin) => {
    const debug = { op: 'set_guest_debug', fd: 'vcpu0', control: ['ENABLE', 'EXIT_USERSPACE'] };
    const { steps } = await runDoc({ kernel: 'rfc-v4', vm, guest: { asm: 'hlt' }, program: [create, ...(flag ? [debug] : []), run] });
    const frames = steps.at(-1)!.frames;
    expect(all(frames, (f) => !!f.ends_run).map((f) => [f.fn, f.ret])).toEqual([[origin, 0]]);
    expect(framesNamed(frames, 'kvm_emulate_halt')[0].handles_exit).toBe(0);
  });

  test('a signal: vcpu_run itself ended the KVM_RUN (-EINTR)', async () => {
    const { sim } = await runDoc({ kernel: 'rfc-v4', guest: { asm: 'hlt' }, program: [create, { ...run, timeout_ns: 1e5 }] });
    sim.kick('vcpu0');
    const r = sim.ioctl({ op: 'run', fd: 'vcpu0', timeout_ns: 1e5 });
    expect(r.errno).toBe('EINTR');
    expect(all(r.frames, (f) => !!f.ends_run).map((f) => f.fn)).toEqual(['vcpu_run']);
  });

  test('a KVM_RUN ended by the completion callback (I6): complete_fast_pio_out\'s skip', async () => {
    const debug = { op: 'set_guest_debug', fd: 'vcpu0', control: ['ENABLE', 'EXIT_USERSPACE'] };
    const { steps } = await runDoc({ kernel: 'rfc-v4', guest: { asm: 'out 0x80, al\nhlt' }, program: [create, debug, run, run] });
    const frames = steps[3].frames;
    expect(all(frames, (f) => !!f.ends_run).map((f) => f.fn)).toEqual(['kvm_skip_emulated_instruction']);
    expect(framesNamed(frames, 'complete_fast_pio_out')[0].calls.map((f) => f.ends_run)).toEqual([true]);
  });
});
