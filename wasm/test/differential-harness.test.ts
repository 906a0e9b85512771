// The native harness proves itself before it judges the core: registers, flags and memory go in and
// come back exactly, each kind of end is reported as the CPU raised it, and batches stay in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Case } from './support/case';
import { CODE_GPA, SCRATCH_GPA, STACK_TOP } from './support/layout';
import { NativeHarness, nativeUnavailable } from './support/native';
import { fcParams } from './support/seed';

const unavailable = nativeUnavailable();
if (unavailable) console.warn(`differential tests skipped: ${unavailable}`);

const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4;
const FLAGS_BASE = 0x202n; // IF and the always-one bit 1, as in user mode
const CF = 1n, PF = 4n, AF = 0x10n, ZF = 0x40n, SF = 0x80n, OF = 0x800n, DF = 0x400n;
const ARITH = CF | PF | AF | ZF | SF | OF;

function regs(overrides: Record<number, bigint> = {}): bigint[] {
  const gpr = Array.from({ length: 16 }, (_, i) => 0x0101_0101_0000_0000n * BigInt(i + 1) + BigInt(i));
  gpr[RSP] = BigInt(STACK_TOP);
  for (const [i, v] of Object.entries(overrides)) gpr[+i] = v;
  return gpr;
}

function code(bytes: number[], gpr = regs(), rflags = FLAGS_BASE, extra: Case['regions'] = []): Case {
  return { gpr, rflags, rip: BigInt(CODE_GPA), regions: [{ gpa: CODE_GPA, bytes: Uint8Array.from(bytes) }, ...extra] };
}

/** ADD's result flags computed from the definition, independent of any CPU. */
function addFlags(a: bigint, b: bigint): bigint {
  const m = (1n << 64n) - 1n, r = (a + b) & m, sign = 1n << 63n;
  let f = 0n;
  if (a + b > m) f |= CF;
  let ones = 0n;
  for (let x = r & 0xffn; x; x >>= 1n) ones += x & 1n;
  if (!(ones & 1n)) f |= PF;
  if ((a ^ b ^ r) & 0x10n) f |= AF;
  if (r === 0n) f |= ZF;
  if (r & sign) f |= SF;
  if (~(a ^ b) & (a ^ r) & sign) f |= OF;
  return f;
}

describe.skipIf(!!unavailable)('native harness', () => {
  let native: NativeHarness;
  beforeAll(async () => {
    native = await NativeHarness.start({ timeoutMs: 100 });
  });
  afterAll(() => native?.close());

  it('identifies the CPU from CPUID leaf 0', () => {
    expect(native.cpu.vendor).toMatch(/^[\x20-\x7e]{12}$/);
    expect(native.cpu.family).toBeGreaterThan(0);
  });

  it('hands back every register and RFLAGS unchanged through a lone HLT', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: 16, maxLength: 16 }), fc.bigInt({ min: 0n, max: ARITH | DF }).map((f) => f & (ARITH | DF)), async (gpr, flags) => {
        gpr[RSP] = BigInt(STACK_TOP);
        const [out] = await native.run([code([0xf4], gpr, FLAGS_BASE | flags)]);
        expect(out.end).toEqual({ kind: 'halt' });
        expect(out.gpr).toEqual(gpr);
        expect(out.rip).toBe(BigInt(CODE_GPA));
        expect(out.rflags & (ARITH | DF | FLAGS_BASE)).toBe(FLAGS_BASE | flags);
      }),
      fcParams(100),
    );
  });

  it('computes ADD and its flags as the definition says', async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), async (a, b) => {
        const [out] = await native.run([code([0x48, 0x01, 0xd8, 0xf4], regs({ [RAX]: a, [RBX]: b }))]); // add rax, rbx; hlt
        expect(out.end).toEqual({ kind: 'halt' });
        expect(out.gpr[RAX]).toBe((a + b) & ((1n << 64n) - 1n));
        expect(out.rflags & ARITH).toBe(addFlags(a, b));
        expect(out.rip).toBe(BigInt(CODE_GPA + 3));
      }),
      fcParams(200),
    );
  });

  it('reports faults at the faulting instruction with the registers before it', async () => {
    const before = regs({ [RDX]: 0n, [RCX]: 0n });
    const [de, ud, pf] = await native.run([
      code([0x48, 0xf7, 0xf1, 0xf4], before), // div rcx (rcx = 0)
      code([0x90, 0x0f, 0x0b]), // nop; ud2
      code([0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00]), // mov rax, [0]
    ]);
    expect(de.end).toEqual({ kind: 'exception', vector: 0 });
    expect(de.rip).toBe(BigInt(CODE_GPA));
    expect(de.gpr).toEqual(before);
    expect(ud.end).toEqual({ kind: 'exception', vector: 6 });
    expect(ud.rip).toBe(BigInt(CODE_GPA + 1));
    expect(pf.end).toEqual({ kind: 'exception', vector: 14 });
  });

  it('reports traps after the trapping instruction', async () => {
    const [bp] = await native.run([code([0x90, 0xcc, 0xf4])]); // nop; int3
    expect(bp.end).toEqual({ kind: 'exception', vector: 3 });
    expect(bp.rip).toBe(BigInt(CODE_GPA + 2));
  });

  it('reports a #GP that is not the final HLT as an exception', async () => {
    const [gp] = await native.run([code([0xfa, 0xf4])]); // cli: privileged in user mode
    expect(gp.end).toEqual({ kind: 'exception', vector: 13 });
    expect(gp.rip).toBe(BigInt(CODE_GPA));
  });

  it('loads memory regions, runs on them and returns their final bytes', async () => {
    const scratch = Uint8Array.from({ length: 16 }, (_, i) => i);
    const stack = new Uint8Array(16);
    const [out] = await native.run([
      code(
        [0x48, 0x89, 0x03, 0x50, 0xf4], // mov [rbx], rax; push rax; hlt
        regs({ [RAX]: 0x8877665544332211n, [RBX]: BigInt(SCRATCH_GPA + 4) }),
        FLAGS_BASE,
        [{ gpa: SCRATCH_GPA, bytes: scratch }, { gpa: STACK_TOP - 8, bytes: stack }],
      ),
    ]);
    expect(out.end).toEqual({ kind: 'halt' });
    expect([...out.regions[1]]).toEqual([0, 1, 2, 3, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 12, 13, 14, 15]);
    expect([...out.regions[2].subarray(0, 8)]).toEqual([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
    expect(out.gpr[RSP]).toBe(BigInt(STACK_TOP - 8));
  });

  it('runs with DF from the initial RFLAGS and leaves the host unharmed', async () => {
    // std is implied by DF=1; lodsb walks down. A second case then sees its own DF=0.
    const si = BigInt(SCRATCH_GPA + 8);
    const [down, up] = await native.run([
      code([0xac, 0xf4], regs({ 6: si }), FLAGS_BASE | DF), // lodsb
      code([0xac, 0xf4], regs({ 6: si }), FLAGS_BASE),
    ]);
    expect(down.gpr[6]).toBe(si - 1n);
    expect(down.rflags & DF).toBe(DF);
    expect(up.gpr[6]).toBe(si + 1n);
  });

  it('stops a case that never ends and carries on with the next', async () => {
    const [spin, next] = await native.run([code([0xeb, 0xfe]), code([0xf4])]); // jmp $
    expect(spin.end).toEqual({ kind: 'timeout' });
    expect(next.end).toEqual({ kind: 'halt' });
  });

  it('answers large and concurrent batches in order', async () => {
    const batch = (tag: bigint) =>
      Array.from({ length: 500 }, (_, i) => code([0x48, 0xff, 0xc0, 0xf4], regs({ [RAX]: tag + BigInt(i) }))); // inc rax
    const [a, b] = await Promise.all([native.run(batch(1000n)), native.run(batch(5000n))]);
    expect(a.map((o) => o.gpr[RAX])).toEqual(batch(1001n).map((c) => c.gpr[RAX]));
    expect(b.map((o) => o.gpr[RAX])).toEqual(batch(5001n).map((c) => c.gpr[RAX]));
  });
});
