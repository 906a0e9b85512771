// Flags the SDM leaves undefined, and which of them a program may still hold at its end.
//
// The core is meant to match this machine's CPU (an AMD EPYC) even where the SDM says "undefined",
// so on AMD every arithmetic flag is compared. On another vendor the values differ, so the test masks
// what the SDM leaves undefined. The list, per instruction (SDM Vol. 2, "Flags Affected"):
//
//   AND OR XOR TEST                      AF
//   MUL IMUL                             SF ZF AF PF
//   DIV IDIV                             CF OF SF ZF AF PF
//   BT BTS BTR BTC                       OF SF AF PF   (ZF unchanged)
//   BSF BSR                              CF OF SF AF PF
//   SHL SAL SHR SAR (count ≠ 0)          AF; OF unless count = 1; CF when count ≥ width (8/16-bit)
//   ROL ROR RCL RCR (count ≠ 0)          OF unless count = 1
//   A count of 0 (after masking to 5 or 6 bits) leaves every flag unchanged. With the count in CL
//   the tracker assumes the worst: any of these may be undefined, and none is surely defined.
//
// A program is unverifiable on such a vendor when an instruction reads a flag that may be undefined
// (ADC, Jcc, SETcc, CMOVcc, PUSHF, LAHF, …): its registers then depend on the vendor too. So is one
// with an instruction whose result the SDM leaves undefined: BSF/BSR (destination, for a zero
// source) and BSWAP of a 16-bit register.
import { Code, Instruction, Mnemonic, RepPrefixKind, RflagsBits } from 'iced-x86';
import { toInstruction } from './assemble';
import type { Insn, Item } from './program';

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800, DF = 0x400;
export const ARITH = CF | PF | AF | ZF | SF | OF;

/** iced's RflagsBits → RFLAGS bit positions. */
const ICED_BITS: [number, number][] = [
  [RflagsBits.CF, CF], [RflagsBits.PF, PF], [RflagsBits.AF, AF], [RflagsBits.ZF, ZF],
  [RflagsBits.SF, SF], [RflagsBits.OF, OF], [RflagsBits.DF, DF],
];
const fromIced = (bits: number) => ICED_BITS.reduce((f, [i, r]) => (bits & i ? f | r : f), 0);

const M = Mnemonic;
const LOGIC = new Set([M.And, M.Or, M.Xor, M.Test]);
const SHIFTS = new Set([M.Shl, M.Sal, M.Shr, M.Sar]);
const ROTATES = new Set([M.Rol, M.Ror, M.Rcl, M.Rcr]);
const FIXED_UNDEFINED = new Map<Mnemonic, number>([
  [M.Mul, SF | ZF | AF | PF], [M.Imul, SF | ZF | AF | PF],
  [M.Div, ARITH], [M.Idiv, ARITH],
  [M.Bt, OF | SF | AF | PF], [M.Bts, OF | SF | AF | PF], [M.Btr, OF | SF | AF | PF], [M.Btc, OF | SF | AF | PF],
  [M.Bsf, CF | OF | SF | AF | PF], [M.Bsr, CF | OF | SF | AF | PF],
]);

export interface FlagEffect {
  read: number;
  /** The SDM leaves its result (not only flags) undefined for some operands. */
  undefinedResult?: boolean;
  /** Surely given a defined value (whatever the operands). */
  defined: number;
  /** May be left undefined. */
  undefined: number;
}

/** What one instruction does to the arithmetic flags, by the SDM (see the list above). */
export function flagEffect(insn: Insn): FlagEffect {
  const ins = toInstruction(insn);
  const mnemonic = ins.mnemonic, read = fromIced(ins.rflagsRead), modified = fromIced(ins.rflagsModified);
  ins.free();
  if (UNDEFINED_RESULT.has(mnemonic) || insn.code === Code.Bswap_r16) return { ...effectOf(insn, mnemonic, read, modified), undefinedResult: true };
  return effectOf(insn, mnemonic, read, modified);
}

function effectOf(insn: Insn, mnemonic: Mnemonic, read: number, modified: number): FlagEffect {
  const written = modified & ARITH;
  if (LOGIC.has(mnemonic)) return { read, defined: written & ~AF, undefined: AF };
  const fixed = FIXED_UNDEFINED.get(mnemonic);
  if (fixed !== undefined) return { read, defined: written & ~fixed, undefined: fixed };
  if (SHIFTS.has(mnemonic) || ROTATES.has(mnemonic)) return shiftEffect(insn, mnemonic, read, written);
  // REP CMPS/SCAS with RCX = 0 write nothing.
  if (insn.rep !== undefined && insn.rep !== RepPrefixKind.None) return { read, defined: 0, undefined: 0 };
  return { read, defined: written, undefined: 0 };
}

function shiftEffect(insn: Insn, mnemonic: Mnemonic, read: number, written: number): FlagEffect {
  const width = operandWidth(insn.code);
  const countOp = insn.ops[1];
  const worst = SHIFTS.has(mnemonic) ? AF | OF | (width < 32 ? CF : 0) : OF;
  if (!countOp || !('imm' in countOp)) return { read, defined: 0, undefined: worst }; // count in CL
  const count = Number(countOp.imm) & (width === 64 ? 63 : 31);
  if (count === 0) return { read, defined: 0, undefined: 0 };
  if (ROTATES.has(mnemonic)) {
    // RCL/RCR of 8 and 16 bits rotate through CF modulo width + 1: a multiple leaves CF as it was.
    const through = (mnemonic === M.Rcl || mnemonic === M.Rcr) && width < 32 && count % (width + 1) === 0;
    return { read, defined: count === 1 ? CF | OF : through ? 0 : CF, undefined: count === 1 ? 0 : OF };
  }
  let undef = AF | (count === 1 ? 0 : OF);
  if (count >= width) undef |= CF;
  return { read, defined: written & ~undef, undefined: undef };
}

function operandWidth(code: Code): number {
  const m = /_rm(8|16|32|64)_/.exec(Code[code] + '_');
  if (!m) throw new Error(`no operand width in ${Code[code]}`);
  return Number(m[1]);
}

/** The flags a program may leave undefined, and whether it reads one (then nothing can be compared). */
export interface FlagTrace {
  /** Any flag that may be undefined at any point (a case may end early at an exception). */
  mayBeUndefined: number;
  /** It reads a flag that may be undefined, or runs an instruction with an undefined result. */
  readsUndefined: boolean;
}

const UNDEFINED_RESULT = new Set([M.Bsf, M.Bsr]);

/**
 * Walks the program in order. An item a forward branch may skip can only add undefined flags, never
 * define any; a loop body runs twice so flags it leaves undefined reach its own next iteration.
 */
export function traceFlags(items: readonly Item[], initiallyUndefined = 0): FlagTrace {
  let undef = initiallyUndefined, ever = undef, readsUndefined = false;
  let skippableUntil = -1;
  const step = (insn: Insn, skippable: boolean) => {
    const e = flagEffect(insn);
    if (e.read & undef || e.undefinedResult) readsUndefined = true;
    undef = skippable ? undef | e.undefined : (undef & ~e.defined) | e.undefined;
    ever |= undef;
  };
  items.forEach((it, i) => {
    const skippable = i <= skippableUntil;
    switch (it.kind) {
      case 'plain':
        it.insns.forEach((insn) => step(insn, skippable));
        break;
      case 'branch':
        it.lead?.forEach((insn) => step(insn, skippable));
        if (branchReadsUndefined(it.code, undef)) readsUndefined = true;
        skippableUntil = Math.max(skippableUntil, i + it.skip);
        break;
      case 'call':
        it.body.forEach((insn) => step(insn, skippable));
        break;
      case 'loop':
        for (let pass = 0; pass < 2; pass++) {
          [...it.body, ...(it.close ?? [])].forEach((insn) => step(insn, skippable));
          if (branchReadsUndefined(it.code, undef)) readsUndefined = true;
        }
        break;
    }
  });
  return { mayBeUndefined: ever, readsUndefined };
}

function branchReadsUndefined(code: Code, undef: number): boolean {
  const ins = Instruction.createBranch(code, 0n);
  const read = fromIced(ins.rflagsRead);
  ins.free();
  return (read & undef) !== 0;
}
