// What `expect` means (spec/scenario-format.md): a partial object matched against the op's result.
// Every field the expectation names must be in the result and match; fields it leaves out are not
// looked at. Arrays match element by element and must have the same length. Numbers match however
// they are written (12, "0xc"), and a kernel name may leave out its prefix ("HLT" for
// "KVM_EXIT_HLT", "HALTED" for "KVM_MP_STATE_HALTED").

/** One unmet field: `run.exit_reason: expected "KVM_EXIT_HLT", got "KVM_EXIT_IO"`. */
export interface Mismatch {
  path: string;
  expected: unknown;
  actual: unknown;
}

export function formatMismatch(m: Mismatch): string {
  const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x)));
  return `${m.path || 'result'}: expected ${show(m.expected)}, got ${show(m.actual)}`;
}

/** The fields of `actual` that do not match `expected` (none: the expectation is met). */
export function matchExpect(expected: unknown, actual: unknown, path = ''): Mismatch[] {
  if (expected !== null && typeof expected === 'object') {
    if (Array.isArray(expected)) {
      if (!Array.isArray(actual) || actual.length !== expected.length) return [{ path, expected, actual }];
      return expected.flatMap((e, i) => matchExpect(e, actual[i], `${path}[${i}]`));
    }
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [{ path, expected, actual }];
    return Object.entries(expected).flatMap(([k, e]) =>
      matchExpect(e, (actual as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return sameValue(expected, actual) ? [] : [{ path, expected, actual }];
}

function asNumber(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?0x[0-9a-f]+$/i.test(v)) return v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v);
  return undefined;
}

function sameValue(expected: unknown, actual: unknown): boolean {
  if (expected === actual) return true;
  const [e, a] = [asNumber(expected), asNumber(actual)];
  if (e !== undefined && a !== undefined) return e === a;
  return typeof expected === 'string' && KERNEL_PREFIXES.some((p) => actual === p + expected);
}

/** The prefixes a result's names carry and an expectation may leave out. */
const KERNEL_PREFIXES = ['KVM_EXIT_', 'KVM_MP_STATE_', 'KVM_INTERNAL_ERROR_'];
