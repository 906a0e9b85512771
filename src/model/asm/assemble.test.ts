// The assembler as a whole: layout, labels, directives, data, and every kind of error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble, formatAsmError, type AsmResult } from './index';

const ORG = 0x10000;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function ok(source: string, org = ORG): Promise<AsmResult & { ok: true }> {
  const r = await assemble(source, { org });
  if (!r.ok) throw new Error(r.errors.map(formatAsmError).join('; '));
  return r;
}
const bytes = async (source: string) => hex((await ok(source)).bytes);
async function errors(source: string): Promise<string[]> {
  const r = await assemble(source, { org: ORG });
  if (r.ok) throw new Error('assembled');
  return r.errors.map(formatAsmError);
}

describe('output', () => {
  it('gives bytes, org, symbols and one line record per emitting line', async () => {
    const r = await ok('start:\n  sti\n\n  hlt ; wait\n.spin: jmp .spin\nmsg: db "hi", 0\n');
    expect(hex(r.bytes)).toBe('fbf4ebfe686900');
    expect(r.org).toBe(ORG);
    expect(r.lines.map((l) => [l.line, l.addr, hex(l.bytes)])).toEqual([
      [2, ORG, 'fb'], [4, ORG + 1, 'f4'], [5, ORG + 2, 'ebfe'], [6, ORG + 4, '686900'],
    ]);
    expect([...r.symbols]).toEqual([['start', ORG], ['start.spin', ORG + 2], ['msg', ORG + 4]]);
  });

  it('accepts CRLF and CR line ends, tabs and any case for keywords', async () => {
    expect(await bytes('STI\r\n\tHLT\rMov EAX, 1')).toBe('fbf4b801000000');
  });

  it('assembles an empty source to no bytes', async () => {
    const r = await ok('; nothing\n\n');
    expect(r.bytes.length).toBe(0);
    expect(r.lines).toEqual([]);
  });
});

describe('labels', () => {
  it('scopes local labels to the previous global label', async () => {
    const r = await ok('a:\n.l: dec ecx\n jnz .l\nb:\n.l: jmp .l\n jmp a.l\n');
    expect(hex(r.bytes)).toBe('ffc975fcebfeebf8');
    expect(r.symbols.get('a.l')).toBe(ORG);
    expect(r.symbols.get('b.l')).toBe(ORG + 4);
  });

  it('resolves forward references, and lets labels go without a colon before data and equ', async () => {
    expect(await bytes('mov eax, value\njmp done\nvalue equ 0x1234\ntable db 1, 2\ndone: ret')).toBe('b834120000eb020102c3');
  });

  it('escapes a keyword with $', async () => {
    expect(await bytes('$eax: dd $eax - $$')).toBe('00000000');
  });

  it('makes a jump short when it reaches and near when it does not, in either direction', async () => {
    expect(await bytes(`jmp x\ntimes 127 nop\nx:`)).toMatch(/^eb7f/);
    expect(await bytes(`jmp x\ntimes 128 nop\nx:`)).toMatch(/^e980000000/);
    expect(await bytes(`x: times 126 nop\njmp x`)).toMatch(/eb80$/);
    expect(await bytes(`x: times 127 nop\njmp x`)).toMatch(/e97cffffff$/);
    expect(await bytes(`je x\ntimes 128 nop\nx:`)).toMatch(/^0f8480000000/);
    expect(await bytes(`jmp short x\nx:`)).toBe('eb00');
    expect(await bytes(`jmp near x\nx:`)).toBe('e900000000');
  });

  it('settles chains of jumps whose sizes depend on each other', async () => {
    const src = Array.from({ length: 40 }, (_, i) => `l${i}: jmp l${(i + 20) % 40}\ntimes 5 nop`).join('\n');
    const r = await ok(src);
    // Every jump spans 20 blocks of 7 or 10 bytes: beyond rel8, so all are near.
    expect(r.lines.filter((l) => l.bytes[0] === 0xe9)).toHaveLength(40);
  });

  it('keeps jumps to plain numbers near, as NASM does', async () => {
    expect(await bytes('jmp 0x10002')).toBe('e9fdffffff');
    expect(await bytes('jmp short 0x10002')).toBe('eb00');
  });
});

describe('data', () => {
  it('db/dw/dd/dq take numbers, characters and strings', async () => {
    expect(await bytes("db 1, -1, 'a', \"bc\", `\\t`")).toBe('01ff61626309');
    expect(await bytes("dw 0x1234, -2, 'a', 'abc'")).toBe('3412feff610061626300');
    expect(await bytes("dd 0xdeadbeef, 'ab'")).toBe('efbeadde61620000');
    expect(await bytes('dq -1, label\nlabel:')).toBe('ffffffffffffffff1000010000000000');
  });

  it('times repeats data and instructions, each copy at its own address', async () => {
    expect(await bytes("times 3 db 'ab'")).toBe('616261626162');
    expect(await bytes('times 2 jmp $')).toBe('ebfeebfe');
    expect(await bytes('times 0 db 1')).toBe('');
    expect(await bytes('db 1\ntimes 8-($-$$) db 0xcc')).toBe('01cccccccccccccc');
    expect(await bytes('times 2 dd $')).toBe('0000010004000100');
    const r = await ok('times 3 nop\nhlt');
    expect(r.lines.map((l) => [l.line, l.addr, hex(l.bytes)])).toEqual([[1, ORG, '909090'], [2, ORG + 3, 'f4']]);
  });

  it('resb/resw/resd/resq reserve zeroed space', async () => {
    expect(await bytes('resb 2\nresw 1\nresd 1\nresq 1\nhlt')).toBe('0'.repeat(32) + 'f4');
  });
});

describe('directives', () => {
  it('align pads with NOPs relative to the start', async () => {
    expect(await bytes('hlt\nalign 4\nhlt\nalign 4\nalign 1\nhlt')).toBe('f4909090f4909090f4');
    expect(hex((await ok('hlt\nalign 8\nx:', ORG + 3)).bytes)).toBe('f490909090909090');
  });

  it('org in the source sets the origin, once', async () => {
    const r = await ok('org 0x7c00\nstart: jmp start\ndw $$');
    expect(r.org).toBe(0x7c00);
    expect(r.symbols.get('start')).toBe(0x7c00);
    expect(hex(r.bytes)).toBe('ebfe007c');
  });

  it('bits 64, [bits 64] and use64 are accepted', async () => {
    expect(await bytes('bits 64\n[bits 64]\nuse64\nhlt')).toBe('f4');
  });

  it('default rel makes plain addresses RIP-relative; default abs and fs:/gs: stay absolute', async () => {
    expect(await bytes('default rel\nmov eax, [x]\nx:')).toBe('8b0500000000');
    expect(await bytes('default rel\nmov eax, [abs x]\nx:')).toBe('8b042507000100');
    expect(await bytes('default rel\nmov eax, [fs:0x28]')).toBe('648b042528000000');
    expect(await bytes('default rel\ndefault abs\nmov eax, [x]\nx:')).toBe('8b042507000100');
    expect(await bytes('mov eax, [rel x]\nx:')).toBe('8b0500000000');
  });
});

describe('errors', () => {
  it.each([
    // lexing and parsing
    ['mov eax, 1 # 2', "line 1, col 12: unexpected character '#'"],
    ['db "abc', 'line 1, col 4: unterminated string: missing closing "'],
    ['mov eax,', "line 1, col 9: expected an operand after ',', got the end of the line"],
    ['mov , eax', "line 1, col 5: expected an operand after 'mov', got ','"],
    ['mov eax, [rbx', "line 1, col 14: expected ']' to close the memory operand, got the end of the line"],
    ['mov eax, []', 'line 1, col 11: expected an address inside [ ]'],
    ['hlt hlt', "line 1, col 5: 'hlt' takes no operands"],
    ['nop 1 2', "line 1, col 7: expected the end of the line, got '2'"],
    ['eax: nop', "line 1, col 1: 'eax' is a register and cannot be a label"],
    ['x: nop\nx: nop', "line 2, col 1: label 'x' is already defined on line 1"],
    ['equ 5', "line 1, col 1: 'equ' needs a label before it: 'name equ value'"],
    ['section .text', "line 1, col 1: 'section' is not supported: guest code is one flat block of 64-bit code at 'org'"],
    ['default', "line 1, col 8: expected 'rel' or 'abs' after 'default', got the end of the line"],
    ['times 2 align 4', "line 1, col 1: 'times' repeats an instruction or data, not 'align'"],
    ['jmp far [rax]', 'line 1, col 5: far jumps and calls are not supported in a flat 64-bit guest'],
    ['mov dword eax, 1', "line 1, col 5: a size or jump keyword does not apply to register 'eax'"],
    ['mov eax, fs:rbx', "line 1, col 13: expected '[' after 'fs:', got 'rbx'"],
    ['mov eax, [word 0x10]', 'line 1, col 11: 16-bit addresses are not available in 64-bit mode'],
    ['mov eax, [rel rbx]', "line 1, col 10: 'rel' addresses relative to RIP and cannot add registers"],
    ['mov eax, [qword rbx]', "line 1, col 10: a 64-bit address ('qword') cannot use registers"],
    ['rep', "line 1, col 4: expected an instruction after the prefix 'rep'"],
    ['movaps xmm0, xmm1', "line 1, col 8: register 'xmm0' is not supported (general-purpose, segment, control and debug registers are)"],
    ['db', "line 1, col 3: expected a value after 'db'"],
    ['[foo 1]', "line 1, col 2: expected a directive inside [ ], got 'foo'"],
    ['[bits 64', "line 1, col 9: expected ']' to close the directive, got the end of the line"],
    ['5: nop', "line 1, col 1: expected an instruction or directive, got '5'"],
    ['rep 5', "line 1, col 5: expected an instruction, got '5'"],
    ['mov eax, fs:[gs:rbx]', 'line 1, col 14: a memory operand takes one segment override'],
    ['mov eax, strict [rbx]', "line 1, col 10: 'strict' does not apply to a memory operand"],
    ['jmp short [rbx]', "line 1, col 5: 'short' does not apply to a memory operand"],
    // choosing a form
    ['movz eax, bl', "line 1, col 1: unknown instruction 'movz'"],
    ['mov eax', "line 1, col 1: 'mov' takes 2 operands, got 1"],
    ['imul', "line 1, col 1: 'imul' takes 1, 2 or 3 operands, got 0"],
    ['bsf eax, foo', "line 1, col 10: expected a register or memory operand after ',', got 'foo'"],
    ['in bl, dx', "line 1, col 4: expected 'al', 'ax' or 'eax' after 'in', got 'bl'"],
    ['lidt rax', "line 1, col 6: expected a memory operand after 'lidt', got 'rax'"],
    ['shl eax, bl', "line 1, col 10: expected 'cl' or an immediate after ',', got 'bl'"],
    ['mov al, rbx', "line 1, col 9: operand size mismatch: 'al' is 8-bit, 'rbx' is 64-bit"],
    ['mov byte [rbx], eax', "line 1, col 17: operand size mismatch: 'byte [rbx]' is 8-bit, 'eax' is 32-bit"],
    ['movzx eax, ebx', "line 1, col 1: no form of 'movzx' takes 32-bit register, 32-bit register; it takes: movzx r16, r/m8; movzx r32, r/m8; movzx r64, r/m8; movzx r16, r/m16; movzx r32, r/m16; movzx r64, r/m16"],
    ['inc [rbx]', "line 1, col 5: operation size not specified: write byte, word, dword or qword before '[rbx]'"],
    ['lock mov [rbx], eax', "line 1, col 6: 'lock' cannot be used with 'mov'"],
    ['lock add eax, ebx', "line 1, col 6: 'lock' needs a memory operand"],
    ['rep add eax, ebx', "line 1, col 5: 'rep' cannot be used with 'add'"],
    ['repne movsb', "line 1, col 7: 'repne' cannot be used with 'movsb'"],
    ['fs hlt', "line 1, col 4: segment prefix 'fs' does not apply to 'hlt': it needs a memory operand"],
    ['fs stosb', "line 1, col 4: segment prefix 'fs' does not apply to 'stosb': its memory operand is ES:RDI, which cannot be overridden"],
    ['o16 hlt', "line 1, col 5: 'o16' does not apply to 'hlt'"],
    // values
    ['mov al, 0x1ff', 'line 1, col 9: immediate 0x1ff does not fit in 8 bits'],
    ['add rax, 0x80000000', 'line 1, col 10: immediate 0x80000000 does not fit in 32 bits sign-extended to 64'],
    ['int -129', 'line 1, col 5: immediate -0x81 does not fit in 8 bits'],
    ['db 256', 'line 1, col 4: value 0x100 does not fit in 8 bits'],
    ['dw -32769', 'line 1, col 4: value -0x8001 does not fit in 16 bits'],
    ['jmp loop2', "line 1, col 5: undefined label 'loop2'"],
    ['jmp short x\ntimes 200 nop\nx:', "line 1, col 5: jump target 0x100ca is out of range of 'jmp' (202 bytes away; short jumps reach -128..+127)"],
    ['loop x\ntimes 200 nop\nx:', "line 1, col 6: jump target 0x100ca is out of range of 'loop' (202 bytes away; short jumps reach -128..+127)"],
    ['mov ah, r8b', "line 1, col 1: 'ah', 'bh', 'ch' and 'dh' cannot be used in an instruction that needs a REX prefix"],
    ['mov eax, [rbx*3+rcx]', 'line 1, col 11: scale 3 is not 1, 2, 4 or 8'],
    ['mov eax, [rsp*2]', "line 1, col 11: 'rsp' cannot be an index register"],
    ['mov eax, [rbx+rcx+rdx]', 'line 1, col 10: an address has at most two registers: base + index*scale'],
    ['mov eax, [rbx*2+rcx*2]', 'line 1, col 10: only one register of an address can be scaled'],
    ['mov eax, [ax]', "line 1, col 11: 'ax' cannot address memory: use 64-bit (or 32-bit) general-purpose registers"],
    ['mov eax, [rbx+ecx]', 'line 1, col 10: an address cannot mix 64-bit and 32-bit registers'],
    ['mov eax, [rbx+0x80000000]', 'line 1, col 10: displacement 0x80000000 does not fit in a signed 32-bit field'],
    ['mov eax, [0x80000000]', 'line 1, col 10: address 0x80000000 is beyond a 32-bit absolute address; write [qword 0x80000000] with al, ax, eax or rax'],
    ['mov eax, [ebx+0x100000000]', 'line 1, col 10: displacement 0x100000000 does not fit in 32 bits'],
    ['mov eax, [byte rbx+0x80]', 'line 1, col 10: displacement 0x80 does not fit in a byte'],
    ['mov eax, [rel 0x100000000]', 'line 1, col 1: RIP-relative address is more than 2 GiB away'],
    // directives
    ['bits 32', "line 1, col 1: only 'bits 64' is supported: the guest runs in 64-bit mode"],
    ['org 1\norg 2', "line 2, col 1: 'org' is already given on line 1"],
    ['org -1', 'line 1, col 1: org -1 is not a valid address'],
    ['times -1 nop', "line 1, col 1: 'times' count -1 is negative"],
    ['align 3', "line 1, col 1: 'align 3': the alignment must be a power of two"],
    ['resb -1', 'line 1, col 6: reserve count -1 is out of range'],
    ['times 0x4000001 db 0', "line 1, col 1: 'times 67108865' would exceed 64 MiB"],
    ['times 0x2000000 db 0\ntimes 0x2000001 db 0', 'line 2, col 1: the program grows beyond 64 MiB here'],
    ['x: times ((y - x) % 3) + 1 db 0\ny:', 'line 1, col 4: the layout does not settle after 32 passes: this line keeps changing'],
  ])('%s', async (source, message) => {
    expect(await errors(source)).toEqual([message]);
  });

  it('reports every error of a source, in line order, and keeps going after each', async () => {
    expect(await errors('mov eax, 1\nfoo eax\nhlt\nmov al, 300\njmp nowhere\n db 1,\nok: nop')).toEqual([
      "line 2, col 1: unknown instruction 'foo'",
      'line 4, col 9: immediate 0x12c does not fit in 8 bits',
      "line 5, col 5: undefined label 'nowhere'",
      "line 6, col 7: expected a value after ','",
    ]);
  });

  it('reports circular definitions where they are used', async () => {
    expect(await errors('a equ b\nb equ a')).toEqual([
      "line 1, col 7: cannot resolve 'b': its definition is circular",
      "line 2, col 7: cannot resolve 'a': its definition is circular",
    ]);
    expect(await errors('a equ a + 1\ndq a')).toEqual([
      "line 1, col 7: cannot resolve 'a': its definition is circular",
      "line 2, col 4: cannot resolve 'a': its definition is circular",
    ]);
  });

  it('keeps the label of a line in error, so other lines do not fail for want of it', async () => {
    expect(await errors('jmp target\ntarget: movz eax, bl')).toEqual(["line 2, col 9: unknown instruction 'movz'"]);
    expect(await errors('jmp target\ntarget: mov eax, [rbx')).toEqual(["line 2, col 22: expected ']' to close the memory operand, got the end of the line"]);
  });

  it('rejects a bad origin without throwing', async () => {
    const r = await assemble('hlt', { org: -1 });
    expect(r).toEqual({ ok: false, errors: [{ line: 0, col: 0, message: 'org -1 is not a non-negative integer address' }] });
  });

  it('never throws, whatever the input', async () => {
    const alphabet = fc.constantFrom(...'mov add jmp eax rax [ ] + - * , : ; $ 0x1 times db "a \' ` \\ . x: byte ptr rel fs: lock rep 7 ( ) ~ % << \n'.split(' '));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(alphabet, fc.string()), { maxLength: 20 }), async (parts) => {
        const r = await assemble(parts.join(' '), { org: ORG });
        if (!r.ok) for (const e of r.errors) expect(e.line).toBeGreaterThan(0);
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});
