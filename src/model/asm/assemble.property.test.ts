// Property: any instruction text from the supported set assembles, disassembles (NASM syntax) to
// one instruction, and that text assembles to the same bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble, disassemble, formatAsmError } from './index';

const gprs = (names: string) => names.split(' ');
const R8 = gprs('al cl dl bl spl bpl sil dil r8b r9b r10b r11b r12b r13b r14b r15b');
const R16 = gprs('ax cx dx bx sp bp si di r8w r9w r10w r11w r12w r13w r14w r15w');
const R32 = gprs('eax ecx edx ebx esp ebp esi edi r8d r9d r10d r11d r12d r13d r14d r15d');
const R64 = gprs('rax rcx rdx rbx rsp rbp rsi rdi r8 r9 r10 r11 r12 r13 r14 r15');
const SIZES = [
  { kw: 'byte', regs: R8, bits: 8 },
  { kw: 'word', regs: R16, bits: 16 },
  { kw: 'dword', regs: R32, bits: 32 },
  { kw: 'qword', regs: R64, bits: 64 },
];
const CC = 'o no b nae c ae nb nc e z ne nz be na a nbe s ns p pe np po l nge ge nl le ng g nle'.split(' ');
const JCC = CC.map((c) => `j${c}`);

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const size = pick(SIZES);
const wide = pick(SIZES.slice(1)); // 16, 32 or 64 bits
const int = (min: number, max: number) => fc.integer({ min, max });
/** An immediate that fits an operand of `bits` (64-bit operands take sign-extended 32-bit ones). */
const imm = (bits: number) =>
  bits === 64 ? int(-0x80000000, 0x7fffffff) : fc.bigInt(-(1n << BigInt(bits - 1)), (1n << BigInt(bits)) - 1n).map(String);
const sint = (v: number | string) => (String(v).startsWith('-') ? `- ${String(v).slice(1)}` : `+ ${v}`);

const mem: fc.Arbitrary<string> = fc.oneof(
  fc
    .record({
      seg: fc.constantFrom('', 'fs:', 'gs:'),
      base: fc.option(pick(R64), { nil: undefined }),
      index: fc.option(pick(R64.filter((r) => r !== 'rsp')), { nil: undefined }),
      scale: pick([1, 2, 4, 8]),
      disp: fc.oneof(fc.constant(0), int(-128, 127), int(-0x80000000, 0x7fffffff)),
    })
    .map(({ seg, base, index, scale, disp }) => {
      const terms = [base, index && `${index}*${scale}`].filter(Boolean).join(' + ');
      if (!terms) return `[${seg}${Math.abs(disp)}]`;
      return `[${seg}${terms}${disp ? ` ${sint(disp)}` : ''}]`;
    }),
  int(-0x1000, 0x1000).map((k) => `[rel $ ${sint(k)}]`),
);

const branchTarget = int(-300, 300).map((k) => `$ ${sint(k)}`);
const shortTarget = int(-126, 129).map((k) => `$ ${sint(k)}`); // within reach of a rel8 from a 2-byte jump

const alu = pick(['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'mov']);
const instruction: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(alu, size).chain(([m, s]) =>
    fc.oneof(
      fc.tuple(pick(s.regs), pick(s.regs)).map(([a, b]) => `${m} ${a}, ${b}`),
      fc.tuple(pick(s.regs), mem).map(([a, b]) => `${m} ${a}, ${b}`),
      fc.tuple(mem, pick(s.regs)).map(([a, b]) => `${m} ${a}, ${b}`),
      fc.tuple(pick(s.regs), imm(s.bits)).map(([a, b]) => `${m} ${a}, ${b}`),
      fc.tuple(mem, imm(s.bits)).map(([a, b]) => `${m} ${s.kw} ${a}, ${b}`),
      fc.tuple(pick(s.regs), mem).map(([a, b]) => `lock ${m === 'mov' || m === 'cmp' ? 'add' : m} ${b}, ${a}`),
    ),
  ),
  fc.tuple(pick(R64), fc.bigInt(-(1n << 63n), (1n << 64n) - 1n)).map(([r, v]) => `mov ${r}, ${v}`),
  fc.tuple(size, int(0, 0x7fffffff)).map(([s, a]) => `mov ${['al', 'ax', 'eax', 'rax'][SIZES.indexOf(s)]}, [qword ${a}]`),
  fc.tuple(size, fc.boolean()).chain(([s, swap]) =>
    fc.tuple(pick(s.regs), fc.oneof(pick(s.regs), mem)).map(([a, b]) => (swap ? `test ${b}, ${a}` : `test ${a}, ${b}`)),
  ),
  fc.tuple(size, fc.oneof(pick(['xchg', 'xadd', 'cmpxchg']))).chain(([s, m]) =>
    fc.oneof(
      fc.tuple(pick(s.regs), pick(s.regs)).map(([a, b]) => `${m} ${a}, ${b}`),
      fc.tuple(mem, pick(s.regs), fc.boolean()).map(([a, b, lock]) => `${lock ? 'lock ' : ''}${m} ${a}, ${b}`),
    ),
  ),
  fc.tuple(size, imm(8)).chain(([s, v]) => fc.tuple(pick(s.regs), mem).map(([r, m]) => [`test ${r}, ${v}`, `test ${s.kw} ${m}, ${v}`]).chain(pick)),
  fc.tuple(pick(['inc', 'dec', 'neg', 'not', 'mul', 'imul', 'div', 'idiv']), size).chain(([m, s]) =>
    fc.oneof(pick(s.regs).map((r) => `${m} ${r}`), mem.map((a) => `${m} ${s.kw} ${a}`)),
  ),
  fc.tuple(wide).chain(([s]) =>
    fc.oneof(
      fc.tuple(pick(s.regs), fc.oneof(pick(s.regs), mem)).map(([a, b]) => `imul ${a}, ${b}`),
      fc.tuple(pick(s.regs), fc.oneof(pick(s.regs), mem), imm(s.bits)).map(([a, b, v]) => `imul ${a}, ${b}, ${v}`),
      fc.tuple(pick(s.regs), imm(8)).map(([a, v]) => `imul ${a}, ${v}`),
    ),
  ),
  fc.tuple(pick(['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar']), size, fc.oneof(fc.constant('1'), fc.constant('cl'), int(0, 255).map(String))).chain(
    ([m, s, n]) => fc.oneof(pick(s.regs).map((r) => `${m} ${r}, ${n}`), mem.map((a) => `${m} ${s.kw} ${a}, ${n}`)),
  ),
  fc.tuple(pick(['movzx', 'movsx']), wide, pick(SIZES.slice(0, 2))).chain(([m, d, s]) =>
    d.bits <= s.bits ? fc.constant('nop') : fc.tuple(pick(d.regs), fc.oneof(pick(s.regs), mem.map((a) => `${s.kw} ${a}`))).map(([a, b]) => `${m} ${a}, ${b}`),
  ),
  fc.tuple(pick(R64), fc.oneof(pick(R32), mem.map((a) => `dword ${a}`))).map(([a, b]) => `movsxd ${a}, ${b}`),
  fc.tuple(wide, mem).chain(([s, a]) => pick(s.regs).map((r) => `lea ${r}, ${a.replace(/[fg]s:/, '')}`)),
  fc.tuple(pick(['push', 'pop']), fc.oneof(pick(R64), pick(R16), mem.map((a) => `qword ${a}`), mem.map((a) => `word ${a}`), pick(['fs', 'gs']))).map(
    ([m, o]) => `${m} ${o}`,
  ),
  imm(64).map((v) => `push ${v}`),
  fc.tuple(pick(CC), fc.oneof(pick(R8), mem.map((a) => `byte ${a}`))).map(([c, o]) => `set${c} ${o}`),
  fc.tuple(pick(CC), wide).chain(([c, s]) => fc.tuple(pick(s.regs), fc.oneof(pick(s.regs), mem)).map(([a, b]) => `cmov${c} ${a}, ${b}`)),
  fc.tuple(pick([...JCC, 'jmp']), branchTarget).map(([m, t]) => `${m} ${t}`),
  fc.tuple(pick([...JCC, 'jmp']), shortTarget).map(([m, t]) => `${m} short ${t}`),
  fc.tuple(pick([...JCC, 'jmp', 'call']), branchTarget).map(([m, t]) => `${m} near ${t}`),
  branchTarget.map((t) => `call ${t}`),
  fc.tuple(pick(['loop', 'loope', 'loopz', 'loopne', 'loopnz', 'jrcxz']), shortTarget).map(([m, t]) => `${m} ${t}`),
  fc.tuple(pick(['jmp', 'call']), fc.oneof(pick(R64), mem.map((a) => `qword ${a}`))).map(([m, o]) => `${m} ${o}`),
  fc.tuple(pick(['bt', 'bts', 'btr', 'btc']), wide).chain(([m, s]) =>
    fc.oneof(
      fc.tuple(fc.oneof(pick(s.regs), mem), pick(s.regs)).map(([a, b]) => `${m} ${a}, ${b}`),
      fc.tuple(pick(s.regs), int(0, 255)).map(([a, n]) => `${m} ${a}, ${n}`),
      fc.tuple(mem, int(0, 255)).map(([a, n]) => `${m} ${s.kw} ${a}, ${n}`),
    ),
  ),
  fc.tuple(pick(['bsf', 'bsr']), wide).chain(([m, s]) => fc.tuple(pick(s.regs), fc.oneof(pick(s.regs), mem)).map(([a, b]) => `${m} ${a}, ${b}`)),
  pick([...R32, ...R64]).map((r) => `bswap ${r}`),
  fc.tuple(pick(['', 'rep ']), pick(['movs', 'stos', 'lods']), pick(['b', 'w', 'd', 'q'])).map(([p, m, s]) => `${p}${m}${s}`),
  fc.tuple(pick(['', 'repe ', 'repz ', 'repne ', 'repnz ']), pick(['cmps', 'scas']), pick(['b', 'w', 'd', 'q'])).map(([p, m, s]) => `${p}${m}${s}`),
  fc.tuple(pick(['', 'rep ']), pick(['ins', 'outs']), pick(['b', 'w', 'd'])).map(([p, m, s]) => `${p}${m}${s}`),
  fc.tuple(pick(['al', 'ax', 'eax']), fc.oneof(int(0, 255).map(String), fc.constant('dx'))).chain(([r, p]) => pick([`in ${r}, ${p}`, `out ${p}, ${r}`])),
  fc.tuple(pick(['int', 'ret']), int(0, 255)).map(([m, n]) => `${m} ${n}`),
  fc.tuple(pick(['lidt', 'lgdt', 'sidt', 'sgdt', 'invlpg']), mem).map(([m, a]) => `${m} ${a}`),
  fc.tuple(pick(['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'dr0', 'dr7']), pick(R64), fc.boolean()).map(([c, r, to]) => (to ? `mov ${c}, ${r}` : `mov ${r}, ${c}`)),
  fc.tuple(pick(['ss', 'ds', 'es', 'fs', 'gs']), fc.oneof(pick(R16), pick(R32), mem)).map(([s, o]) => `mov ${s}, ${o}`),
  pick(
    `hlt pause monitor mwait cpuid rdtsc rdtscp rdmsr wrmsr vmcall int3 iretq ud2 invd sahf lahf clc stc cmc cld std cli sti
     cbw cwde cdqe cwd cdq cqo pushfq popfq nop ret leave`.split(/\s+/),
  ),
);

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('assemble -> disassemble -> assemble', () => {
  it('gives back the same bytes for random programs of the supported instructions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(instruction, { minLength: 1, maxLength: 6 }), async (program) => {
        const source = program.join('\n');
        const first = await assemble(source, { org: 0x10000 });
        if (!first.ok) throw new Error(`${source}: ${first.errors.map(formatAsmError).join('; ')}`);
        // Each source line is one instruction, and the disassembly finds exactly those.
        const lines = await disassemble(first.bytes, 0x10000);
        expect(lines.map((l) => [l.addr, l.len])).toEqual(first.lines.map((l) => [l.addr, l.bytes.length]));
        const text = lines.map((l) => l.text).join('\n');
        const again = await assemble(text, { org: 0x10000 });
        if (!again.ok) throw new Error(`${source} -> ${text}: ${again.errors.map(formatAsmError).join('; ')}`);
        expect(`${text}\n${hex(again.bytes)}`).toBe(`${text}\n${hex(first.bytes)}`);
      }),
      { numRuns: 400, seed: 20220601 },
    );
  });
});
