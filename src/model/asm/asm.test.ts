import { describe, expect, it } from 'vitest';
import { assemble, disassemble, formatAsmError } from './index';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('assemble', () => {
  it('assembles the scenario-format example', async () => {
    const r = await assemble('sti\nhlt\ncli\nout 0x80, al\n', { org: 0x10000 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(hex(r.bytes)).toBe('fbf4fae680');
    expect(r.org).toBe(0x10000);
    expect(r.lines.map((l) => [l.line, l.addr])).toEqual([[1, 0x10000], [2, 0x10001], [3, 0x10002], [4, 0x10003]]);
  });

  it('reports every error with line and column', async () => {
    const r = await assemble('hlt\nmovz eax, bl\nmov al, rbx\njmp loop2\n', { org: 0x10000 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map(formatAsmError)).toEqual([
      "line 2, col 1: unknown instruction 'movz'",
      "line 3, col 9: operand size mismatch: 'al' is 8-bit, 'rbx' is 64-bit",
      "line 4, col 5: undefined label 'loop2'",
    ]);
  });
});

describe('disassemble', () => {
  it('formats NASM syntax with addresses, bytes and mnemonics', async () => {
    const lines = await disassemble(Uint8Array.from([0xf3, 0x48, 0xa5, 0xe6, 0x80, 0x0f]), 0x1000);
    expect(lines.map((l) => [l.addr, l.len, l.text, l.mnemonic])).toEqual([
      [0x1000, 3, 'rep movsq', 'movsq'],
      [0x1003, 2, 'out 0x80, al', 'out'],
      [0x1005, 1, 'db 0x0f', 'db'],
    ]);
  });
});
