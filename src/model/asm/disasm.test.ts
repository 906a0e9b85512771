import { describe, expect, it } from 'vitest';
import { assemble, disassemble, type Syntax } from './index';

const b = (h: string) => Uint8Array.from(Buffer.from(h.replace(/ /g, ''), 'hex'));
const texts = async (h: string, syntax?: Syntax, addr = 0x10000) => (await disassemble(b(h), addr, { syntax })).map((l) => l.text);

describe('disassemble', () => {
  const sample = 'f4 f390 0f01c9 e680 0f01c8 f348a5 f00103 8b0500010000 ebfe';
  it.each([
    ['nasm', ['hlt', 'pause', 'mwait', 'out 0x80, al', 'monitor', 'rep movsq', 'lock add [rbx], eax', 'mov eax, [rel 0x10117]', 'jmp short 0x10017']],
    ['gas', ['hlt', 'pause', 'mwait', 'out %al, $0x80', 'monitor', 'rep movsq (%rsi), (%rdi)', 'lock add %eax, (%rbx)', 'mov 0x10117, %eax', 'jmp 0x10017']],
    ['intel', ['hlt', 'pause', 'mwait', 'out 0x80, al', 'monitor', 'rep movsq [rdi], [rsi]', 'lock add [rbx], eax', 'mov eax, [0x10117]', 'jmp short 0x10017']],
    ['masm', ['hlt', 'pause', 'mwait rax, rcx', 'out 0x80, al', 'monitor rax, rcx, rdx', 'rep movsq', 'lock add [rbx], eax', 'mov eax, [0x10117]', 'jmp short 0x10017']],
  ] as const)('formats %s syntax', async (syntax, expected) => {
    expect(await texts(sample, syntax)).toEqual(expected);
  });

  it('gives each instruction its address, length, bytes and bare mnemonic', async () => {
    const lines = await disassemble(b('f348a5 e680 f00103'), 0x7000);
    expect(lines.map((l) => [l.addr, l.len, Buffer.from(l.bytes).toString('hex'), l.mnemonic])).toEqual([
      [0x7000, 3, 'f348a5', 'movsq'],
      [0x7003, 2, 'e680', 'out'],
      [0x7005, 3, 'f00103', 'add'],
    ]);
  });

  it('stops at undecodable bytes and shows them as db', async () => {
    expect(await texts('90 f0f4 90 90')).toEqual(['nop', 'db 0xf0, 0xf4']);
    expect(await texts('90 0f', 'gas')).toEqual(['nop', '.byte 0x0f']);
    expect(await texts('90 48')).toEqual(['nop', 'db 0x48']);
    const last = (await disassemble(b('90 0f0b 0fff'), 0x10))[2];
    expect([last.addr, last.len, last.mnemonic]).toEqual([0x13, 2, 'db']);
  });

  it('prints numbers in hex, including 64-bit immediates with a small low half', async () => {
    expect(await texts('48b80000000001000000 b805000000')).toEqual(['mov rax, 0x100000000', 'mov eax, 0x5']);
  });

  it('shows prefixes that 64-bit mode ignores', async () => {
    expect(await texts('268b03 2e8b03')).toEqual(['mov eax, [es:rbx]', 'mov eax, [cs:rbx]']);
  });

  it('stops after max lines, and returns nothing for no bytes', async () => {
    expect(await disassemble(b('90909090'), 0, { max: 2 })).toHaveLength(2);
    expect(await disassemble(new Uint8Array(0), 0)).toEqual([]);
  });

  it('uses the address for branch targets', async () => {
    expect(await texts('ebfe e8fbffffff', 'nasm', 0x3fff000)).toEqual(['jmp short 0x3fff000', 'call 0x3fff002']);
  });

  it('reads back what the assembler wrote, line for line', async () => {
    const r = await assemble('start: mov ecx, 10\n.l: out 0x80, al\nloop .l\nhlt\njmp start', { org: 0x10000 });
    if (!r.ok) throw new Error('assembly failed');
    const lines = await disassemble(r.bytes, r.org);
    expect(lines.map((l) => [l.addr, l.text])).toEqual([
      [0x10000, 'mov ecx, 0xa'],
      [0x10005, 'out 0x80, al'],
      [0x10007, 'loop 0x10005'],
      [0x10009, 'hlt'],
      [0x1000a, 'jmp short 0x10000'],
    ]);
    expect(lines.map((l) => l.addr)).toEqual(r.lines.map((l) => l.addr));
  });

  it('rejects an unknown syntax with a clear message', async () => {
    await expect(disassemble(b('90'), 0, { syntax: 'att' as Syntax })).rejects.toThrow("unknown syntax 'att': use nasm, gas, intel or masm");
  });
});
