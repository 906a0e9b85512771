import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../model/trace/events';
import { alignByName, diffFrames, endsRun, returnPath } from './diff';
import { f, forestArb, frameArb, preorder } from './frames.arbitrary';

/** One HLT exit's KVM_RUN as recorded without and with EXIT_USERSPACE (shape of spec §3.1/§3.2, H1 vs H4). */
function hltRun(exitUserspace: boolean): Frame[] {
  const skip = f('kvm_skip_emulated_instruction', exitUserspace ? 0 : 1);
  const halt = f('kvm_emulate_halt', exitUserspace ? 0 : 1, skip, f('kvm_emulate_halt_noskip', 1, f('__kvm_emulate_halt', 1)));
  const handled = f('vcpu_enter_guest', exitUserspace ? 0 : 1, f('vmx_handle_exit', exitUserspace ? 0 : 1, f('__vmx_handle_exit', exitUserspace ? 0 : 1, halt)));
  const loop = exitUserspace ? [handled] : [handled, f('vcpu_block', 1, f('kvm_vcpu_halt', 0)), f('vcpu_enter_guest', -4)];
  return [f('kvm_arch_vcpu_ioctl_run', exitUserspace ? 0 : -4, f('vcpu_run', exitUserspace ? 0 : -4, ...loop))];
}

const sig = (x: Frame | null) => (x ? `${x.fn}→${x.ret}` : '');

describe('diffFrames', () => {
  it('lines up one HLT exit with and without EXIT_USERSPACE, marking the return values that differ', () => {
    const rows = diffFrames(hltRun(false), hltRun(true)).map((r) => [r.depth, r.kind, sig(r.left), sig(r.right)]);
    expect(rows).toEqual([
      [0, 'changed', 'kvm_arch_vcpu_ioctl_run→-4', 'kvm_arch_vcpu_ioctl_run→0'],
      [1, 'changed', 'vcpu_run→-4', 'vcpu_run→0'],
      [2, 'changed', 'vcpu_enter_guest→1', 'vcpu_enter_guest→0'],
      [3, 'changed', 'vmx_handle_exit→1', 'vmx_handle_exit→0'],
      [4, 'changed', '__vmx_handle_exit→1', '__vmx_handle_exit→0'],
      [5, 'changed', 'kvm_emulate_halt→1', 'kvm_emulate_halt→0'],
      [6, 'changed', 'kvm_skip_emulated_instruction→1', 'kvm_skip_emulated_instruction→0'],
      [6, 'same', 'kvm_emulate_halt_noskip→1', 'kvm_emulate_halt_noskip→1'],
      [7, 'same', '__kvm_emulate_halt→1', '__kvm_emulate_halt→1'],
      [2, 'left', 'vcpu_block→1', ''],
      [3, 'left', 'kvm_vcpu_halt→0', ''],
      [2, 'left', 'vcpu_enter_guest→-4', ''],
    ]);
  });

  it('keeps every frame of each side, in call order, at its depth', () => {
    fc.assert(
      fc.property(forestArb, forestArb, (a, b) => {
        const rows = diffFrames(a, b);
        expect(rows.filter((r) => r.left).map((r) => [r.left, r.depth])).toEqual(preorder(a));
        expect(rows.filter((r) => r.right).map((r) => [r.right, r.depth])).toEqual(preorder(b));
        for (const r of rows) {
          if (r.left && r.right) {
            expect(r.left.fn).toBe(r.right.fn);
            expect(r.kind).toBe(String(r.left.ret) === String(r.right.ret) ? 'same' : 'changed');
          } else expect(r.kind).toBe(r.left ? 'left' : 'right');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('finds nothing to mark between a recording and itself', () => {
    fc.assert(
      fc.property(forestArb, (a) => {
        const rows = diffFrames(a, structuredClone(a));
        expect(rows.every((r) => r.kind === 'same')).toBe(true);
        expect(rows).toHaveLength(preorder(a).length);
      }),
    );
  });
});

describe('alignByName', () => {
  /** Length of the longest common subsequence of two name lists, the textbook way. */
  function lcs(a: string[], b: string[]): number {
    const d = a.map(() => b.map(() => 0));
    const at = (i: number, j: number) => (i < 0 || j < 0 ? 0 : d[i][j]);
    a.forEach((x, i) => b.forEach((y, j) => (d[i][j] = x === y ? at(i - 1, j - 1) + 1 : Math.max(at(i - 1, j), at(i, j - 1)))));
    return at(a.length - 1, b.length - 1);
  }
  const level = fc.array(frameArb.map((x) => ({ ...x, calls: [] })), { maxLength: 12 });

  it('matches as many siblings as a longest common subsequence, in order, each once', () => {
    fc.assert(
      fc.property(level, level, (a, b) => {
        const pairs = alignByName(a, b);
        const matched = pairs.filter(([i, j]) => i >= 0 && j >= 0);
        expect(matched).toHaveLength(lcs(a.map((x) => x.fn), b.map((x) => x.fn)));
        for (const [i, j] of matched) expect(a[i].fn).toBe(b[j].fn);
        expect(pairs.map(([i]) => i).filter((i) => i >= 0)).toEqual(a.map((_, i) => i));
        expect(pairs.map(([, j]) => j).filter((j) => j >= 0)).toEqual(b.map((_, j) => j));
      }),
      { numRuns: 300 },
    );
  });

  it('pairs by position when the middle is too large to compare, still keeping both sides whole', () => {
    fc.assert(
      fc.property(level, level, (a, b) => {
        const pairs = alignByName(a, b, 0);
        for (const [i, j] of pairs) if (i >= 0 && j >= 0) expect(a[i].fn).toBe(b[j].fn);
        expect(pairs.map(([i]) => i).filter((i) => i >= 0)).toEqual(a.map((_, i) => i));
        expect(pairs.map(([, j]) => j).filter((j) => j >= 0)).toEqual(b.map((_, j) => j));
      }),
    );
  });
});

describe('returnPath', () => {
  it('follows the 0 from KVM_RUN down to the instruction skip that EXIT_USERSPACE zeroed', () => {
    expect(returnPath(hltRun(true)).map((x) => x.fn)).toEqual([
      'kvm_arch_vcpu_ioctl_run', 'vcpu_run', 'vcpu_enter_guest', 'vmx_handle_exit', '__vmx_handle_exit', 'kvm_emulate_halt',
      'kvm_skip_emulated_instruction',
    ]);
  });

  it('follows an errno to where it came from, and is empty when the run did not end', () => {
    expect(returnPath(hltRun(false)).map((x) => x.fn)).toEqual(['kvm_arch_vcpu_ioctl_run', 'vcpu_run', 'vcpu_enter_guest']);
    expect(returnPath([f('kvm_arch_vcpu_ioctl_run', 1)])).toEqual([]);
    expect(returnPath([f('kvm_arch_vcpu_ioctl_run', undefined)])).toEqual([]);
    expect(returnPath([])).toEqual([]);
  });

  it('reads errno names and numbers alike', () => {
    expect([0, -4, 1, '-EINTR', '-22', 'EXIT_FASTPATH_EXIT_USERSPACE', undefined].map(endsRun)).toEqual([true, true, false, true, true, false, false]);
  });
});
