import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkMoves } from './moves';
import type { Move } from './protocol';

const move: fc.Arbitrary<Move> = fc.oneof(
  fc.record({ kind: fc.constant('step' as const), unit: fc.constantFrom('instruction' as const, 'exit' as const, 'frame' as const, 'op' as const) }),
  fc.record({ kind: fc.constant('step' as const), unit: fc.constant('instruction' as const), vcpu: fc.nat(15) }),
  fc.record({ kind: fc.constant('run' as const) }),
  fc.record({ kind: fc.constant('run' as const), budget: fc.integer({ min: 1, max: 2 ** 40 }) }),
  fc.record({ kind: fc.constant('ioctl' as const), op: fc.record({ op: fc.constant('create_vcpu'), id: fc.nat(15) }) }),
  fc.record({ kind: fc.constant('to_exit' as const), vcpu: fc.nat(15), exit: fc.nat() }),
);

describe('checking moves from a link', () => {
  it('accepts every well-formed list as it is', () => {
    fc.assert(fc.property(fc.array(move), (moves) => {
      expect(checkMoves(JSON.parse(JSON.stringify(moves)))).toEqual(moves);
    }));
  });

  it('takes no moves as the start', () => {
    expect(checkMoves(undefined)).toEqual([]);
  });

  it.each([
    [{}, 'not a list'],
    [[{ kind: 'step', unit: 'jump' }], 'move 1: unknown step unit "jump"'],
    [[{ kind: 'run' }, { kind: 'run', budget: -3 }], 'move 2: a run budget must be a positive whole number'],
    [[{ kind: 'run', budget: 1.5 }], 'positive whole number'],
    [[{ kind: 'ioctl' }], 'needs its operation'],
    [[{ kind: 'teleport' }], 'unknown kind "teleport"'],
    [[null], 'move 1: not an object'],
    [[{ kind: 'step', unit: 'op', vcpu: -1 }], 'vcpu must be a vCPU id'],
    [[{ kind: 'to_exit', vcpu: 0, exit: -1 }], 'exit must be an exit number'],
    [[{ kind: 'to_exit', vcpu: 'a', exit: 1 }], 'vcpu must be a vCPU id'],
  ])('names what is wrong with %j', (raw, why) => {
    expect(checkMoves(raw)).toEqual(expect.stringContaining(why));
  });

  it('never throws, whatever it is given', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      const r = checkMoves(v);
      expect(typeof r === 'string' || Array.isArray(r)).toBe(true);
    }));
  });
});
