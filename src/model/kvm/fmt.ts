// Formatting for frame notes and results.

export function hex(v: number | bigint): string {
  return typeof v === 'bigint' ? '0x' + BigInt.asUintN(64, v).toString(16) : '0x' + (v >>> 0).toString(16);
}
