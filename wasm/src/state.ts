// The running vCPU's context (which vCPU, its VMCS controls, machine size) and how the current
// instruction stopped: an exception to deliver, a VM exit recorded, or an MMIO access for emulate().
import { E_CUM } from './layout';
import {
  STATE_BASE, STATE_STRIDE, S_EXIT_REASON, S_EXIT_QUAL, S_EXIT_INTR_INFO, S_EXIT_INTR_ERR,
  S_IDT_VECTORING_INFO, S_IDT_VECTORING_ERR, S_EXIT_INSN_INFO, S_EXIT_INSN_LEN,
} from './abi';

/** State block of the running vCPU, and its index (-1 when none runs: host calls). */
export let S: usize = STATE_BASE;
export let vcpu: i32 = -1;
export let vcpuCount: i32 = 0;
export let ramSize: u64 = 0;

// VMCS controls as read at entry (secondary controls are 0 unless activated by the primary ones).
export let pinCtl: u32 = 0;
export let procCtl: u32 = 0;
export let proc2Ctl: u32 = 0;
export let excBitmap: u32 = 0;
export let tscOffset: u64 = 0; // 0 unless USE_TSC_OFFSETTING
export let fsBase: u64 = 0;
export let gsBase: u64 = 0;
/** True inside emulate(): accesses outside RAM are served by MMIO fragments instead of exiting. */
export let emulating = false;

export function stateOf(v: i32): usize {
  return <usize>STATE_BASE + <usize>v * <usize>STATE_STRIDE;
}

// ---- How the current instruction stopped ----
export const MX_NONE = 0;
export const MX_FAULT = 1; //  a hardware exception: excVector / excErr
export const MX_EXIT = 2; //   a VM exit: the S_EXIT_* fields are written
export const MX_MMIO = 3; //   emulate() needs an MMIO fragment: S_EXIT_GPA / S_ACCESS_* describe it
export const MX_SOFT = 4; //   INT n / INT3 / INT1: a software event to deliver (excVector, softType)
export let mx = MX_NONE;
export let excVector: u32 = 0;
export let excErr: i32 = -1; // -1: no error code
export let softType: u32 = 0;

/** Raises a fault: the instruction does not retire and the exception is delivered (or exits). */
export function raise(vector: u32, err: i32 = -1): void {
  if (mx != MX_NONE) return; // the first problem of an instruction wins
  mx = MX_FAULT;
  excVector = vector;
  excErr = err;
}

/** A software event (INT n, INT3, INT1) to be delivered after the instruction. */
export function raiseSoft(vector: u32, type: u32): void {
  mx = MX_SOFT;
  excVector = vector;
  excErr = -1;
  softType = type;
}

/** Records a VM exit. RIP and the instruction length are filled by the run loop. */
export function vmexit(reason: u32, qual: u64): void {
  if (mx != MX_NONE) return;
  mx = MX_EXIT;
  store<u32>(S + S_EXIT_REASON, reason);
  store<u64>(S + S_EXIT_QUAL, qual);
  store<u32>(S + S_EXIT_INTR_INFO, 0);
  store<u32>(S + S_EXIT_INTR_ERR, 0);
  store<u32>(S + S_IDT_VECTORING_INFO, 0);
  store<u32>(S + S_IDT_VECTORING_ERR, 0);
  store<u32>(S + S_EXIT_INSN_INFO, 0);
  store<u32>(S + S_EXIT_INSN_LEN, 0);
}

@inline export function canonical(a: u64): bool {
  return (<i64>(a << 16) >> 16) == <i64>a;
}

// ---- Architectural state kept outside the register file while the vCPU runs ----
export let rip: u64 = 0;
export let tsc: u64 = 0; //       the pCPU's TSC (S_TSC while stopped)
export let insns: u64 = 0;
export let activity: u32 = 0;
export let shadow: u32 = 0; //    INTR_BLOCK_* in effect for the next instruction
export let shadowNext: u32 = 0; // set by STI / MOV SS: the shadow they open for the instruction after them

// ---- Time while blocks run (exec.ts) ----
// While a block runs, tsc and insns hold their values at the block's start: an entry's TSC is
// tsc + its E_CUM.
export let tscLimit: u64 = 0; //  TSC limit of this run
export let runTsc: u64 = 0; //    TSC when run() was entered (APERF/MPERF advance from it)
export let singleStep = false; // one instruction (or REP iteration) at a time: TF or an interrupt shadow
export let tscAdjust: u64 = 0; // a WRMSR to IA32_TSC moved the TSC by this much
/** REP iterations retired beyond one by the last entry, and their cycles. */
export let xExtraInsns: u64 = 0;
export let xExtraCycles: u64 = 0;

export function setExtra(n: u64, cycles: u64): void {
  xExtraInsns = n;
  xExtraCycles = cycles;
}

/** TSC at the start of entry e (its own cycles not yet counted). */
@inline export function tscAt(e: usize): u64 {
  return tsc + load<u16>(e, E_CUM);
}
