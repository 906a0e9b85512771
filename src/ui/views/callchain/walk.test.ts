import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { f, forestArb, preorder } from './frames.arbitrary';
import { linearise, phaseAt, stepIndex } from './walk';

describe('linearise', () => {
  it('walks calls and returns in the order they happened', () => {
    const skip = f('kvm_skip_emulated_instruction', 0);
    const noskip = f('kvm_emulate_halt_noskip', 1);
    const halt = f('kvm_emulate_halt', 0, skip, noskip);
    const steps = linearise([halt]).map((s) => `${s.kind} ${s.frame.fn} ${s.depth}`);
    expect(steps).toEqual([
      'call kvm_emulate_halt 0', 'call kvm_skip_emulated_instruction 1', 'return kvm_skip_emulated_instruction 1',
      'call kvm_emulate_halt_noskip 1', 'return kvm_emulate_halt_noskip 1', 'return kvm_emulate_halt 0',
    ]);
  });

  it('gives each frame one call and a later return, nested like a stack, calls in pre-order', () => {
    fc.assert(
      fc.property(forestArb, (roots) => {
        const steps = linearise(roots);
        const pre = preorder(roots);
        expect(steps).toHaveLength(2 * pre.length);
        expect(steps.filter((s) => s.kind === 'call').map((s) => [s.frame, s.depth])).toEqual(pre);
        const stack: unknown[] = [];
        for (const s of steps) {
          if (s.kind === 'call') {
            expect(s.depth).toBe(stack.length);
            if (stack.length) expect((stack.at(-1) as typeof s.frame).calls).toContain(s.frame);
            stack.push(s.frame);
          } else expect(stack.pop()).toBe(s.frame);
        }
        expect(stack).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('walks a very deep recording without overflowing the stack', () => {
    let deep = f('leaf', 0);
    for (let i = 0; i < 100_000; i++) deep = f('vcpu_run', 0, deep);
    expect(linearise([deep])).toHaveLength(200_002);
  });
});

describe('phaseAt', () => {
  it('tells pending, running and returned frames apart at each cursor', () => {
    const child = f('kvm_skip_emulated_instruction', 0);
    const root = f('kvm_emulate_halt', 0, child);
    const at = stepIndex(linearise([root]));
    const phases = [0, 1, 2, 3, 4].map((c) => [phaseAt(at.get(root), c), phaseAt(at.get(child), c)]);
    expect(phases).toEqual([
      ['pending', 'pending'], ['running', 'pending'], ['running', 'running'], ['running', 'returned'], ['returned', 'returned'],
    ]);
    expect(phaseAt(undefined, 4)).toBe('pending');
  });
});
