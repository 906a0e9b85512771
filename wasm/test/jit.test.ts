// The loop compiler (wasm/src/jit.ts) against the interpreter: random loops built from the
// instructions it compiles, run on two cores (compiler on at once, compiler off) with the same cycle
// budgets; after every run() call both must agree on every register, the flags, memory, the counters
// and the exit. Some loops touch memory outside RAM or write into their own code, so the hand-back to
// the interpreter is exercised too.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fcParams } from './support/seed';
import * as abi from '../src/abi';
import type { Core } from '../../src/model/cpu/core';
import { machine, load, exitInfo, hex } from '../../src/model/cpu/testkit';

const BUF = 0x20000;
const DST = [0, 2, 3, 5, 7, 8, 9, 10, 11]; // never RCX (the counter), RSP, RSI (the buffer's base)
const SRC = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

type Gen = fc.Arbitrary<number[]>;
const reg = (set: number[]) => fc.constantFrom(...set);
const size = fc.constantFrom(8, 16, 32, 64);

function rex(w: boolean, r: number, b: number, x = 0, force = false): number[] {
  const v = 0x40 | (w ? 8 : 0) | ((r >> 3) << 2) | ((x >> 3) << 1) | (b >> 3);
  return v !== 0x40 || force ? [v] : [];
}
/** Prefixes and opcode for an operation of this size (byte ops always take REX: no AH..BH). */
function sized(n: number, op8: number, op: number, r: number, b: number): number[] {
  return [...(n === 16 ? [0x66] : []), ...rex(n === 64, r, b, 0, n === 8), n === 8 ? op8 : op];
}
const le = (v: number, bytes: number) => Array.from({ length: bytes }, (_, i) => (v >>> (8 * i)) & 0xff);
/** [rsi + disp32] with the reg field r. */
const memRsi = (r: number, disp: number) => [0x80 | ((r & 7) << 3) | 6, ...le(disp, 4)];

const aluRR: Gen = fc.tuple(fc.integer({ min: 0, max: 8 }), size, reg(DST), reg(SRC)).map(([k, n, d, s]) =>
  [...sized(n, k === 8 ? 0x84 : k * 8, k === 8 ? 0x85 : k * 8 + 1, s, d), 0xc0 | ((s & 7) << 3) | (d & 7)]);
const aluRI: Gen = fc.tuple(fc.integer({ min: 0, max: 7 }), size, reg(DST), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })).map(([k, n, d, imm]) =>
  [...sized(n, 0x80, 0x81, 0, d), 0xc0 | (k << 3) | (d & 7), ...le(imm, n === 8 ? 1 : n === 16 ? 2 : 4)]);
const incDec: Gen = fc.tuple(fc.boolean(), size, reg(DST)).map(([dec, n, d]) => [...sized(n, 0xfe, 0xff, 0, d), 0xc0 | (dec ? 8 : 0) | (d & 7)]);
const movRR: Gen = fc.tuple(size, reg(DST), reg(SRC)).map(([n, d, s]) => [...sized(n, 0x88, 0x89, s, d), 0xc0 | ((s & 7) << 3) | (d & 7)]);
const movImm64: Gen = fc.tuple(reg(DST), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })).map(([d, v]) =>
  [...rex(true, 0, d), 0xb8 + (d & 7), ...Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn))]);
const lea: Gen = fc.tuple(reg(DST), reg(SRC.filter((r) => r !== 4)), fc.integer({ min: 0, max: 3 }), fc.integer({ min: -128, max: 127 })).map(([d, i, sc, disp]) =>
  [...rex(true, d, 3, i), 0x8d, 0x44 | ((d & 7) << 3), (sc << 6) | ((i & 7) << 3) | 3, disp & 0xff]); // lea d, [rbx + i*2^sc + disp8]
const disp = fc.integer({ min: 0, max: 0xff8 });
const load_: Gen = fc.tuple(size, reg(DST), disp).map(([n, d, o]) => [...sized(n, 0x8a, 0x8b, d, 6), ...memRsi(d, o)]);
const store: Gen = fc.tuple(size, reg(SRC), disp).map(([n, s, o]) => [...sized(n, 0x88, 0x89, s, 6), ...memRsi(s, o)]);
const aluMem: Gen = fc.tuple(fc.integer({ min: 0, max: 7 }), size, reg(DST), disp, fc.boolean()).map(([k, n, d, o, toMem]) =>
  [...sized(n, k * 8 + (toMem ? 0 : 2), k * 8 + (toMem ? 1 : 3), d, 6), ...memRsi(d, o)]);
const movx: Gen = fc.tuple(fc.constantFrom(0xb6, 0xb7, 0xbe, 0xbf), fc.constantFrom(16, 32, 64), reg(DST), reg(SRC), fc.boolean(), disp).map(([op, n, d, s, m, o]) =>
  [...(n === 16 ? [0x66] : []), ...rex(n === 64, d, m ? 6 : s, 0, true), 0x0f, op, ...(m ? memRsi(d, o) : [0xc0 | ((d & 7) << 3) | (s & 7)])]);
const pushPop: Gen = fc.tuple(reg(SRC), reg(DST)).map(([s, d]) => [...rex(false, 0, s), 0x50 + (s & 7), ...rex(false, 0, d), 0x58 + (d & 7)]);
const movsxd: Gen = fc.tuple(reg(DST), reg(SRC)).map(([d, s]) => [...rex(true, d, s), 0x63, 0xc0 | ((d & 7) << 3) | (s & 7)]);

const instruction = fc.oneof(aluRR, aluRR, aluRI, incDec, movRR, movImm64, lea, load_, store, aluMem, movx, pushPop, movsxd);

/** A loop: body, then DEC ECX + JNZ, LOOP, or CMP/JNE back to the start; then HLT. */
const program = fc.tuple(fc.array(instruction, { minLength: 1, maxLength: 12 }), fc.constantFrom('dec', 'loop', 'cmp')).map(([body, end]) => {
  const code = body.flat();
  const tail = end === 'dec' ? [0xff, 0xc9, 0x75] : end === 'loop' ? [0xe2] : [0x83, 0xe9, 0x01, 0x83, 0xf9, 0x00, 0x75];
  const rel = -(code.length + tail.length + 1);
  if (rel < -128) return null;
  return [...code, ...tail, rel & 0xff, 0xf4];
});

/**
 * A loop that calls a function, may branch forward over part of itself (a side exit from a compiled
 * trace), and whose function may return somewhere else than after its CALL (the RET guard):
 *   head: body1; call f; R: jmp short C; A: inc r11; C: body2; [jcc S]; body3; S: dec ecx; jnz head; hlt
 *   f:    fbody; [lea r13, [rel A]; mov [rsp], r13]; ret
 */
const withCalls = fc.record({
  body1: fc.array(instruction, { maxLength: 5 }), body2: fc.array(instruction, { maxLength: 5 }),
  body3: fc.array(instruction, { maxLength: 5 }), fbody: fc.array(instruction, { maxLength: 5 }),
  side: fc.option(fc.integer({ min: 0, max: 15 })), redirect: fc.boolean(),
}).map(({ body1, body2, body3, fbody, side, redirect }) => {
  const code: number[] = [];
  const at = () => CODE_AT + code.length;
  const rel32 = (from: number, to: number) => le(to - from, 4);
  code.push(...body1.flat());
  const callAt = at();
  code.push(0xe8, 0, 0, 0, 0); //                  call f (patched)
  code.push(0xeb, 3); //                           R: jmp short C
  const alt = at();
  code.push(0x49, 0xff, 0xc3); //                  A: inc r11
  code.push(...body2.flat());
  let sidePatch = -1;
  if (side !== null) { code.push(0x70 + side, 0); sidePatch = code.length - 1; }
  code.push(...body3.flat());
  if (sidePatch >= 0) code[sidePatch] = code.length - sidePatch - 1; // S
  code.push(0xff, 0xc9); //                        dec ecx
  const jnzAt = at();
  code.push(0x0f, 0x85, ...rel32(jnzAt + 6, CODE_AT)); // jnz head
  code.push(0xf4); //                              hlt
  const f = at();
  code.splice(callAt - CODE_AT + 1, 4, ...rel32(callAt + 5, f));
  code.push(...fbody.flat());
  if (redirect) {
    const leaAt = at();
    code.push(0x4c, 0x8d, 0x2d, ...rel32(leaAt + 7, alt)); // lea r13, [rel A]
    code.push(0x4c, 0x89, 0x2c, 0x24); //                    mov [rsp], r13
  }
  code.push(0xc3); //                              ret
  return code;
});
const CODE_AT = 0x1000;

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const NAMES = ['rax', 'rdx', 'rbx', 'rbp', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12'] as const;

function snapshot(core: Core) {
  const x = exitInfo(core);
  return {
    regs: core.regs(0), insns: core.u64(0, abi.S_INSNS), tsc: core.u64(0, abi.S_TSC),
    buf: Buffer.from(core.readMem(BUF, 0x1010)).toString('hex'), reason: x.reason, qual: x.qual, gpa: x.gpa,
  };
}

/** The same program, memory and registers in a core, its clocks at 0. */
function prepare(core: Core, code: number[], mem: number[], values: bigint[], count: number, rsi: bigint): void {
  load(core, code);
  core.writeMem(BUF, mem);
  NAMES.forEach((r, i) => core.setReg(0, r, values[i]));
  core.setReg(0, 'rcx', BigInt(count));
  core.setReg(0, 'rsi', rsi);
  core.setReg(0, 'rflags', 0x2n | (values[9] & 0x8d5n));
  core.setU64(0, abi.S_TSC, 0n);
  core.setU64(0, abi.S_INSNS, 0n);
}

/** Runs both cores budget by budget (then to the end), agreeing after every run. */
function runBoth(jit: Core, interp: Core, budgets: number[]): void {
  for (const b of [...budgets, 1_000_000]) {
    const r1 = jit.run(0, b), r2 = interp.run(0, b);
    expect(r1).toBe(r2);
    expect(snapshot(jit)).toEqual(snapshot(interp));
    if (r1 !== abi.RUN_BUDGET) break;
  }
}

describe('compiled loops agree with the interpreter', () => {
  let jit: Core, interp: Core;
  beforeAll(async () => {
    jit = await machine();
    interp = await machine();
    jit.x.setJitThreshold(1);
    interp.x.setJitThreshold(0);
  });

  it('register, memory and stack loops, run with random budgets', () => {
    fc.assert(fc.property(program, fc.array(u64, { minLength: 10, maxLength: 10 }), fc.integer({ min: 1, max: 60 }),
      fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 8, maxLength: 8 }), fc.constantFrom(0n, 0x8000_0000n, 0x400n),
      (code, values, count, budgets, far) => {
        fc.pre(code !== null);
        const seedMem = Array.from({ length: 0x1010 }, (_, i) => (i * 37 + Number(values[0] & 0xffn)) & 0xff);
        // RSI: the buffer, or (far) so near the end of RAM or past it that accesses leave RAM
        const rsi = far === 0n ? BigInt(BUF) : far === 0x400n ? BigInt((1 << 20) - 0x400) : far;
        for (const core of [jit, interp]) prepare(core, code!, seedMem, values, count, rsi);
        runBoth(jit, interp, budgets);
      }), fcParams(400));
    expect(jit.jit.errors).toEqual([]);
    expect(jit.jit.compiled).toBeGreaterThan(100);
  });

  it('loops through calls, with side exits and returns elsewhere, run with random budgets', () => {
    const before = jit.jit.compiled;
    fc.assert(fc.property(withCalls, fc.array(u64, { minLength: 10, maxLength: 10 }), fc.integer({ min: 1, max: 40 }),
      fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 8, maxLength: 8 }), (code, values, count, budgets) => {
        const seedMem = Array.from({ length: 0x1010 }, (_, i) => (i * 13) & 0xff);
        for (const core of [jit, interp]) prepare(core, code, seedMem, values, count, BigInt(BUF));
        runBoth(jit, interp, budgets);
      }), fcParams(300));
    expect(jit.jit.errors).toEqual([]);
    expect(jit.jit.compiled - before).toBeGreaterThan(100);
  });

  it('a loop that writes into its own code stops being compiled code at once', () => {
    // 48 ff c0             ; l: inc rax
    // c6 05 04 00 00 00 90 ; mov byte [rel l+14], 0x90 (turns the HLT after the loop into a NOP)
    // ff c9                ; dec ecx
    // 75 f2                ; jnz l
    // f4                   ; hlt  (becomes NOP)
    // 48 ff c3             ; inc rbx
    // f4                   ; hlt
    const code = hex`48 ff c0 c6 05 04 00 00 00 90 ff c9 75 f2 f4 48 ff c3 f4`;
    for (const core of [jit, interp]) {
      load(core, code);
      core.setReg(0, 'rcx', 100n);
      core.setReg(0, 'rax', 0n);
      core.setReg(0, 'rbx', 0n);
      expect(core.run(0, 1_000_000)).toBe(abi.RUN_EXIT);
    }
    expect(snapshot(jit)).toEqual(snapshot(interp));
    expect([jit.reg(0, 'rax'), jit.reg(0, 'rbx')]).toEqual([100n, 1n]);
  });

  it('the benchmark ALU loop, compiled, ends as it does interpreted', () => {
    // b9 40 42 0f 00 ; mov ecx, 1000000
    // 01 d8          ; l: add eax, ebx
    // 31 c3          ; xor ebx, eax
    // ff c9          ; dec ecx
    // 75 f8          ; jnz l
    // f4             ; hlt
    for (const core of [jit, interp]) {
      load(core, hex`b9 40 42 0f 00 01 d8 31 c3 ff c9 75 f8 f4`);
      core.setReg(0, 'rax', 1n);
      core.setReg(0, 'rbx', 2n);
      core.setU64(0, abi.S_TSC, 0n);
      core.setU64(0, abi.S_INSNS, 0n);
      expect(core.run(0, 0xffffffff)).toBe(abi.RUN_EXIT);
    }
    expect(snapshot(jit)).toEqual(snapshot(interp));
    expect(jit.u64(0, abi.S_INSNS)).toBe(4_000_001n);
  });

  it('a compiled loop whose table slot was reused after a memory snapshot was taken is not called for it', () => {
    const core = jit;
    // b9 e8 03 00 00 ; mov ecx, 1000
    // 48 01 d8       ; l: add rax, rbx   (the second program: sub rax, rbx)
    // ff c9          ; dec ecx
    // 75 f9          ; jnz l
    // f4             ; hlt
    const add = hex`b9 e8 03 00 00 48 01 d8 ff c9 75 f9 f4`, sub = hex`b9 e8 03 00 00 48 29 d8 ff c9 75 f9 f4`;
    const runIt = (code: number[]) => {
      load(core, code);
      core.setReg(0, 'rax', 0n);
      core.setReg(0, 'rbx', 1n);
      expect(core.run(0, 1_000_000)).toBe(abi.RUN_EXIT);
      return core.reg(0, 'rax');
    };
    expect(runIt(add)).toBe(1000n);
    const saved = new Uint8Array(core.x.memory.buffer, 0, abi.RAM_BASE + core.ramBytes).slice();
    expect(runIt(sub)).toBe(BigInt.asUintN(64, -1000n)); // recompiled into the same table slot
    new Uint8Array(core.x.memory.buffer).set(saved); // memory (and the decoded cache) as after the first
    // Run it again without writing the code (that would flush the cache): the block's map slot says
    // "compiled, table slot n", and table slot n now holds SUB's loop.
    core.setReg(0, 'rip', 0x1000n);
    core.setReg(0, 'rax', 0n);
    core.setReg(0, 'rbx', 1n);
    expect(core.run(0, 1_000_000)).toBe(abi.RUN_EXIT);
    expect(core.reg(0, 'rax')).toBe(1000n);
  });
});

