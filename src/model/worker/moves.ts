// Moves arrive from links, which anyone can edit: each one is checked before it is replayed, and a
// bad one is named rather than half-applied.
import type { Move, StepUnit } from './protocol';

const UNITS: readonly StepUnit[] = ['instruction', 'exit', 'frame', 'op'];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The moves, or what is wrong with them (`move 3: unknown step unit "jump"`). */
export function checkMoves(raw: unknown): Move[] | string {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return 'the moves are not a list';
  const out: Move[] = [];
  for (const [i, m] of raw.entries()) {
    const bad = (why: string) => `move ${i + 1}: ${why}`;
    if (!isObject(m)) return bad('not an object');
    switch (m.kind) {
      case 'step':
        if (!UNITS.includes(m.unit as StepUnit)) return bad(`unknown step unit ${JSON.stringify(m.unit)}`);
        if (m.vcpu !== undefined && !(Number.isInteger(m.vcpu) && (m.vcpu as number) >= 0)) return bad('vcpu must be a vCPU id');
        out.push(m.vcpu === undefined ? { kind: 'step', unit: m.unit as StepUnit } : { kind: 'step', unit: m.unit as StepUnit, vcpu: m.vcpu as number });
        break;
      case 'run':
        if (m.budget !== undefined && !(Number.isSafeInteger(m.budget) && (m.budget as number) > 0)) return bad('a run budget must be a positive whole number');
        out.push(m.budget === undefined ? { kind: 'run' } : { kind: 'run', budget: m.budget as number });
        break;
      case 'to_exit':
        if (!(Number.isInteger(m.vcpu) && (m.vcpu as number) >= 0)) return bad('vcpu must be a vCPU id');
        if (!(Number.isSafeInteger(m.exit) && (m.exit as number) >= 0)) return bad('exit must be an exit number');
        out.push({ kind: 'to_exit', vcpu: m.vcpu as number, exit: m.exit as number });
        break;
      case 'ioctl':
        if (!isObject(m.op)) return bad('an ioctl move needs its operation');
        out.push({ kind: 'ioctl', op: m.op as Extract<Move, { kind: 'ioctl' }>['op'] });
        break;
      default:
        return bad(`unknown kind ${JSON.stringify(m.kind)}`);
    }
  }
  return out;
}
