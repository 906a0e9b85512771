// Number formatting shared by the panels.

/** Virtual time: "0 ns", "812 ns", "12.345 µs", "2.000 ms", "1.500 s". */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '—';
  const a = Math.abs(ns);
  if (a < 1e3) return `${Math.round(ns)} ns`;
  if (a < 1e6) return `${(ns / 1e3).toFixed(3)} µs`;
  if (a < 1e9) return `${(ns / 1e6).toFixed(3)} ms`;
  return `${(ns / 1e9).toFixed(3)} s`;
}

/** A register or address: 0x-prefixed hex, zero-padded to `width` digits. */
export function hex(v: bigint | number, width = 0): string {
  return `0x${BigInt.asUintN(64, BigInt(v)).toString(16).padStart(width, '0')}`;
}

/** A return value as a kernel reader writes it: -22 stays -22, big unsigned values in hex. */
export function formatRet(ret: number | null): string {
  return ret === null ? '—' : String(ret);
}
