import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { f, forestArb, preorder } from './frames.arbitrary';
import { ancestorKeys, flattenTree, formatArgs, frameLabel, linkHost, recordingId } from './tree';

/** Every frame's key, as flattenTree gives them with nothing collapsed. */
const frameKeys = (roots: Parameters<typeof flattenTree>[0]) => new Map(flattenTree(roots, new Set()).map((r) => [r.frame, r.key]));

describe('flattenTree', () => {
  it('lists frames in call order with their level, parent and place among siblings', () => {
    const a = f('a', 0);
    const b = f('b', 1);
    const run = f('vcpu_run', 0, a, b);
    const rows = flattenTree([run], new Set()).map((r) => [r.frame.fn, r.key, r.depth, r.parent, r.pos, r.size]);
    expect(rows).toEqual([['vcpu_run', '0', 0, -1, 1, 1], ['a', '0.0', 1, 0, 1, 2], ['b', '0.1', 1, 0, 2, 2]]);
    expect(flattenTree([run], new Set(['0'])).map((r) => r.frame.fn)).toEqual(['vcpu_run']);
  });

  it('is the pre-order walk less the callees of collapsed frames', () => {
    fc.assert(
      fc.property(forestArb, fc.array(fc.nat(), { maxLength: 4 }), (roots, picks) => {
        const all = preorder(roots);
        const keys = frameKeys(roots);
        const collapsed = new Set(picks.filter(() => all.length).map((p) => keys.get(all[p % all.length][0])!));
        const hidden = (fr: (typeof all)[number][0]) => ancestorKeys(keys.get(fr)!).some((k) => collapsed.has(k));
        const rows = flattenTree(roots, collapsed);
        expect(rows.map((r) => [r.frame, r.depth])).toEqual(all.filter(([fr]) => !hidden(fr)));
        rows.forEach((r) => {
          const siblings = r.parent < 0 ? roots : rows[r.parent].frame.calls;
          expect(siblings[r.pos - 1]).toBe(r.frame);
          expect(r.size).toBe(siblings.length);
          expect(r.key).toBe(keys.get(r.frame));
        });
      }),
    );
  });

  it('keys frames by their place, the same in a copy of the recording', () => {
    fc.assert(
      fc.property(forestArb, (roots) => {
        const copy = structuredClone(roots);
        expect([...frameKeys(copy).values()]).toEqual([...frameKeys(roots).values()]);
        expect(recordingId(copy)).toBe(recordingId(roots));
      }),
    );
    expect(ancestorKeys('0.2.1')).toEqual(['0', '0.2']);
    expect(ancestorKeys('3')).toEqual([]);
    expect(recordingId([])).toBe('');
  });
});

describe('labels', () => {
  it('reads function → return value once returned', () => {
    const fr = f('kvm_skip_emulated_instruction', 0);
    expect(['pending', 'running', 'returned'].map((p) => frameLabel(fr, p as 'pending'))).toEqual([
      'kvm_skip_emulated_instruction (not called yet)', 'kvm_skip_emulated_instruction (running)', 'kvm_skip_emulated_instruction → 0',
    ]);
    expect(frameLabel(f('vcpu_block', undefined), 'returned')).toBe('vcpu_block (running)');
    expect(frameLabel(f('kvm_vcpu_ioctl', '-EINTR'), 'returned')).toBe('kvm_vcpu_ioctl → -EINTR');
  });

  it('writes arguments and link hosts briefly', () => {
    expect(formatArgs({ vcpu: 1, reason: 'HLT', fast: false })).toBe('vcpu=1 reason=HLT fast=false');
    expect(formatArgs(undefined)).toBe('');
    expect(linkHost('https://elixir.bootlin.com/linux/v5.19/C/ident/vcpu_run')).toBe('elixir.bootlin.com');
    expect(linkHost('not a url')).toBe('not a url');
  });
});
