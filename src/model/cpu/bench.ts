// Measurements of the core's speed, as plain data: guest MIPS for three loops and the cost of a VM
// exit's round trip through TypeScript. Used by scripts/bench/core.ts and the `exitscope bench`
// command. Time comes from `clock` (milliseconds; wall time by default, scripts/bench/core.ts passes
// the process's CPU time): the numbers depend on the machine and its load, so take several runs and
// look at the spread.
import * as abi from '../../../wasm/src/abi';
import type { Core } from './core';
import { hex } from './testkit';

export type GuestName = 'alu' | 'memory' | 'call';

export interface Spread { min: number; median: number; max: number; samples: number[] }

export interface GuestSpeed {
  guest: GuestName;
  description: string;
  instructions: number; // per timed run
  mips: Spread;
}

/** Milliseconds from some fixed point. */
export type Clock = () => number;
const wallClock: Clock = () => performance.now();

export interface ExitCost {
  exits: number; // per timed run
  nsPerExit: Spread;
}

const CODE = 0x1000;
const ARRAY = 0x10000;

/** A u32 as little-endian bytes. */
function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}

/** The loops, each ending in a HLT (which exits): code for n iterations, and instructions per iteration. */
export const GUESTS: Record<GuestName, { description: string; perIteration: number; code(n: number): number[] }> = {
  alu: {
    description: 'add eax,ebx; xor ebx,eax; dec ecx; jnz (research/perf-anchors.md)',
    perIteration: 4,
    code: (n) => [
      0xb9, ...le32(n), //  mov ecx, n
      ...hex`b8 01 00 00 00 ; mov eax, 1
             bb 02 00 00 00 ; mov ebx, 2
             01 d8          ; l: add eax, ebx
             31 c3          ; xor ebx, eax
             ff c9          ; dec ecx
             75 f8          ; jnz l
             f4             ; hlt`,
    ],
  },
  memory: {
    description: 'load, add, store over a 4 KiB array: mov eax,[rsi+rdx*4]; add; mov [rsi+rdx*4],eax; inc; and; dec; jnz',
    perIteration: 7,
    code: (n) => [
      0xb9, ...le32(n), //  mov ecx, n
      ...hex`be 00 00 01 00     ; mov esi, ARRAY (0x10000)
             31 d2              ; xor edx, edx
             bb 03 00 00 00     ; mov ebx, 3
             8b 04 96           ; l: mov eax, [rsi + rdx*4]
             01 d8              ; add eax, ebx
             89 04 96           ; mov [rsi + rdx*4], eax
             ff c2              ; inc edx
             81 e2 ff 03 00 00  ; and edx, 0x3ff
             ff c9              ; dec ecx
             75 ec              ; jnz l
             f4                 ; hlt`,
    ],
  },
  call: {
    description: 'call f; dec ecx; jnz; with f: add eax,1; ret',
    perIteration: 5,
    code: (n) => [
      0xb9, ...le32(n), //  mov ecx, n
      ...hex`e8 05 00 00 00 ; l: call f
             ff c9          ; dec ecx
             75 f7          ; jnz l
             f4             ; hlt
             83 c0 01       ; f: add eax, 1
             c3             ; ret`,
    ],
  },
};

export function spread(samples: number[]): Spread {
  const s = [...samples].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1], samples };
}

/** One timed run of a guest loop of n iterations on vCPU 0; returns the instructions retired and the milliseconds. */
export function runGuest(core: Core, guest: GuestName, n: number, clock: Clock = wallClock): { instructions: number; ms: number } {
  core.writeMem(CODE, GUESTS[guest].code(n));
  core.setReg(0, 'rip', BigInt(CODE));
  core.setReg(0, 'rsp', 0x8000n);
  core.setU32(0, abi.S_PROC_CONTROLS, abi.CPU_BASED_HLT_EXITING);
  core.setU32(0, abi.S_ACTIVITY, abi.ACTIVITY_ACTIVE);
  const before = core.num(0, abi.S_INSNS);
  const t0 = clock();
  let r: number;
  do r = core.run(0, 50_000_000); while (r === abi.RUN_BUDGET);
  const ms = clock() - t0;
  if (r !== abi.RUN_EXIT || core.u32(0, abi.S_EXIT_REASON) !== abi.EXIT_REASON_HLT) throw new Error(`guest ${guest} stopped with ${r}`);
  return { instructions: core.num(0, abi.S_INSNS) - before, ms };
}

/** A core prepared for the guests: RAM for the code and the array, one vCPU; jit: false keeps every
 *  loop in the interpreter (wasm/src/jit.ts compiles hot loops by default). */
export function prepare(core: Core, jit = true): void {
  core.init(1 << 20, 1);
  core.x.resetVcpu(0);
  if (!jit) core.x.setJitThreshold(0);
  core.ram(ARRAY, 4096).fill(0);
}

/**
 * Guest MIPS for each loop: a warm-up (V8 starts in its baseline tier and tiers up on later calls),
 * then `runs` timed runs of about `instructions` each.
 */
export function measureGuestMips(
  core: Core,
  opts: { runs?: number; instructions?: number; guests?: GuestName[]; clock?: Clock; jit?: boolean } = {},
): GuestSpeed[] {
  const runs = opts.runs ?? 7, target = opts.instructions ?? 200_000_000, clock = opts.clock ?? wallClock;
  prepare(core, opts.jit ?? true);
  return (opts.guests ?? (Object.keys(GUESTS) as GuestName[])).map((guest) => {
    const n = Math.max(1, Math.round(target / GUESTS[guest].perIteration));
    runGuest(core, guest, Math.min(n, 2_000_000));
    runGuest(core, guest, Math.min(n, 2_000_000));
    const samples: number[] = [];
    let instructions = 0;
    for (let i = 0; i < runs; i++) {
      const r = runGuest(core, guest, n, clock);
      instructions = r.instructions;
      samples.push(r.instructions / r.ms / 1000);
    }
    return { guest, description: GUESTS[guest].description, instructions, mips: spread(samples) };
  });
}

/**
 * The round trip of a VM exit through the model: the guest loops on `out 0x80, al` (an IO exit each
 * time) and a minimal TypeScript handler skips the instruction and re-enters, as KVM's fast path does.
 */
export function measureExitRoundTrip(core: Core, opts: { runs?: number; exits?: number; clock?: Clock } = {}): ExitCost {
  const runs = opts.runs ?? 7, exits = opts.exits ?? 1_000_000, clock = opts.clock ?? wallClock;
  prepare(core);
  // e6 80 ; l: out 0x80, al
  // eb fc ; jmp l
  core.writeMem(CODE, hex`e6 80 eb fc`);
  core.setReg(0, 'rip', BigInt(CODE));
  core.setU32(0, abi.S_PROC_CONTROLS, 0);
  const loop = (n: number) => {
    for (let i = 0; i < n; i++) {
      if (core.run(0, 1_000_000) !== abi.RUN_EXIT || core.u32(0, abi.S_EXIT_REASON) !== abi.EXIT_REASON_IO_INSTRUCTION) {
        throw new Error('the OUT loop did not exit on OUT');
      }
      core.setNum(0, abi.S_RIP, core.num(0, abi.S_RIP) + core.u32(0, abi.S_EXIT_INSN_LEN));
    }
  };
  loop(50_000);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = clock();
    loop(exits);
    samples.push(((clock() - t0) * 1e6) / exits);
  }
  return { exits, nsPerExit: spread(samples) };
}
