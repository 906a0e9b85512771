// Register names as NASM spells them, derived from iced-x86's Register enum: its names are the
// SDM's (AL, R8D, CR3, FS, ...) except the low bytes of R8-R15, which iced calls R8L and NASM r8b.
import type { Register } from 'iced-x86';
import type { Iced } from './iced';

export type RegClass = 'gpr' | 'sreg' | 'cr' | 'dr' | 'other';

export interface RegInfo {
  name: string; // lower case, NASM spelling
  reg: Register;
  cls: RegClass;
  size: number; // bytes
  num: number; // the register number encoded in ModRM/REX (0-15)
  /** AH, CH, DH, BH: not encodable together with a REX prefix. */
  high8: boolean;
  /** SPL-DIL and R8-R15 in any size: need a REX prefix. */
  needsRex: boolean;
}

export type RegTable = Map<string, RegInfo>;

export function buildRegisters(iced: Iced): RegTable {
  const { Register, RegisterExt } = iced;
  const table: RegTable = new Map();
  for (const [key, value] of Object.entries(Register)) {
    if (typeof value !== 'number' || value === Register.None) continue;
    const reg = value as Register;
    const name = key.toLowerCase().replace(/^(r\d+)l$/, '$1b');
    const cls: RegClass = RegisterExt.isGPR(reg)
      ? 'gpr'
      : RegisterExt.isSegmentRegister(reg)
        ? 'sreg'
        : RegisterExt.isCR(reg)
          ? 'cr'
          : RegisterExt.isDR(reg)
            ? 'dr'
            : 'other';
    const number = RegisterExt.number(reg);
    table.set(name, {
      name,
      reg,
      cls,
      size: RegisterExt.size(reg),
      num: number,
      high8: cls === 'gpr' && /^[a-d]h$/.test(name),
      needsRex: cls === 'gpr' && (number >= 8 || /^(spl|bpl|sil|dil)$/.test(name)),
    });
  }
  return table;
}

/** The general-purpose register of `size` bytes with the same number as `r` (RAX -> EAX). */
export function resize(table: RegTable, r: RegInfo, size: number): RegInfo | undefined {
  for (const info of table.values()) {
    if (info.cls === 'gpr' && info.size === size && !info.high8 && info.num === r.num) return info;
  }
  return undefined;
}
