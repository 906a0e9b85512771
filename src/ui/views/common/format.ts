// How the views write numbers: virtual time, addresses, return values.

/** Virtual nanoseconds in the unit that reads best: "950 ns", "12.5 µs", "3.20 ms", "1.25 s". */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '—';
  const a = Math.abs(ns);
  const [v, unit] = a < 1e3 ? [ns, 'ns'] : a < 1e6 ? [ns / 1e3, 'µs'] : a < 1e9 ? [ns / 1e6, 'ms'] : [ns / 1e9, 's'];
  if (unit === 'ns') return `${Math.round(v)} ns`;
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${unit}`;
}

export const hex = (v: bigint | number): string => '0x' + v.toString(16);

/** A frame's return value as the kernel would print it: numbers in decimal, names as they are. */
export function formatRet(ret: number | string | undefined): string {
  return ret === undefined ? '?' : String(ret);
}

/** "1,234" (toLocaleString's en-US grouping, written out: this runs for every exit a list shows). */
export const count = (n: number): string =>
  Number.isSafeInteger(n) ? String(n).replace(/\B(?=(\d{3})+$)/g, ',') : n.toLocaleString('en-US');

/** "1 exit", "2 exits" */
export const plural = (n: number, word: string): string => `${count(n)} ${word}${n === 1 ? '' : 's'}`;
