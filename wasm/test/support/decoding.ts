// Byte strings for the decoder tests, and both decoders over them: iced-x86 (the reference) and the
// core's decode(gpa). Strings are laid out DECODE_STRIDE bytes apart, so one buffer and one Decoder
// serve a whole batch and the core sees them at the same guest-physical addresses.
import fc from 'fast-check';
import { Code, Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction, Mnemonic } from 'iced-x86';
import * as abi from '../../src/abi';
import * as mnemonics from '../../src/mnemonics';
import type { Core } from '../../../src/model/cpu/core';
import { seededBytes } from './program';

/** Longer than the longest instruction (15 bytes), so every string holds a whole one. */
export const DECODE_STRIDE = 16;

/**
 * This machine is an AMD EPYC, and the core follows it, so iced decodes as AMD does: 16-bit near
 * branches with 66 in 64-bit mode, no o64 far indirect branches, UD0 without ModRM, LOCK MOV CR.
 */
export const ICED_OPTIONS = DecoderOptions.AMD;

/** The core's mnemonic list (wasm/src/mnemonics.ts): index → iced-x86 Mnemonic name. */
export const CORE_MNEMONICS: string[] = (() => {
  const names: string[] = [];
  for (const [name, index] of Object.entries(mnemonics)) if (name !== 'MNEMONIC_COUNT' && typeof index === 'number') names[index] = name;
  return names;
})();

const PREFIXES = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65];
const REX = Array.from({ length: 16 }, (_, i) => 0x40 + i);
const MODRM_BY_REG = Array.from({ length: 8 }, (_, reg) => [reg << 3, 0xc0 | (reg << 3), 0x44 | (reg << 3), 0x85 | (reg << 3)]).flat();

/** 16-byte strings from a lead-in and deterministic filler (the SIB, displacement and immediate bytes). */
function strings(leads: number[][]): Uint8Array {
  const out = new Uint8Array(leads.length * DECODE_STRIDE);
  leads.forEach((lead, k) => {
    out.set(seededBytes(k * 7919 + lead.length * 104729 + (lead[0] ?? 0), DECODE_STRIDE), k * DECODE_STRIDE);
    out.set(lead.slice(0, DECODE_STRIDE), k * DECODE_STRIDE);
  });
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * The opcode map, systematically: every one-byte and 0F opcode with every ModRM byte; 0F 38 / 0F 3A
 * with a ModRM of each reg field; and every opcode again behind each legacy prefix and each REX.
 */
export function opcodeMap(): { name: string; bytes: Uint8Array }[] {
  const all = range(256);
  return [
    { name: 'op modrm', bytes: strings(all.flatMap((op) => all.map((m) => [op, m]))) },
    { name: '0F op modrm', bytes: strings(all.flatMap((op) => all.map((m) => [0x0f, op, m]))) },
    { name: '0F 38/3A op modrm', bytes: strings([0x38, 0x3a].flatMap((t) => all.flatMap((op) => MODRM_BY_REG.map((m) => [0x0f, t, op, m])))) },
    ...[...PREFIXES, ...REX].map((p) => ({
      name: `${p.toString(16)} [0F] op modrm`,
      bytes: strings(all.flatMap((op) => MODRM_BY_REG.flatMap((m) => [[p, op, m], [p, 0x0f, op, m]]))),
    })),
  ];
}

/** Random strings, most of them led by an opcode, an escape, prefixes or a REX the way real code is. */
export const byteStringArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.oneof(
      fc.constant<number[]>([]),
      fc.tuple(fc.integer({ min: 0, max: 255 })).map(([op]) => [op]),
      fc.integer({ min: 0, max: 255 }).map((op) => [0x0f, op]),
      fc.tuple(fc.constantFrom(0x38, 0x3a), fc.integer({ min: 0, max: 255 })).map(([t, op]) => [0x0f, t, op]),
      fc.tuple(fc.array(fc.constantFrom(...PREFIXES), { minLength: 1, maxLength: 16 }), fc.option(fc.constantFrom(...REX)), fc.integer({ min: 0, max: 255 }))
        .map(([ps, rex, op]) => [...ps, ...(rex === null ? [] : [rex]), op]),
      fc.tuple(fc.constantFrom(...REX), fc.integer({ min: 0, max: 255 })).map(([rex, op]) => [rex, op]),
    ),
    fc.uint8Array({ minLength: DECODE_STRIDE, maxLength: DECODE_STRIDE }),
  )
  .map(([lead, fill]) => {
    const s = fill.slice();
    s.set(lead.slice(0, DECODE_STRIDE));
    return s;
  });

export interface Decoded {
  /** 0 when the decoder rejects the bytes (iced: Code.INVALID; core: #UD). */
  length: number;
  mnemonic: string;
  /** iced only: its Code name (the form), e.g. `Jne_rel16`. */
  code?: string;
}

/** iced-x86's view of every string in `bytes` (laid out at `gpa`, DECODE_STRIDE apart). */
export function icedDecode(bytes: Uint8Array, gpa: number): Decoded[] {
  const d = new Decoder(64, bytes, ICED_OPTIONS);
  const ins = new Instruction();
  const out: Decoded[] = [];
  for (let at = 0; at < bytes.length; at += DECODE_STRIDE) {
    d.position = at;
    d.ip = BigInt(gpa + at);
    d.decodeOut(ins);
    const invalid = ins.isInvalid;
    out.push({ length: invalid ? 0 : ins.length, mnemonic: invalid ? 'INVALID' : Mnemonic[ins.mnemonic], code: Code[ins.code] });
  }
  ins.free();
  d.free();
  return out;
}

/** NASM text of one string as iced sees it, for reports. */
export function icedText(s: Uint8Array, gpa: number): string {
  const d = new Decoder(64, s, ICED_OPTIONS);
  d.ip = BigInt(gpa);
  const ins = d.decode();
  const f = new Formatter(FormatterSyntax.Nasm);
  const text = ins.isInvalid ? '(invalid)' : f.format(ins);
  f.free();
  ins.free();
  d.free();
  return text;
}

/** The core's decode(gpa) export: the length of the instruction there, 0 for #UD (not in CoreExports yet). */
export function decodeLength(core: Core, gpa: number): number {
  return (core.x as unknown as { decode(gpa: number): number }).decode(gpa);
}

/** The core's view: decode(gpa) gives the length (0 = #UD) and leaves the mnemonic at DECODE_MNEMONIC. */
export function coreDecode(core: Core, bytes: Uint8Array, gpa: number): Decoded[] {
  core.writeMem(gpa, bytes);
  const out: Decoded[] = [];
  for (let at = 0; at < bytes.length; at += DECODE_STRIDE) {
    const length = decodeLength(core, gpa + at);
    const index = core.dv.getUint32(abi.DECODE_MNEMONIC, true);
    out.push({ length, mnemonic: length ? CORE_MNEMONICS[index] ?? `#${index}` : 'INVALID' });
  }
  return out;
}

/** Instructions whose whole job is to raise #UD: the core must not decode them either. */
const RAISE_UD = new Set(['Ud0', 'Ud1', 'Ud2']);

/**
 * iced-x86 forms this CPU raises #UD for although iced decodes them: the register forms of 0F 0D,
 * which iced calls reserved NOPs and AMD's PREFETCH/PREFETCHW leave undefined (FINDINGS F4).
 */
const CPU_RAISES_UD = /^Reservednop_rm\d+_r\d+_0F0D$/;

/** The core must raise #UD for what iced decodes as this: an instruction that is #UD by design or on this CPU. */
export function raisesUd(iced: Decoded): boolean {
  return RAISE_UD.has(iced.mnemonic) || CPU_RAISES_UD.test(iced.code ?? '');
}

/**
 * Why the core's decoding of one string is wrong, or null. Where the core decodes, iced must find the
 * same instruction: same length, same mnemonic. Where it does not, the bytes must raise #UD when run
 * (checked by the caller): the core may leave any instruction out, but never decode one wrongly.
 */
export function decodeMismatch(iced: Decoded, core: Decoded): string | null {
  if (!core.length) return null;
  if (!iced.length) return `the core decodes ${core.mnemonic} (${core.length} bytes) where iced finds no instruction`;
  if (raisesUd(iced)) return `the core decodes ${iced.code}, which raises #UD (by design or on this CPU)`;
  if (core.length !== iced.length || core.mnemonic !== iced.mnemonic) return `core ${core.mnemonic} ${core.length} bytes, iced ${iced.mnemonic} ${iced.length} bytes`;
  return null;
}

/** The vectors a string the core does not decode may raise: #UD, or #GP for a string over 15 bytes. */
export function rejectionVectors(iced: Decoded): number[] {
  return iced.length ? [abi.UD_VECTOR] : [abi.UD_VECTOR, abi.GP_VECTOR];
}
