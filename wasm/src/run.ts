// run() and emulate(): entering a vCPU, checking events at instruction boundaries, running blocks,
// and leaving with the registers and exit information in the state block.
import {
  S_GPR, S_RIP, S_RFLAGS, S_TSC, S_INSNS, S_ACTIVITY, S_INTERRUPTIBILITY, S_PIN_CONTROLS,
  S_PROC_CONTROLS, S_PROC_CONTROLS2, S_EXCEPTION_BITMAP, S_TSC_OFFSET, S_ENTRY_INTR_INFO,
  S_ENTRY_EXC_ERR, S_ENTRY_INSN_LEN, S_HOST_IRQ, S_VIRQ, S_EXIT_INTR_INFO, S_EXIT_INTR_ERR, S_EXIT_INSN_LEN,
  S_MSR_FS_BASE, S_MSR_GS_BASE, S_MSR_APERF, S_MSR_MPERF, S_PLE_ACTIVE, S_LAST_RIP, S_MWAIT_ECX,
  S_DR6, S_MMIO_COUNT, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, CPU_BASED_USE_TSC_OFFSETTING,
  CPU_BASED_INTR_WINDOW_EXITING, CPU_BASED_NMI_WINDOW_EXITING, PIN_EXT_INTR_EXITING, INTR_BLOCK_NMI,
  EXIT_REASON_NMI_WINDOW, INTR_INFO_VALID, INTR_INFO_DELIVER_CODE,
  INTR_INFO_TYPE_SHIFT, INTR_INFO_VECTOR_MASK, INTR_TYPE_EXT_INTR, INTR_TYPE_HARD_EXCEPTION,
  INTR_BLOCK_STI, INTR_BLOCK_MOV_SS, EXIT_REASON_INTERRUPT_WINDOW, EXIT_REASON_EXTERNAL_INTERRUPT,
  ACTIVITY_ACTIVE, ACTIVITY_HLT, ACTIVITY_MWAIT, X86_EFLAGS_IF, X86_EFLAGS_TF, DB_VECTOR, DR6_BS,
  RUN_BUDGET, RUN_EXIT, RUN_HALTED, EMUL_DONE, EMUL_MMIO, EMUL_EXCEPTION,
  EMUL_UNHANDLED,
} from './abi';
import * as O from './ops';
import { CUR, ZERO_REG, ENTRY, SCRATCH, SCRATCH_SLOT, E_RIP, E_OP, E_LEN, E_CUM, E_COST, M_FIRST, M_N, M_COST } from './layout';
import { flOther, getRflags, setRflags } from './flags';
import { fetchFault, resetMmio } from './mem';
import { traits, T_NOEMUL } from './cache';
import { decode } from './decoder';
import { execute, xStatus, xCur, xNext, blockFirst, X_DONE, X_BREAK, X_STOP, X_FETCH } from './exec';
import { deliver, fault, softEvent, exitException, intercepted } from './events';
import {
  S, vcpu, pinCtl, procCtl, proc2Ctl, excBitmap, tscOffset, fsBase, gsBase, emulating,
  mx, MX_NONE, MX_EXIT, MX_MMIO, MX_SOFT, excVector, excErr, softType, vmexit, stateOf,
  rip, tsc, insns, activity, shadow, shadowNext, tscLimit, runTsc, tscAdjust, xExtraInsns,
  xExtraCycles,
} from './state';

function enter(v: i32): void {
  vcpu = v;
  S = stateOf(v);
  memory.copy(CUR, S + S_GPR, 16 * 8);
  store<u64>(CUR + ZERO_REG, 0);
  rip = load<u64>(S + S_RIP);
  setRflags(load<u64>(S + S_RFLAGS));
  pinCtl = load<u32>(S + S_PIN_CONTROLS);
  procCtl = load<u32>(S + S_PROC_CONTROLS);
  proc2Ctl = (procCtl & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) ? load<u32>(S + S_PROC_CONTROLS2) : 0;
  excBitmap = load<u32>(S + S_EXCEPTION_BITMAP);
  tscOffset = (procCtl & CPU_BASED_USE_TSC_OFFSETTING) ? load<u64>(S + S_TSC_OFFSET) : 0;
  fsBase = load<u64>(S + S_MSR_FS_BASE);
  gsBase = load<u64>(S + S_MSR_GS_BASE);
  shadow = load<u32>(S + S_INTERRUPTIBILITY) & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS);
  shadowNext = 0;
  activity = load<u32>(S + S_ACTIVITY);
  tsc = load<u64>(S + S_TSC);
  runTsc = tsc;
  insns = load<u64>(S + S_INSNS);
  mx = MX_NONE;
}

function leave(): void {
  memory.copy(S + S_GPR, CUR, 16 * 8);
  store<u64>(S + S_RIP, rip);
  store<u64>(S + S_RFLAGS, getRflags());
  const intr = load<u32>(S + S_INTERRUPTIBILITY) & ~(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS);
  store<u32>(S + S_INTERRUPTIBILITY, intr | shadow);
  store<u32>(S + S_ACTIVITY, activity);
  // APERF and MPERF advance with the cycles this vCPU ran (never while waiting: those return at once).
  const ran = tsc - runTsc;
  store<u64>(S + S_MSR_APERF, load<u64>(S + S_MSR_APERF) + ran);
  store<u64>(S + S_MSR_MPERF, load<u64>(S + S_MSR_MPERF) + ran);
  store<u64>(S + S_TSC, tsc);
  store<u64>(S + S_INSNS, insns);
  vcpu = -1;
}

/** A VM exit ends the run: the next PAUSE after the next entry starts a new PAUSE loop. */
function exited(): i32 {
  store<u32>(S + S_PLE_ACTIVE, 0);
  return RUN_EXIT;
}

let lastRip: u64 = 0;
let lastLen: u32 = 0;

/** Runs blocks (exec.ts) and settles the accounting of the entry that ended them. */
function runBlocks(single: bool, fixed: usize): void {
  execute(single, fixed);
  if (xStatus == X_FETCH) {
    lastRip = rip; lastLen = 0;
    fetchFault(rip);
    xStatus = X_STOP;
    return;
  }
  const c = xCur;
  lastRip = <u64>load<u32>(c, E_RIP);
  lastLen = load<u8>(c, E_LEN);
  if (xStatus == X_DONE) return;
  const before = <u64>(c - blockFirst) / ENTRY;
  const retires = xStatus == X_BREAK;
  tsc += <u64>load<u16>(c, E_CUM) + (retires ? <u64>load<u8>(c, E_COST) : 0) + xExtraCycles + tscAdjust;
  insns += before + (retires ? 1 : 0) + xExtraInsns;
  tscAdjust = 0;
  rip = retires ? xNext : lastRip;
}

@inline function interruptsOpen(): bool {
  return (flOther() & X86_EFLAGS_IF) != 0 && shadow == 0;
}

/** Events at an instruction boundary, in VMX priority order. Returns a RUN_* to stop with, or -1. */
function boundary(): i32 {
  // NMI-window exiting: no NMI blocking and no MOV-SS shadow (NMIs outrank maskable interrupts).
  if ((procCtl & CPU_BASED_NMI_WINDOW_EXITING) && !(load<u32>(S + S_INTERRUPTIBILITY) & INTR_BLOCK_NMI) && !(shadow & INTR_BLOCK_MOV_SS)) {
    activity = ACTIVITY_ACTIVE;
    vmexit(EXIT_REASON_NMI_WINDOW, 0);
    return exited();
  }
  const open = interruptsOpen();
  if (open && (procCtl & CPU_BASED_INTR_WINDOW_EXITING)) {
    activity = ACTIVITY_ACTIVE; // the exit wakes HLT
    vmexit(EXIT_REASON_INTERRUPT_WINDOW, 0);
    return exited();
  }
  const host = load<u32>(S + S_HOST_IRQ);
  if (host) {
    if (pinCtl & PIN_EXT_INTR_EXITING) {
      store<u32>(S + S_HOST_IRQ, 0);
      vmexit(EXIT_REASON_EXTERNAL_INTERRUPT, 0);
      store<u32>(S + S_EXIT_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT) | (host & INTR_INFO_VECTOR_MASK));
      if (activity == ACTIVITY_MWAIT) activity = ACTIVITY_ACTIVE; // HLT stays HLT across the exit
      return exited();
    }
    if (open) { // without external-interrupt exiting it goes to the guest, as on bare metal
      store<u32>(S + S_HOST_IRQ, 0);
      if (!deliver(host & INTR_INFO_VECTOR_MASK, INTR_TYPE_EXT_INTR, -1, 0)) return exited();
      return -1;
    }
  }
  const virq = load<u32>(S + S_VIRQ);
  if (virq & INTR_INFO_VALID) {
    if (open) {
      store<u32>(S + S_VIRQ, 0);
      if (!deliver(virq & INTR_INFO_VECTOR_MASK, INTR_TYPE_EXT_INTR, -1, 0)) return exited();
    } else if (activity == ACTIVITY_MWAIT && (load<u32>(S + S_MWAIT_ECX) & 1)) {
      activity = ACTIVITY_ACTIVE; // MWAIT with ECX[0]: a masked interrupt still ends the wait
    }
  }
  if (activity != ACTIVITY_ACTIVE) return RUN_HALTED;
  return -1;
}

/** VM-entry event injection (SDM 26.6): delivered before any instruction, even from HLT. */
function inject(): bool {
  const info = load<u32>(S + S_ENTRY_INTR_INFO);
  if (!(info & INTR_INFO_VALID)) return true;
  store<u32>(S + S_ENTRY_INTR_INFO, info & ~INTR_INFO_VALID);
  activity = ACTIVITY_ACTIVE;
  const type = (info >> INTR_INFO_TYPE_SHIFT) & 7;
  const err = (info & INTR_INFO_DELIVER_CODE) ? <i32>load<u32>(S + S_ENTRY_EXC_ERR) : -1;
  return deliver(info & INTR_INFO_VECTOR_MASK, type, err, type >= 4 ? load<u32>(S + S_ENTRY_INSN_LEN) : 0);
}

/** After an instruction stopped (xStatus X_STOP): deliver its event or finish its exit. -1 to go on. */
function stopped(): i32 {
  if (mx == MX_NONE) return -1; // its code was overwritten: decode again
  if (mx == MX_EXIT) {
    store<u32>(S + S_EXIT_INSN_LEN, lastLen);
    return exited();
  }
  const kind = mx, vector = excVector, err = excErr;
  mx = MX_NONE; // delivering it is a step of its own, which may exit in its own right
  if (kind == MX_SOFT) {
    if (!softEvent(vector, softType, lastLen)) return exited();
    // Delivered: INT n retired.
    tsc += <u64>load<u8>(xCur, E_COST);
    insns++;
    return -1;
  }
  return fault(vector, err) ? -1 : exited();
}

export function run(v: i32, budget: u32): i32 {
  enter(v);
  tscLimit = tsc + <u64>max<u32>(budget, 1);
  let result = -1;
  if (activity != ACTIVITY_ACTIVE && activity != ACTIVITY_HLT && activity != ACTIVITY_MWAIT) result = RUN_HALTED;
  else if (!inject()) result = exited();
  let ran = false;
  while (result < 0) {
    result = boundary();
    if (result >= 0) break;
    if (ran && tsc >= tscLimit) { result = RUN_BUDGET; break; }
    const tf = (flOther() & X86_EFLAGS_TF) != 0;
    const single = tf || shadow != 0;
    mx = MX_NONE;
    runBlocks(single, 0);
    ran = true;
    if (xStatus == X_STOP) {
      result = stopped();
      continue;
    }
    // An instruction retired: the shadow it ran under ends, and one it opened begins.
    shadow = shadowNext;
    shadowNext = 0;
    if (tf && single && shadow != INTR_BLOCK_MOV_SS) {
      // TF single-step: a #DB trap after the instruction, RIP already past it.
      if (intercepted(DB_VECTOR)) {
        exitException(DB_VECTOR, INTR_TYPE_HARD_EXCEPTION, -1, 0, DR6_BS);
        result = exited();
      } else {
        store<u64>(S + S_DR6, load<u64>(S + S_DR6) | DR6_BS);
        if (!deliver(DB_VECTOR, INTR_TYPE_HARD_EXCEPTION, -1, 0)) result = exited();
      }
    }
  }
  store<u64>(S + S_LAST_RIP, lastRip);
  leave();
  return result;
}

/**
 * emulate(): one instruction at RIP as KVM's emulator runs it: no VMX controls, accesses outside RAM
 * served by MMIO fragments, REP strings one iteration at a time.
 */
export function emulate(v: i32): i32 {
  enter(v);
  emulating = true;
  resetMmio();
  let result = EMUL_DONE;
  const e = SCRATCH;
  decode(rip, e);
  const op = <i32>load<u16>(e, E_OP);
  const saved = getRflags();
  if (op == O.OP_FETCH || (traits(op) & T_NOEMUL)) result = EMUL_UNHANDLED;
  else {
    // A one-entry block of no cycles: the emulator's time is the model's to account.
    store<u16>(e, 0, E_CUM);
    store<u8>(e, 0, E_COST);
    store<u32>(SCRATCH_SLOT, <u32>e, M_FIRST);
    store<u16>(SCRATCH_SLOT, 1, M_N);
    store<u16>(SCRATCH_SLOT, 0, M_COST);
    tscLimit = tsc + 1;
    runBlocks(true, SCRATCH_SLOT);
    if (xStatus == X_STOP) {
      setRflags(saved);
      if (mx == MX_MMIO) result = EMUL_MMIO;
      else {
        result = EMUL_EXCEPTION;
        store<u32>(S + S_EXIT_INTR_INFO, INTR_INFO_VALID | (INTR_TYPE_HARD_EXCEPTION << INTR_INFO_TYPE_SHIFT) | excVector | (excErr >= 0 ? INTR_INFO_DELIVER_CODE : 0));
        store<u32>(S + S_EXIT_INTR_ERR, excErr >= 0 ? <u32>excErr : 0);
      }
    } else {
      shadow = shadowNext;
      store<u32>(S + S_MMIO_COUNT, 0);
    }
  }
  emulating = false;
  leave();
  return result;
}
