import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Code, Register, RepPrefixKind } from 'iced-x86';
import { toInstruction } from './assemble';
import { AF, ARITH, CF, flagEffect, OF, PF, SF, traceFlags, ZF } from './flags';
import { programArb } from './generators';
import { resolve, type Insn, type Item } from './program';
import { fcParams } from './seed';

const r = (reg: Register) => ({ reg });
const i = (v: number) => ({ imm: BigInt(v) });
const insn = (code: Code, ...ops: Insn['ops']): Insn => ({ code, ops });
const plain = (...insns: Insn[]): Item => ({ kind: 'plain', insns });

describe('flagEffect', () => {
  it.each([
    ['add', insn(Code.Add_rm32_r32, r(Register.EAX), r(Register.ECX)), ARITH, 0],
    ['and', insn(Code.And_rm32_r32, r(Register.EAX), r(Register.ECX)), ARITH & ~AF, AF],
    ['inc (CF untouched)', insn(Code.Inc_rm32, r(Register.EAX)), ARITH & ~CF, 0],
    ['mul', insn(Code.Mul_rm64, r(Register.RCX)), CF | OF, SF | ZF | AF | PF],
    ['div', insn(Code.Div_rm64, r(Register.RCX)), 0, ARITH],
    ['bt (ZF untouched)', insn(Code.Bt_rm32_imm8, r(Register.EAX), i(3)), CF, OF | SF | AF | PF],
    ['bsf', insn(Code.Bsf_r32_rm32, r(Register.EAX), r(Register.ECX)), ZF, CF | OF | SF | AF | PF],
    ['shl 1', insn(Code.Shl_rm32_1, r(Register.EAX), i(1)), ARITH & ~AF, AF],
    ['shl 5', insn(Code.Shl_rm32_imm8, r(Register.EAX), i(5)), CF | SF | ZF | PF, OF | AF],
    ['shl 32 (masked to 0)', insn(Code.Shl_rm32_imm8, r(Register.EAX), i(32)), 0, 0],
    ['shl r8 by 9 (CF too)', insn(Code.Shl_rm8_imm8, r(Register.AL), i(9)), SF | ZF | PF, CF | OF | AF],
    ['shl by CL (worst case)', insn(Code.Shl_rm16_CL, r(Register.AX), r(Register.CL)), 0, CF | OF | AF],
    ['rol 1', insn(Code.Rol_rm32_1, r(Register.EAX), i(1)), CF | OF, 0],
    ['rol 3', insn(Code.Rol_rm32_imm8, r(Register.EAX), i(3)), CF, OF],
    ['rcl r8 by 9 (a full turn)', insn(Code.Rcl_rm8_imm8, r(Register.AL), i(9)), 0, OF],
    ['rep cmpsb (RCX may be 0)', { code: Code.Cmpsb_m8_m8, ops: [], rep: RepPrefixKind.Repe, addrSize: 64 } as Insn, 0, 0],
  ])('%s', (_, x, defined, undef) => {
    const e = flagEffect(x);
    expect(e.defined).toBe(defined);
    expect(e.undefined).toBe(undef);
  });

  it('never leaves undefined less than iced-x86 says, and never calls a flag both', () => {
    fc.assert(
      fc.property(programArb(['alu', 'shift', 'rotate', 'mul', 'div', 'bittest', 'bitscan', 'unary', 'setcc', 'cmovcc', 'string']), (p) => {
        for (const it of resolve(p)) {
          if (it.kind !== 'plain') continue;
          for (const x of it.insns) {
            const e = flagEffect(x);
            expect(e.defined & e.undefined).toBe(0);
            const count = x.ops[1] && 'imm' in x.ops[1] ? Number(x.ops[1].imm) & 31 : -1;
            if (count === 0) continue; // iced does not model a count of 0 (no flag changes)
            const ins = toInstruction(x);
            const iced = ins.rflagsUndefined;
            ins.free();
            // iced's RflagsBits: OF=1 SF=2 ZF=4 AF=8 CF=16 PF=32.
            const icedUndef = [[1, OF], [2, SF], [4, ZF], [8, AF], [16, CF], [32, PF]].reduce((f, [b, m]) => (iced & b ? f | m : f), 0);
            expect(e.undefined & icedUndef).toBe(icedUndef);
          }
        }
      }),
      fcParams(200),
    );
  });
});

describe('traceFlags', () => {
  const and = insn(Code.And_rm32_r32, r(Register.EAX), r(Register.ECX));
  const mul = insn(Code.Mul_rm64, r(Register.RCX));
  const add = insn(Code.Add_rm32_r32, r(Register.EAX), r(Register.ECX));
  const setz = insn(Code.Sete_rm8, r(Register.DL));
  const pushf = insn(Code.Pushfq);

  it('lets a read of defined flags through', () => {
    expect(traceFlags([plain(and, setz)])).toEqual({ mayBeUndefined: AF, readsUndefined: false });
  });
  it('flags a read of an undefined flag', () => {
    expect(traceFlags([plain(mul, setz)]).readsUndefined).toBe(true);
    expect(traceFlags([plain(and, pushf)]).readsUndefined).toBe(true);
  });
  it('forgets undefined flags that a later instruction defines, but remembers they were', () => {
    expect(traceFlags([plain(mul, add, setz)])).toEqual({ mayBeUndefined: SF | ZF | AF | PF, readsUndefined: false });
  });
  it('does not count on an instruction a forward branch may skip', () => {
    const jmp: Item = { kind: 'branch', code: Code.Jmp_rel8_64, skip: 1 };
    expect(traceFlags([plain(mul), jmp, plain(add), plain(setz)]).readsUndefined).toBe(true);
    const jmp2: Item = { kind: 'branch', code: Code.Jmp_rel8_64, skip: 2 };
    expect(traceFlags([plain(mul), jmp2, plain(add), plain(and), plain(setz)]).readsUndefined).toBe(true);
    expect(traceFlags([plain(mul), jmp, plain(and), plain(add), plain(setz)]).readsUndefined).toBe(false);
  });
  it('gives up on an instruction whose result the SDM leaves undefined', () => {
    expect(traceFlags([plain(insn(Code.Bsf_r32_rm32, r(Register.EAX), r(Register.ECX)))]).readsUndefined).toBe(true);
    expect(traceFlags([plain(insn(Code.Bswap_r16, r(Register.AX)))]).readsUndefined).toBe(true);
    expect(traceFlags([plain(insn(Code.Bswap_r32, r(Register.EAX)))]).readsUndefined).toBe(false);
  });

  it('sees a loop body read what its previous iteration left undefined', () => {
    const loop: Item = { kind: 'loop', code: Code.Loop_rel8_64_RCX, count: 2, body: [setz, mul] };
    expect(traceFlags([plain(add), loop]).readsUndefined).toBe(true);
    const loope: Item = { kind: 'loop', code: Code.Loope_rel8_64_RCX, count: 2, body: [mul] };
    expect(traceFlags([loope]).readsUndefined).toBe(true);
  });
});
