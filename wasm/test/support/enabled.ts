// The instruction classes the differential tests run against the core: the one place to turn a class
// off. A class the core does not get right yet stays out of this list, with its reproduction in
// wasm/test/native/FINDINGS.md; the generators themselves are tested for every class regardless.
import type { ClassName } from './generators';

export const ENABLED_CLASSES: readonly ClassName[] = [
  'alu', 'shift', 'rotate', 'mul', 'div', 'lea', 'setcc', 'cmovcc', 'bittest', 'bitscan', 'bswap', 'unary',
  'extend', 'xchg', 'atomic', 'stack', 'pushf', 'flagops', 'convert', 'hint', 'jcc', 'loop', 'call', 'string', 'smc',
];

/**
 * Decoder forms with an open finding (FINDINGS.md), by iced-x86 Code name: the decoder tests pass over
 * them until the finding is fixed.
 */
export const KNOWN_DECODER_FINDINGS: readonly { finding: string; codes: RegExp }[] = [];
