// `expect` in a scenario is a partial object matched against an operation's result: every key it
// names must be there with an equal value, recursively. Numbers match their hex-string forms
// ("0x10002" = 65538), and kernel names match with or without their prefix ("HALTED" =
// "KVM_MP_STATE_HALTED", "EXIT_UNKNOWN" = "KVM_EXIT_UNKNOWN").

export interface Mismatch {
  path: string;
  expected: unknown;
  actual: unknown;
}

const PREFIXES = ['KVM_MP_STATE_', 'KVM_EXIT_', 'KVM_'];

function asBigInt(v: unknown): bigint | null {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?(0x[0-9a-f]+|\d+)$/i.test(v.trim())) {
    const s = v.trim();
    return s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s);
  }
  return null;
}

function stripPrefix(s: string): string {
  for (const p of PREFIXES) if (s.startsWith(p)) return s.slice(p.length);
  return s;
}

function same(expected: unknown, actual: unknown): boolean {
  if (expected === actual) return true;
  const a = asBigInt(expected), b = asBigInt(actual);
  if (a !== null && b !== null) return a === b;
  if (typeof expected === 'string' && typeof actual === 'string') return stripPrefix(expected) === stripPrefix(actual);
  return false;
}

/** The places where `result` does not have what `expected` asks for (empty when it is met). */
export function matchExpect(expected: unknown, actual: unknown, path = ''): Mismatch[] {
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return [{ path, expected, actual }];
    if (Array.isArray(expected)) {
      if (!Array.isArray(actual) || actual.length !== expected.length) return [{ path, expected, actual }];
      return expected.flatMap((e, i) => matchExpect(e, actual[i], `${path}[${i}]`));
    }
    return Object.entries(expected as Record<string, unknown>).flatMap(([k, e]) =>
      matchExpect(e, (actual as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return same(expected, actual) ? [] : [{ path, expected, actual }];
}
