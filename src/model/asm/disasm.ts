// Disassembly through iced-x86's Decoder and Formatter, in the four syntaxes iced formats.
// Decoding stops at bytes that do not decode; they become a last `db` line, so a window of memory
// around RIP always renders and never shows instructions made of misaligned garbage.
import type { Formatter } from 'iced-x86';
import { loadIced, type Iced } from './iced';
import type { DisasmLine, Syntax } from './index';

const SYNTAX_NAMES = { nasm: 'Nasm', gas: 'Gas', intel: 'Intel', masm: 'Masm' } as const;

export async function disassemble(
  bytes: Uint8Array,
  addr: number,
  opts: { syntax?: Syntax; max?: number } = {},
): Promise<DisasmLine[]> {
  const syntax = opts.syntax ?? 'nasm';
  if (!(syntax in SYNTAX_NAMES)) throw new Error(`unknown syntax '${syntax}': use nasm, gas, intel or masm`);
  const iced = await loadIced();
  const max = opts.max ?? Infinity;
  const decoder = new iced.Decoder(64, bytes, iced.DecoderOptions.None);
  const formatter = makeFormatter(iced, syntax);
  const lines: DisasmLine[] = [];
  try {
    decoder.ip = BigInt.asUintN(64, BigInt(addr));
    while (decoder.canDecode && lines.length < max) {
      const at = decoder.position;
      const ins = decoder.decode();
      try {
        const slice = bytes.slice(at, at + ins.length);
        const line = { addr: addr + at, len: ins.length, bytes: slice };
        if (ins.isInvalid) {
          const db = syntax === 'gas' ? '.byte' : 'db';
          lines.push({ ...line, text: `${db} ${[...slice].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')}`, mnemonic: db });
          break;
        } else {
          const mnemonic = formatter.formatMnemonicOptions(ins, iced.FormatMnemonicOptions.NoPrefixes);
          lines.push({ ...line, text: formatter.format(ins), mnemonic });
        }
      } finally {
        ins.free();
      }
    }
  } finally {
    formatter.free();
    decoder.free();
  }
  return lines;
}

function makeFormatter(iced: Iced, syntax: Syntax): Formatter {
  const f = new iced.Formatter(iced.FormatterSyntax[SYNTAX_NAMES[syntax]]);
  f.hexPrefix = '0x';
  f.hexSuffix = '';
  f.uppercaseHex = false;
  f.spaceAfterOperandSeparator = true;
  f.branchLeadingZeros = false; // `jmp 0x10000`, not `jmp 0x0000000000010000`
  f.showUselessPrefixes = true; // show every prefix byte there is, e.g. `[es:rbx]` in 64-bit mode
  // Small numbers in decimal would read better, but iced-x86 1.21 tests only the low 32 bits for
  // "small", so it prints MOV RAX, 0x100000000 as `mov rax, 0`.
  f.smallHexNumbersInDecimal = false;
  return f;
}
