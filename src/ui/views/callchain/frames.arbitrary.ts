// Random frame trees for the call-chain tests: few function names, so that siblings repeat and
// two trees share much of their shape, as two recordings of one exit do.
import fc from 'fast-check';
import type { Frame } from '../../../model/trace/events';

export const FNS = ['vcpu_run', 'vcpu_enter_guest', 'vmx_handle_exit', 'kvm_emulate_halt', 'kvm_skip_emulated_instruction', 'vcpu_block'];

export const frameArb: fc.Arbitrary<Frame> = fc.letrec<{ frame: Frame }>((tie) => ({
  frame: fc.record({
    fn: fc.constantFrom(...FNS),
    ret: fc.constantFrom<Frame['ret']>(0, 1, -4, '-EINTR', undefined),
    t: fc.nat(1000),
    calls: fc.oneof({ maxDepth: 4, depthIdentifier: 'frames' }, fc.constant<Frame[]>([]), fc.array(tie('frame'), { maxLength: 3 })),
  }),
})).frame;

export const forestArb = fc.array(frameArb, { maxLength: 3 });

/** A frame built by hand: f('kvm_emulate_halt', 0, f('kvm_skip_emulated_instruction', 0)). */
export function f(fn: string, ret: Frame['ret'], ...calls: Frame[]): Frame {
  return { fn, ret, t: 0, calls };
}

/** Pre-order list of a forest with depths. */
export function preorder(roots: readonly Frame[], depth = 0): [Frame, number][] {
  return roots.flatMap((r) => [[r, depth] as [Frame, number], ...preorder(r.calls, depth + 1)]);
}
