// One differential case and what became of it, in a form both runners (native and core) share.
import { GPR_NAMES } from '../../../src/model/cpu/core';

export interface Region {
  gpa: number;
  bytes: Uint8Array;
}

/** Initial architectural state: sixteen GPRs in SDM order, RFLAGS, RIP, and memory to load. */
export interface Case {
  gpr: bigint[];
  rflags: bigint;
  rip: bigint;
  regions: Region[];
}

/**
 * How a case ended: at a HLT (the sequence ran to its end), with an exception (vector; RIP is
 * where the native CPU reports it: at the instruction for faults, after it for traps), with any
 * other VM exit (core only), in a wait state without an exit (core only), at an instruction emulate()
 * does not handle (core only), or not at all within the budget.
 */
export type End =
  | { kind: 'halt' }
  | { kind: 'exception'; vector: number }
  | { kind: 'exit'; reason: number }
  | { kind: 'waiting' }
  | { kind: 'unhandled' }
  | { kind: 'timeout' };

export interface Outcome {
  end: End;
  gpr: bigint[];
  rip: bigint;
  rflags: bigint;
  /** Final contents of the case's regions, in the same order. */
  regions: Uint8Array[];
}

export function endText(e: End): string {
  switch (e.kind) {
    case 'halt': return 'HLT';
    case 'exception': return `exception ${e.vector} (${VECTOR_NAMES[e.vector] ?? '?'})`;
    case 'exit': return `VM exit, basic reason ${e.reason}`;
    case 'waiting': return 'a wait state (HLT/MWAIT) without a VM exit';
    case 'unhandled': return 'an instruction emulate() does not handle';
    case 'timeout': return 'no end within the budget';
  }
}

const VECTOR_NAMES: Record<number, string> = {
  0: '#DE', 1: '#DB', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD', 7: '#NM', 8: '#DF', 10: '#TS',
  11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF', 16: '#MF', 17: '#AC', 18: '#MC', 19: '#XM',
};

export const hex = (v: bigint | number, width = 16): string => '0x' + BigInt.asUintN(64, BigInt(v)).toString(16).padStart(width, '0');

/** The initial state as `rax=0x… rcx=0x…` text, for reports. */
export function stateText(gpr: readonly bigint[], rflags: bigint): string {
  return GPR_NAMES.map((n, i) => `${n}=${hex(gpr[i])}`).join(' ') + ` rflags=${hex(rflags, 8)}`;
}
