// Registers and VMCS words as a debugger shows them (views/common/format.ts has the rest).

/** A 64-bit value as unsigned hex, zero-padded to `width` digits: -1n → 0xffffffffffffffff. */
export function u64Hex(v: bigint | number, width = 0): string {
  return `0x${BigInt.asUintN(64, BigInt(v)).toString(16).padStart(width, '0')}`;
}
