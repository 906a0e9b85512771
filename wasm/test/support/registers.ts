// General-purpose registers as iced-x86 names them, indexed by the SDM's register number (the
// order of the core's S_GPR block: RAX RCX RDX RBX RSP RBP RSI RDI R8..R15).
import { Register } from 'iced-x86';

export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;

const range = (first: Register) => Array.from({ length: 16 }, (_, i) => (first + i) as Register);

/** By width and register number. In the 8-bit row, 4–7 are SPL BPL SIL DIL (they need a REX prefix). */
export const GPR: Record<8 | 16 | 32 | 64, Register[]> = {
  8: [Register.AL, Register.CL, Register.DL, Register.BL, Register.SPL, Register.BPL, Register.SIL, Register.DIL, ...range(Register.R8L).slice(0, 8)],
  16: range(Register.AX),
  32: range(Register.EAX),
  64: range(Register.RAX),
};

/** AH CH DH BH: bits 15:8 of RAX RCX RDX RBX; only encodable without a REX prefix. */
export const HIGH8 = [Register.AH, Register.CH, Register.DH, Register.BH];

export type Width = 8 | 16 | 32 | 64;

/** The register number of the 64-bit register a (sub-)register belongs to, or -1 for a non-GPR. */
export function gprNumber(r: Register): number {
  if (r >= Register.AH && r <= Register.BH) return r - Register.AH;
  for (const w of [8, 16, 32, 64] as const) {
    const i = GPR[w].indexOf(r);
    if (i >= 0) return i;
  }
  return -1;
}

/** Registers that exist only with a REX prefix: R8–R15 in any width, and SPL BPL SIL DIL. */
export function needsRex(r: Register): boolean {
  const n = gprNumber(r);
  return n >= 8 || (r >= Register.SPL && r <= Register.DIL);
}
