// Moves, conversions, exchanges, conditional moves and sets, the stack, and control transfer:
// operand forms (ModRM, SIB, RIP-relative, moffs, byte registers) and their effects.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fcParams } from './support/seed';
import * as abi from '../src/abi';
import type { Core } from '../../src/model/cpu/core';
import { machine, step, load, exitInfo, hex, STACK } from '../../src/model/cpu/testkit';

let core: Core;
beforeAll(async () => { core = await machine(); });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe('MOV and addressing', () => {
  it('32-bit writes zero the upper half; 8- and 16-bit writes merge', () => {
    expect(step(core, hex`89 c8`, { rax: (1n << 64n) - 1n, rcx: 5n }).rax).toBe(5n); // mov eax, ecx
    expect(step(core, hex`66 89 c8`, { rax: 0xffff_ffffn, rcx: 5n }).rax).toBe(0xffff_0005n); // mov ax, cx
    expect(step(core, hex`88 c8`, { rax: 0xffffn, rcx: 5n }).rax).toBe(0xff05n); // mov al, cl
  });

  it('AH..BH without REX, SPL..DIL with it', () => {
    expect(step(core, hex`88 e8`, { rax: 0n, rcx: 0x5600n, rbp: 0x34n }).rax).toBe(0x56n); // mov al, ch
    expect(step(core, hex`40 88 e8`, { rax: 0n, rcx: 0x5600n, rbp: 0x34n }).rax).toBe(0x34n); // mov al, bpl
    expect(step(core, hex`88 c4`, { rax: 0x11n }).rax).toBe(0x1111n); // mov ah, al
  });

  it('SIB with scale and displacement, RIP-relative, moffs, and LEA of each', () => {
    core.writeU64(0x2010 + 3 * 8, 0xdeadn);
    // 48 8b 44 cb 10 ; mov rax, [rbx + rcx*8 + 0x10]
    expect(step(core, hex`48 8b 44 cb 10`, { rbx: 0x2000n, rcx: 3n }).rax).toBe(0xdeadn);
    // 48 8d 44 cb 10 ; lea rax, [rbx + rcx*8 + 0x10]
    expect(step(core, hex`48 8d 44 cb 10`, { rbx: 0x2000n, rcx: 3n }).rax).toBe(0x2028n);
    // 48 8b 05 f9 0f 00 00 ; mov rax, [rel 0x2000] (the next instruction is at 0x1007)
    core.writeU64(0x2000, 0x77n);
    expect(step(core, hex`48 8b 05 f9 0f 00 00`).rax).toBe(0x77n);
    // 48 8d 05 00 00 00 00 ; lea rax, [rel $+7]
    expect(step(core, hex`48 8d 05 00 00 00 00`).rax).toBe(0x1007n);
    // 48 a1 00 20 00 00 00 00 00 00 ; mov rax, [qword 0x2000]
    expect(step(core, hex`48 a1 00 20 00 00 00 00 00 00`).rax).toBe(0x77n);
    // 67 8b 03 ; mov eax, [ebx]: the address is 32 bits
    expect(step(core, hex`67 8b 03`, { rbx: 0xffff_ffff_0000_2000n }).rax).toBe(0x77n);
    // 8b 04 25 00 20 00 00 ; mov eax, [0x2000] (SIB, no base, no index)
    expect(step(core, hex`8b 04 25 00 20 00 00`).rax).toBe(0x77n);
    // 41 8b 44 24 08 ; mov eax, [r12 + 8] (SIB needed for r12)
    core.writeU64(0x2008, 0x99n);
    expect(step(core, hex`41 8b 44 24 08`, { r12: 0x2000n }).rax).toBe(0x99n);
    // 41 8b 45 00 ; mov eax, [r13 + 0]
    expect(step(core, hex`41 8b 45 00`, { r13: 0x2008n }).rax).toBe(0x99n);
    // 42 8b 04 23 ; mov eax, [rbx + r12]
    expect(step(core, hex`42 8b 04 23`, { rbx: 0x2000n, r12: 8n }).rax).toBe(0x99n);
    // 48 c7 00 ff ff ff ff ; mov qword [rax], -1
    step(core, hex`48 c7 00 ff ff ff ff`, { rax: 0x2000n });
    expect(core.readU64(0x2000)).toBe((1n << 64n) - 1n);
    // 48 b8 ... ; mov rax, imm64
    expect(step(core, hex`48 b8 f0 de bc 9a 78 56 34 12`).rax).toBe(0x123456789abcdef0n);
  });

  it('MOVZX, MOVSX, MOVSXD, CBW..CQO, BSWAP', () => {
    fc.assert(fc.property(u64, u64, (a, c) => {
      expect(step(core, hex`48 0f b6 c1`, { rax: a, rcx: c }).rax).toBe(c & 0xffn); // movzx rax, cl
      expect(step(core, hex`0f bf c1`, { rax: a, rcx: c }).rax).toBe(BigInt.asUintN(32, BigInt.asIntN(16, c))); // movsx eax, cx
      expect(step(core, hex`48 63 c1`, { rax: a, rcx: c }).rax).toBe(BigInt.asUintN(64, BigInt.asIntN(32, c))); // movsxd rax, ecx
      expect(step(core, hex`48 98`, { rax: a }).rax).toBe(BigInt.asUintN(64, BigInt.asIntN(32, a))); // cdqe
      expect(step(core, hex`48 99`, { rax: a, rdx: c }).rdx).toBe(a >> 63n ? (1n << 64n) - 1n : 0n); // cqo
      expect(step(core, hex`48 0f c8`, { rax: a }).rax).toBe(BigInt('0x' + a.toString(16).padStart(16, '0').match(/../g)!.reverse().join(''))); // bswap rax
    }), fcParams(40));
    expect(step(core, hex`66 0f c8`, { rax: 0x1234_5678n }).rax).toBe(0x1234_0000n); // bswap ax: cleared here
  });

  it('XCHG, XADD, CMPXCHG', () => {
    let out = step(core, hex`48 87 c8`, { rax: 1n, rcx: 2n }); // xchg rax, rcx
    expect([out.rax, out.rcx]).toEqual([2n, 1n]);
    out = step(core, hex`41 90`, { rax: 1n, r8: 0xffff_ffff_0000_0002n }); // xchg r8d, eax
    expect([out.rax, out.r8]).toEqual([2n, 1n]);
    expect(step(core, hex`90`, { rax: 0xffff_ffff_0000_0001n }).rax).toBe(0xffff_ffff_0000_0001n); // nop
    out = step(core, hex`48 0f c1 c8`, { rax: 5n, rcx: 7n }); // xadd rax, rcx
    expect([out.rax, out.rcx]).toEqual([12n, 5n]);
    core.writeU64(0x2000, 10n);
    out = step(core, hex`f0 48 0f b1 0b`, { rax: 10n, rbx: 0x2000n, rcx: 99n }); // lock cmpxchg [rbx], rcx
    expect([core.readU64(0x2000), out.rflags & 0x40n]).toEqual([99n, 0x40n]);
    out = step(core, hex`f0 48 0f b1 0b`, { rax: 10n, rbx: 0x2000n, rcx: 5n });
    expect([core.readU64(0x2000), out.rax, out.rflags & 0x40n]).toEqual([99n, 99n, 0n]);
  });

  it('CMOVcc and SETcc read every condition code', () => {
    // cc: flags combination that makes it true
    const conds: [number, bigint][] = [[0, 0x800n], [2, 1n], [4, 0x40n], [6, 0x40n], [8, 0x80n], [10, 4n], [12, 0x80n], [14, 0x40n]];
    for (const [cc, fl] of conds) {
      for (const [c, expectTrue] of [[cc, true], [cc + 1, false]] as const) {
        const out = step(core, [0x48, 0x0f, 0x40 + c, 0xc1, 0x0f, 0x90 + c, 0xc2], { rax: 1n, rcx: 2n, rdx: 0xffn, rflags: fl | 2n });
        expect([out.rax, out.rdx], `cc ${c}`).toEqual([expectTrue ? 2n : 1n, expectTrue ? 1n : 0n]);
      }
    }
    // a false 32-bit CMOV still zero-extends
    expect(step(core, hex`0f 44 c1`, { rax: 0xffff_ffff_0000_0001n, rflags: 2n }).rax).toBe(1n);
  });

  it('MOV to and from segment registers keeps the selectors; MOV CS is #UD', () => {
    // 8e d8    ; mov ds, eax
    // 8c db    ; mov ebx, ds
    // 66 8c d1 ; mov cx, ss
    // 8c 0f    ; mov [rdi], cs
    const out = step(core, hex`8e d8 8c db 66 8c d1 8c 0f`, { rax: 0x2bn, rbx: (1n << 64n) - 1n, rcx: 0xffff_0000n, rdi: 0x2000n });
    expect([core.u32(0, abi.S_DS) & 0xffff, out.rbx, out.rcx]).toEqual([0x2b, 0x2bn, 0xffff_0010n]);
    expect(core.readMem(0x2000, 2)).toEqual(new Uint8Array([0x08, 0]));
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.UD_VECTOR);
    load(core, hex`8e c8`); // mov cs, eax
    expect(core.run(0, 100)).toBe(abi.RUN_EXIT);
    expect(exitInfo(core).intrInfo & 0xff).toBe(abi.UD_VECTOR);
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 0);
  });

  it('LOCK on a non-lockable form or a register destination is #UD', () => {
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.UD_VECTOR);
    for (const code of [hex`f0 01 c0`, hex`f0 8b 03`, hex`f0 90`]) {
      load(core, code);
      expect(core.run(0, 100)).toBe(abi.RUN_EXIT);
      expect(exitInfo(core).intrInfo & 0xff).toBe(abi.UD_VECTOR);
    }
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 0);
  });
});

describe('stack and calls', () => {
  it('PUSH/POP of registers, immediates and memory, 64- and 16-bit', () => {
    let out = step(core, hex`6a ff 5b`); // push -1; pop rbx
    expect([out.rbx, out.rsp]).toEqual([(1n << 64n) - 1n, BigInt(STACK)]);
    out = step(core, hex`66 68 34 12 66 5b`, { rbx: 0xffff_0000n }); // push word 0x1234; pop bx
    expect([out.rbx, out.rsp]).toEqual([0xffff_1234n, BigInt(STACK)]);
    out = step(core, hex`54 58`); // push rsp; pop rax: the value before the push
    expect(out.rax).toBe(BigInt(STACK));
    core.writeU64(0x2000, 0xabn);
    step(core, hex`ff 33 8f 43 08`, { rbx: 0x2000n }); // push qword [rbx]; pop qword [rbx+8]
    expect(core.readU64(0x2008)).toBe(0xabn);
    step(core, hex`ff 33 8f 04 24`, { rbx: 0x2000n }); // push qword [rbx]; pop qword [rsp]: addressed after the increment
    expect(core.readU64(STACK)).toBe(0xabn);
  });

  it('CALL/RET (relative, indirect, RET imm16), LEAVE, PUSHF/POPF', () => {
    // e8 01 00 00 00 ; call $+6
    // f4             ; hlt   <- returns here
    // c3             ; ret
    load(core, hex`e8 01 00 00 00 f4 c3`);
    expect(core.run(0, 1000)).toBe(abi.RUN_EXIT);
    expect([core.reg(0, 'rip'), core.reg(0, 'rsp')]).toEqual([0x1005n, BigInt(STACK)]);
    // ff d0 ; call rax  -> at 0x1010: c2 10 00 ; ret 16
    load(core, hex`ff d0 f4`);
    core.writeMem(0x1010, hex`c2 10 00`);
    core.setReg(0, 'rax', 0x1010n);
    expect(core.run(0, 1000)).toBe(abi.RUN_EXIT);
    expect([core.reg(0, 'rip'), core.reg(0, 'rsp')]).toEqual([0x1002n, BigInt(STACK + 16)]);
    const out = step(core, hex`c9`, { rbp: 0x7000n }); // leave
    expect(out.rsp).toBe(0x7008n);
    expect(step(core, hex`9c 58`, { rflags: 0x8d7n }).rax).toBe(0x8d7n); // pushfq; pop rax
  });

  it('a RET to a non-canonical address is #GP at the RET', () => {
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.GP_VECTOR);
    load(core, hex`c3`);
    core.writeU64(STACK, 0x8000_0000_0000_0000n);
    expect(core.run(0, 100)).toBe(abi.RUN_EXIT);
    expect([exitInfo(core).intrInfo & 0xff, core.reg(0, 'rip'), core.reg(0, 'rsp')]).toEqual([abi.GP_VECTOR, 0x1000n, BigInt(STACK)]);
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 0);
  });
});

describe('branches', () => {
  it('Jcc short and near, LOOP, LOOPE, JRCXZ, JECXZ', () => {
    // b9 05 00 00 00 ; mov ecx, 5
    // 48 ff c0       ; l: inc rax
    // e2 fb          ; loop l
    let out = step(core, hex`b9 05 00 00 00 48 ff c0 e2 fb`, { rax: 0n });
    expect([out.rax, out.rcx]).toEqual([5n, 0n]);
    // 0f 84 02 00 00 00 ; jz near $+8: not taken with ZF = 0, so step() reaches its HLT right after
    step(core, hex`0f 84 02 00 00 00`, { rflags: 2n });
    // e3 01 ; jrcxz $+3: skips the first HLT when RCX = 0
    // f4 f4 ; hlt; hlt
    load(core, hex`e3 01 f4 f4`);
    core.setReg(0, 'rcx', 0n);
    expect(core.run(0, 100)).toBe(abi.RUN_EXIT);
    expect(core.reg(0, 'rip')).toBe(0x1003n);
    load(core, hex`67 e3 01 f4 f4`); // jecxz $+4: looks at ECX only
    core.setReg(0, 'rcx', 0x1_0000_0000n);
    expect(core.run(0, 100)).toBe(abi.RUN_EXIT);
    expect(core.reg(0, 'rip')).toBe(0x1004n);
  });

  it('a jump out of RAM exits with a fetch violation at the target', () => {
    load(core, hex`e9 00 00 00 80`); // jmp $+5-2^31: a negative target
    expect(core.run(0, 100)).toBe(abi.RUN_EXIT);
    const x = exitInfo(core);
    expect([x.reason, Number(x.qual) & 7]).toEqual([abi.EXIT_REASON_EPT_VIOLATION, abi.EPTQ_FETCH]);
    expect(core.reg(0, 'rip')).toBe(BigInt.asUintN(64, 0x1005n - 0x8000_0000n));
  });

  it('an instruction that runs off the end of RAM faults on the first byte outside', () => {
    const end = 1 << 20;
    load(core, hex`48 b8 00 00`, { at: end - 4 }); // mov rax, imm64: needs 10 bytes
    expect(core.run(0, 100)).toBe(abi.RUN_EXIT);
    const x = exitInfo(core);
    expect([x.reason, x.gpa, core.reg(0, 'rip')]).toEqual([abi.EXIT_REASON_EPT_VIOLATION, BigInt(end), BigInt(end - 4)]);
  });

  it('more than 15 bytes is #GP(0)', () => {
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.GP_VECTOR);
    load(core, [...Array(15).fill(0x66), 0x90]);
    expect(core.run(0, 100)).toBe(abi.RUN_EXIT);
    expect(exitInfo(core).intrInfo & 0xff).toBe(abi.GP_VECTOR);
    load(core, [...Array(14).fill(0x66), 0x90, 0xf4]); // 15 bytes are fine
    expect(core.run(0, 100)).toBe(abi.RUN_EXIT);
    expect(exitInfo(core).reason).toBe(abi.EXIT_REASON_HLT);
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 0);
  });
});

describe('flags, conversions and descriptor tables', () => {
  it('SAHF/LAHF move SF ZF AF PF CF through AH; STC/CMC/CLC/STD/CLD', () => {
    // 9e ; sahf   (AH = 0xd5: all five set)
    // 9f ; lahf
    let out = step(core, hex`9e 9f`, { rax: 0xd500n, rflags: 0x2n });
    expect(out.rflags & 0xd5n).toBe(0xd5n);
    expect((out.rax >> 8n) & 0xffn).toBe(0xd7n); // bit 1 reads as 1
    // f9 f5 ; stc; cmc -> CF 0, then f8 clc keeps it 0; fd std sets DF
    out = step(core, hex`f9 f5 fd`, { rflags: 0x2n });
    expect(out.rflags & 0x401n).toBe(0x400n);
    expect(step(core, hex`fc`, { rflags: 0x402n }).rflags & 0x400n).toBe(0n);
  });

  it('CBW/CWDE/CWD/CDQ sign-extend the accumulator', () => {
    expect(step(core, hex`66 98`, { rax: 0xffff_0080n }).rax).toBe(0xffff_ff80n); // cbw
    expect(step(core, hex`98`, { rax: 0xffff_8000n }).rax).toBe(0xffff_8000n); //  cwde: the upper half cleared
    expect(step(core, hex`66 99`, { rax: 0x8000n, rdx: 0x1234_0000n }).rdx).toBe(0x1234_ffffn); // cwd
    expect(step(core, hex`99`, { rax: 0x8000_0000n, rdx: 5n }).rdx).toBe(0xffff_ffffn); // cdq
  });

  it('LOOPE and LOOPNE stop on ZF as well as on RCX', () => {
    // 48 ff c0 ; l: inc rax
    // 48 39 d8 ; cmp rax, rbx
    // e0 f8    ; loopne l   (until rax == rbx or rcx == 0)
    let out = step(core, hex`48 ff c0 48 39 d8 e0 f8`, { rax: 0n, rbx: 3n, rcx: 10n });
    expect([out.rax, out.rcx]).toEqual([3n, 7n]);
    out = step(core, hex`48 ff c0 48 39 d8 e1 f8`, { rax: 0n, rbx: 0n, rcx: 10n }); // loope: stops at once
    expect([out.rax, out.rcx]).toEqual([1n, 9n]);
  });

  it('LIDT loads IDTR and SIDT stores it; a non-canonical base is #GP(0)', () => {
    core.writeMem(0x2000, [0xff, 0x0f, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
    step(core, hex`0f 01 1b`, { rbx: 0x2000n }); // lidt [rbx]
    expect([core.u64(0, abi.S_IDTR_BASE), core.u32(0, abi.S_IDTR_LIMIT)]).toEqual([0x3000n, 0xfff]);
    step(core, hex`0f 01 0b`, { rbx: 0x2100n }); // sidt [rbx]
    expect(Array.from(core.readMem(0x2100, 10))).toEqual([0xff, 0x0f, 0x00, 0x30, 0, 0, 0, 0, 0, 0]);
    core.writeMem(0x2000, [0xff, 0x0f, 0, 0, 0, 0, 0, 0, 0x80, 0]);
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.GP_VECTOR);
    load(core, hex`0f 01 1b`);
    core.setReg(0, 'rbx', 0x2000n);
    expect(core.run(0, 100)).toBe(abi.RUN_EXIT);
    expect(exitInfo(core).intrInfo & 0xff).toBe(abi.GP_VECTOR);
    expect(core.u64(0, abi.S_IDTR_BASE)).toBe(0x3000n);
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 0);
  });

  it('INT1 is a privileged software exception that the #DB bitmap bit intercepts', () => {
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 1 << abi.DB_VECTOR);
    load(core, hex`f1`);
    expect(core.run(0, 100)).toBe(abi.RUN_EXIT);
    const x = exitInfo(core);
    expect(x.intrInfo).toBe((abi.INTR_INFO_VALID | (abi.INTR_TYPE_PRIV_SW_EXCEPTION << 8) | abi.DB_VECTOR) >>> 0);
    expect(x.len).toBe(1);
    core.setU32(0, abi.S_EXCEPTION_BITMAP, 0);
  });
});

