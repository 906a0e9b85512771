// Operands of a pre-decoded entry: the register file (layout.CUR), the memory operand's address,
// and the stack.
import { CUR, E_RIP, E_LEN, E_FL, E_R, E_B, E_X, E_SC, E_DISP, E_IMM, FL_A32, FL_FS, FL_GS, FL_MEM } from './layout';
import { rd, wr, wrStack } from './mem';
import { fsBase, gsBase } from './state';

@inline export function rget<T>(off: usize): T {
  return load<T>(off, CUR);
}
/** Writes a register; a 32-bit write zeroes the upper half, as in 64-bit mode. */
@inline export function rset<T>(off: usize, v: T): void {
  if (sizeof<T>() == 4) store<u64>(off, <u64>v, CUR);
  else store<T>(off, v, CUR);
}
@inline export function fR(e: usize): usize {
  return <usize>load<u8>(e, E_R);
}
@inline export function fB(e: usize): usize {
  return <usize>load<u8>(e, E_B);
}
@inline export function imm<T>(e: usize): T {
  return <T>load<u64>(e, E_IMM);
}
@inline export function isMem(e: usize): bool {
  return (load<u8>(e, E_FL) & FL_MEM) != 0;
}
@inline export function next(e: usize): u64 {
  return <u64>load<u32>(e, E_RIP) + load<u8>(e, E_LEN);
}

/** The memory operand's offset: base + index * scale + displacement (32 bits with a 67 prefix). */
@inline export function offset(e: usize): u64 {
  let a = load<u64>(fB(e), CUR) + (load<u64>(<usize>load<u8>(e, E_X), CUR) << <u64>load<u8>(e, E_SC)) + load<u64>(e, E_DISP);
  if (load<u8>(e, E_FL) & FL_A32) a &= 0xffffffff;
  return a;
}
/** The memory operand's linear address: the offset plus FS.base or GS.base when overridden. */
@inline export function ea(e: usize): u64 {
  const a = offset(e);
  const fl = load<u8>(e, E_FL);
  if (fl & (FL_FS | FL_GS)) return a + ((fl & FL_FS) ? fsBase : gsBase);
  return a;
}

/** The r/m operand's value (register or memory; on a fault mx is set and 0 returned). */
@inline export function rmRead<T>(e: usize): T {
  if (isMem(e)) return rd<T>(ea(e));
  return rget<T>(fB(e));
}

/** Writes the r/m operand whose address (for memory) was a. Returns false if the store did not happen. */
@inline export function rmWrite<T>(e: usize, a: u64, v: T): bool {
  if (isMem(e)) return wr<T>(a, v);
  rset<T>(fB(e), v);
  return true;
}

export const RAX: usize = 0;
export const RCX: usize = 1 * 8;
export const RDX: usize = 2 * 8;
export const RSP: usize = 4 * 8;
export const RBP: usize = 5 * 8;
export const RSI: usize = 6 * 8;
export const RDI: usize = 7 * 8;

@inline export function push<T>(v: T): bool {
  const sp = rget<u64>(RSP) - sizeof<T>();
  if (!wrStack<T>(sp, v)) return false;
  store<u64>(RSP, sp, CUR);
  return true;
}
