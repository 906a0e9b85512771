// System instructions: the ones VMX can make exit (HLT, PAUSE, RDTSC, MSRs, MONITOR/MWAIT, IO, ...),
// the ones that always exit (CPUID, INVD, VMCALL), and the ones that change interruptibility.
import {
  CPU_BASED_HLT_EXITING, CPU_BASED_PAUSE_EXITING, CPU_BASED_RDTSC_EXITING, CPU_BASED_USE_MSR_BITMAPS,
  CPU_BASED_MONITOR_EXITING, CPU_BASED_MWAIT_EXITING, CPU_BASED_MOV_DR_EXITING, CPU_BASED_CR3_LOAD_EXITING,
  CPU_BASED_CR3_STORE_EXITING, CPU_BASED_CR8_LOAD_EXITING, CPU_BASED_CR8_STORE_EXITING, SECONDARY_EXEC_ENABLE_RDTSCP,
  SECONDARY_EXEC_PAUSE_LOOP_EXITING, SECONDARY_EXEC_WBINVD_EXITING,
  EXIT_REASON_HLT, EXIT_REASON_PAUSE_INSTRUCTION, EXIT_REASON_CPUID, EXIT_REASON_RDTSC,
  EXIT_REASON_RDTSCP, EXIT_REASON_MSR_READ, EXIT_REASON_MSR_WRITE, EXIT_REASON_INVD,
  EXIT_REASON_WBINVD, EXIT_REASON_VMCALL, EXIT_REASON_MONITOR_INSTRUCTION,
  EXIT_REASON_MWAIT_INSTRUCTION, EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_DR_ACCESS, DRQ_FROM_DR,
  DRQ_GPR_SHIFT, S_DR0, S_DR6, S_DR7, DR6_ACTIVE_LOW, EXIT_REASON_CR_ACCESS, EXIT_REASON_XSETBV, CRQ_FROM_CR,
  CRQ_GPR_SHIFT, S_CR0, S_CR2, S_CR3, S_CR4, S_CR8, S_XCR0,
  ACTIVITY_HLT, ACTIVITY_MWAIT, INTR_BLOCK_STI, INTR_BLOCK_MOV_SS, INTR_BLOCK_NMI, S_INTERRUPTIBILITY,
  GP_VECTOR, UD_VECTOR,
  X86_EFLAGS_IF, X86_EFLAGS_RF, S_PLE_GAP, S_PLE_WINDOW, S_PLE_FIRST, S_PLE_LAST, S_PLE_ACTIVE,
  S_MONITOR_ARMED, S_MWAIT_ECX, S_IDTR_BASE, S_IDTR_LIMIT, S_CS, S_SS, S_DS, S_ES, S_FS, S_GS, S_EXIT_GLA, S_EXIT_INSN_INFO,
  S_MSR_TSC_AUX, S_MSR_APIC_BASE, S_MSR_MISC_ENABLE, S_MSR_APERF, S_MSR_MPERF, S_MSR_C1_RES,
  S_MSR_C3_RES, S_MSR_C6_RES, S_MSR_C7_RES, S_MSR_EFER, S_MSR_FS_BASE, S_MSR_GS_BASE,
  S_MSR_KERNEL_GS_BASE, IOQ_IN, IOQ_IMM, IOQ_STRING, IOQ_REP, IOQ_PORT_SHIFT,
  MSRBM_BASE, MSRBM_STRIDE, MSRBM_READ_LOW, MSRBM_READ_HIGH, MSRBM_WRITE_LOW,
  MSR_IA32_TSC, MSR_IA32_APICBASE, MSR_IA32_MPERF, MSR_IA32_APERF, MSR_IA32_MISC_ENABLE,
  MSR_CORE_C3_RESIDENCY, MSR_CORE_C6_RESIDENCY, MSR_CORE_C7_RESIDENCY, MSR_CORE_C1_RES, MSR_EFER,
  MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_TSC_AUX,
} from './abi';
import { E_FL, E_K, E_R, E_B, FL_SI, FL_A32, FL_FS, FL_GS, FL_REP, FL_REPNE } from './layout';
import { IO_IN, IO_IMM } from './ops';
import { flOther, setFlOther, getRflags, setRflags } from './flags';
import { rd, wr, rdStack, armMonitor } from './mem';
import {
  S, vcpu, procCtl, proc2Ctl, tscOffset, fsBase, gsBase, activity, shadowNext, emulating, mx,
  raise, vmexit, canonical, tscAt, runTsc, tscAdjust,
} from './state';
import { rget, rset, imm, RAX, RCX, RDX, RSP, RSI, RDI } from './operands';

/** Where IRET goes. */
export let sysTarget: u64 = 0;

// ---- Halt, pause, time ----

export function sysHlt(): bool {
  if (procCtl & CPU_BASED_HLT_EXITING) { vmexit(EXIT_REASON_HLT, 0); return false; }
  activity = ACTIVITY_HLT;
  return true;
}

/**
 * PAUSE. With PAUSE-loop exiting (SDM 26.1.3): a PAUSE more than PLE_GAP cycles after the previous
 * one (or the first after a VM entry) starts a new loop; a PAUSE more than PLE_WINDOW cycles after
 * the start of its loop exits.
 */
export function sysPause(e: usize): bool {
  if (emulating) return true;
  if (procCtl & CPU_BASED_PAUSE_EXITING) { vmexit(EXIT_REASON_PAUSE_INSTRUCTION, 0); return false; }
  if (!(proc2Ctl & SECONDARY_EXEC_PAUSE_LOOP_EXITING)) return true;
  const now = tscAt(e);
  if (!load<u32>(S + S_PLE_ACTIVE) || now - load<u64>(S + S_PLE_LAST) > <u64>load<u32>(S + S_PLE_GAP)) {
    store<u32>(S + S_PLE_ACTIVE, 1);
    store<u64>(S + S_PLE_FIRST, now);
  } else if (now - load<u64>(S + S_PLE_FIRST) > <u64>load<u32>(S + S_PLE_WINDOW)) {
    vmexit(EXIT_REASON_PAUSE_INSTRUCTION, 0);
    return false;
  }
  store<u64>(S + S_PLE_LAST, now);
  return true;
}

/** RDTSC / RDTSCP: the TSC at the instruction, plus TSC_OFFSET when offsetting is on. */
export function sysRdtsc(e: usize, p: bool): bool {
  if (p && !(proc2Ctl & SECONDARY_EXEC_ENABLE_RDTSCP)) { raise(UD_VECTOR); return false; }
  if (procCtl & CPU_BASED_RDTSC_EXITING) { vmexit(p ? EXIT_REASON_RDTSCP : EXIT_REASON_RDTSC, 0); return false; }
  const t = tscAt(e) + tscOffset;
  rset<u32>(RAX, <u32>t);
  rset<u32>(RDX, <u32>(t >> 32));
  if (p) rset<u32>(RCX, <u32>load<u64>(S + S_MSR_TSC_AUX));
  return true;
}

// ---- Unconditional exits ----

export function sysCpuid(): bool {
  vmexit(EXIT_REASON_CPUID, 0);
  return false;
}
export function sysInvd(): bool {
  vmexit(EXIT_REASON_INVD, 0);
  return false;
}
export function sysVmcall(): bool {
  vmexit(EXIT_REASON_VMCALL, 0);
  return false;
}
export function sysWbinvd(): bool {
  if (!(proc2Ctl & SECONDARY_EXEC_WBINVD_EXITING)) return true;
  vmexit(EXIT_REASON_WBINVD, 0);
  return false;
}

// ---- MSRs ----

/** The VMX MSR bitmap (SDM 25.6.9): without USE_MSR_BITMAPS, or outside both ranges, every access exits. */
function msrExits(msr: u32, write: bool): bool {
  if (!(procCtl & CPU_BASED_USE_MSR_BITMAPS)) return true;
  let quarter: usize, i: u32;
  if (msr <= 0x1fff) { quarter = MSRBM_READ_LOW; i = msr; }
  else if (msr >= 0xc0000000 && msr <= 0xc0001fff) { quarter = MSRBM_READ_HIGH; i = msr - 0xc0000000; }
  else return true;
  if (write) quarter += MSRBM_WRITE_LOW;
  const byte = <u32>load<u8>(<usize>MSRBM_BASE + <usize>vcpu * <usize>MSRBM_STRIDE + quarter + <usize>(i >> 3));
  return ((byte >> (i & 7)) & 1) != 0;
}

let msrValue: u64 = 0;

/** The state-block field of an MSR the core keeps as plain storage, or 0. */
function msrField(msr: u32): usize {
  switch (msr) {
    case MSR_IA32_APICBASE: return S_MSR_APIC_BASE;
    case MSR_IA32_MISC_ENABLE: return S_MSR_MISC_ENABLE;
    case MSR_KERNEL_GS_BASE: return S_MSR_KERNEL_GS_BASE;
    case MSR_CORE_C1_RES: return S_MSR_C1_RES;
    case MSR_CORE_C3_RESIDENCY: return S_MSR_C3_RES;
    case MSR_CORE_C6_RESIDENCY: return S_MSR_C6_RES;
    case MSR_CORE_C7_RESIDENCY: return S_MSR_C7_RES;
    case MSR_EFER: return S_MSR_EFER;
    case MSR_TSC_AUX: return S_MSR_TSC_AUX;
    default: return 0;
  }
}

/** APERF and MPERF count the cycles of this run on top of their stored value. */
function perfField(msr: u32): usize {
  return msr == MSR_IA32_APERF ? <usize>S_MSR_APERF : msr == MSR_IA32_MPERF ? <usize>S_MSR_MPERF : 0;
}

function readMsr(msr: u32, e: usize): bool {
  if (msr == MSR_IA32_TSC) { msrValue = tscAt(e) + tscOffset; return true; }
  if (msr == MSR_FS_BASE) { msrValue = fsBase; return true; }
  if (msr == MSR_GS_BASE) { msrValue = gsBase; return true; }
  const perf = perfField(msr);
  if (perf) { msrValue = load<u64>(S + perf) + (tscAt(e) - runTsc); return true; }
  const f = msrField(msr);
  if (!f) return false;
  msrValue = load<u64>(S + f);
  return true;
}

// EFER bits software may write: SCE, LME, LMA (ignored), NXE, SVME, LMSLE, FFXSR, TCE.
const EFER_WRITABLE: u64 = 0xfd01;
const EFER_LME: u64 = 1 << 8;
const EFER_LMA: u64 = 1 << 10;

function writeMsr(msr: u32, v: u64, e: usize): bool {
  switch (msr) {
    case MSR_IA32_TSC: tscAdjust = v - tscOffset - tscAt(e); return true; // moves this pCPU's TSC
    case MSR_FS_BASE: case MSR_GS_BASE: case MSR_KERNEL_GS_BASE: {
      if (!canonical(v)) return false;
      if (msr == MSR_FS_BASE) { fsBase = v; store<u64>(S + S_MSR_FS_BASE, v); }
      else if (msr == MSR_GS_BASE) { gsBase = v; store<u64>(S + S_MSR_GS_BASE, v); }
      else store<u64>(S + S_MSR_KERNEL_GS_BASE, v);
      return true;
    }
    case MSR_EFER: {
      // Long mode stays on: LME cannot be cleared under paging, and LMA is read-only.
      if ((v & ~EFER_WRITABLE) || !(v & EFER_LME)) return false;
      store<u64>(S + S_MSR_EFER, (v & ~EFER_LMA) | (load<u64>(S + S_MSR_EFER) & EFER_LMA));
      return true;
    }
    case MSR_TSC_AUX: if (v >> 32) return false; break;
    case MSR_CORE_C1_RES: case MSR_CORE_C3_RESIDENCY: case MSR_CORE_C6_RESIDENCY: case MSR_CORE_C7_RESIDENCY:
      return false; // residency counters are read-only
  }
  const perf = perfField(msr);
  if (perf) { store<u64>(S + perf, v - (tscAt(e) - runTsc)); return true; }
  const f = msrField(msr);
  if (!f) return false;
  store<u64>(S + f, v);
  return true;
}

export function sysRdmsr(e: usize): bool {
  const msr = rget<u32>(RCX);
  if (msrExits(msr, false)) { vmexit(EXIT_REASON_MSR_READ, 0); return false; }
  if (!readMsr(msr, e)) { raise(GP_VECTOR, 0); return false; }
  rset<u32>(RAX, <u32>msrValue);
  rset<u32>(RDX, <u32>(msrValue >> 32));
  return true;
}

export function sysWrmsr(e: usize): bool {
  const msr = rget<u32>(RCX);
  if (msrExits(msr, true)) { vmexit(EXIT_REASON_MSR_WRITE, 0); return false; }
  const v = (<u64>rget<u32>(RDX) << 32) | <u64>rget<u32>(RAX);
  if (!writeMsr(msr, v, e)) { raise(GP_VECTOR, 0); return false; }
  return true;
}

// ---- MONITOR / MWAIT ----

/** MONITOR: arms the line of DS:RAX (a read access for EPT). ECX carries no extensions here. */
export function sysMonitor(e: usize): bool {
  if (procCtl & CPU_BASED_MONITOR_EXITING) { vmexit(EXIT_REASON_MONITOR_INSTRUCTION, 0); return false; }
  if (rget<u32>(RCX) != 0) { raise(GP_VECTOR, 0); return false; }
  const fl = load<u8>(e, E_FL);
  let a = (fl & FL_A32) ? <u64>rget<u32>(RAX) : rget<u64>(RAX);
  if (fl & FL_FS) a += fsBase;
  else if (fl & FL_GS) a += gsBase;
  rd<u8>(a);
  if (mx) return false;
  armMonitor(a);
  return true;
}

/** MWAIT: waits for a write to the armed line or an interrupt; a NOP when nothing is armed. */
export function sysMwait(): bool {
  if (procCtl & CPU_BASED_MWAIT_EXITING) { vmexit(EXIT_REASON_MWAIT_INSTRUCTION, 0); return false; }
  const ecx = rget<u32>(RCX);
  if (ecx > 1) { raise(GP_VECTOR, 0); return false; }
  if (load<u32>(S + S_MONITOR_ARMED)) {
    activity = ACTIVITY_MWAIT;
    store<u32>(S + S_MWAIT_ECX, ecx);
  }
  return true;
}

// ---- Descriptor tables ----

export function sysLidt(a: u64): bool {
  const limit = rd<u16>(a), base = rd<u64>(a + 2);
  if (mx) return false;
  if (!canonical(base)) { raise(GP_VECTOR, 0); return false; }
  store<u32>(S + S_IDTR_LIMIT, limit);
  store<u64>(S + S_IDTR_BASE, base);
  return true;
}

export function sysSidt(a: u64): bool {
  return wr<u16>(a, <u16>load<u32>(S + S_IDTR_LIMIT)) && wr<u64>(a + 2, load<u64>(S + S_IDTR_BASE));
}

// ---- Port IO: every IN, OUT, INS and OUTS exits (the core has no IO bitmaps) ----

@inline function ioSize(e: usize): u64 {
  return <u64>1 << <u64>(load<u8>(e, E_FL) & FL_SI);
}

export function sysIo(e: usize): bool {
  const k = load<u8>(e, E_K);
  const port = (k & IO_IMM) ? <u64>imm<u8>(e) : <u64>rget<u16>(RDX);
  vmexit(EXIT_REASON_IO_INSTRUCTION, (ioSize(e) - 1) | ((k & IO_IN) ? IOQ_IN : 0) | ((k & IO_IMM) ? IOQ_IMM : 0) | (port << IOQ_PORT_SHIFT));
  return false;
}

export function sysIoString(e: usize): bool {
  const k = load<u8>(e, E_K), fl = load<u8>(e, E_FL);
  const rep = (fl & (FL_REP | FL_REPNE)) ? IOQ_REP : 0;
  vmexit(EXIT_REASON_IO_INSTRUCTION, (ioSize(e) - 1) | ((k & IO_IN) ? IOQ_IN : 0) | IOQ_STRING | rep | (<u64>rget<u16>(RDX) << IOQ_PORT_SHIFT));
  // Linear address of the string element and the VM-exit instruction information: address size in
  // bits 9:7 (1 = 32-bit, 2 = 64-bit) and, for OUTS, the segment in bits 17:15 (DS 3, FS 4, GS 5).
  const a32 = (fl & FL_A32) != 0;
  let gla: u64, info: u32 = (a32 ? 1 : 2) << 7;
  if (k & IO_IN) gla = a32 ? <u64>rget<u32>(RDI) : rget<u64>(RDI);
  else {
    gla = a32 ? <u64>rget<u32>(RSI) : rget<u64>(RSI);
    const seg: u32 = (fl & FL_FS) ? 4 : (fl & FL_GS) ? 5 : 3;
    info |= seg << 15;
    if (fl & FL_FS) gla += fsBase;
    else if (fl & FL_GS) gla += gsBase;
  }
  store<u64>(S + S_EXIT_GLA, gla);
  store<u32>(S + S_EXIT_INSN_INFO, info);
  return false;
}

// ---- Flags, IRET and the interrupt shadows ----

// RFLAGS bits POPF may change at CPL 0 (ID AC NT IOPL OF DF IF TF SF ZF AF PF CF: not RF, VM, VIF,
// VIP), and those IRET restores (also RF, VIF, VIP; VM stays 0 in 64-bit mode).
const POPF_MASK: u64 = 0x247fd5;
const IRET_MASK: u64 = 0x3d7fd5;

export function sysPopf<T>(): bool {
  const sp = rget<u64>(RSP);
  const v = <u64>rdStack<T>(sp);
  if (mx) return false;
  rset<u64>(RSP, sp + sizeof<T>());
  const mask = sizeof<T>() == 2 ? POPF_MASK & 0xffff : POPF_MASK;
  setRflags((getRflags() & ~mask & ~<u64>X86_EFLAGS_RF) | (v & mask));
  return true;
}

/** IRET in 64-bit mode: pops RIP, CS, RFLAGS, RSP and SS (each of the operand size). */
export function sysIret<T>(): bool {
  const sp = rget<u64>(RSP), n = sizeof<T>();
  const ip = <u64>rdStack<T>(sp), cs = <u64>rdStack<T>(sp + n), fl = <u64>rdStack<T>(sp + 2 * n);
  const nsp = <u64>rdStack<T>(sp + 3 * n), ss = <u64>rdStack<T>(sp + 4 * n);
  if (mx) return false;
  if (!canonical(ip)) { raise(GP_VECTOR, 0); return false; }
  const mask = n == 2 ? IRET_MASK & 0xffff : IRET_MASK;
  setRflags((getRflags() & ~mask) | (fl & mask));
  rset<u64>(RSP, nsp);
  store<u32>(S + S_INTERRUPTIBILITY, load<u32>(S + S_INTERRUPTIBILITY) & ~INTR_BLOCK_NMI); // IRET ends NMI blocking
  store<u16>(S + S_CS, <u16>cs);
  store<u16>(S + S_SS, <u16>ss);
  sysTarget = ip;
  return true;
}

/** STI opens an interrupt shadow for the next instruction when IF was 0. */
export function sysSti(): void {
  if (!(flOther() & X86_EFLAGS_IF)) shadowNext = INTR_BLOCK_STI;
  setFlOther(flOther() | X86_EFLAGS_IF);
}

// ---- Control registers and XCR0 ----

/**
 * MOV to or from CR0, CR2, CR3, CR4, CR8 (decoded: others are #UD). CR3 and CR8 exit as their
 * load/store exiting controls say. Writes to CR0 and CR4 always exit: the core keeps no guest/host
 * masks, so it treats every bit as the host's (KVM owns most of them). Reads come from the state block.
 */
export function sysMovCr(e: usize, toCr: bool): bool {
  const cr = <u32>load<u8>(e, E_R) >> 3, gpr = <u32>load<u8>(e, E_B) >> 3;
  let exits = false;
  if (cr == 3) exits = (procCtl & (toCr ? CPU_BASED_CR3_LOAD_EXITING : CPU_BASED_CR3_STORE_EXITING)) != 0;
  else if (cr == 8) exits = (procCtl & (toCr ? CPU_BASED_CR8_LOAD_EXITING : CPU_BASED_CR8_STORE_EXITING)) != 0;
  else if (cr != 2) exits = toCr;
  if (exits) {
    vmexit(EXIT_REASON_CR_ACCESS, <u64>(cr | (toCr ? 0 : CRQ_FROM_CR) | (gpr << CRQ_GPR_SHIFT)));
    return false;
  }
  const field: usize = cr == 0 ? S_CR0 : cr == 2 ? S_CR2 : cr == 3 ? S_CR3 : cr == 4 ? S_CR4 : S_CR8;
  if (!toCr) { rset<u64>(<usize>gpr * 8, load<u64>(S + field)); return true; }
  const v = rget<u64>(<usize>gpr * 8);
  if (cr == 8 && v > 15) { raise(GP_VECTOR, 0); return false; }
  store<u64>(S + field, v);
  return true;
}

/** XSETBV always exits on VMX. */
export function sysXsetbv(): bool {
  vmexit(EXIT_REASON_XSETBV, 0);
  return false;
}

/** XGETBV: XCR0 for ECX = 0 (the model keeps it in S_XCR0); #GP(0) for anything else here. */
export function sysXgetbv(): bool {
  if (rget<u32>(RCX) != 0) { raise(GP_VECTOR, 0); return false; }
  const v = load<u64>(S + S_XCR0);
  rset<u32>(RAX, <u32>v);
  rset<u32>(RDX, <u32>(v >> 32));
  return true;
}

// ---- Debug registers ----

/** MOV to or from DR0-7 (DR4/DR5 are DR6/DR7: CR4.DE is clear). DR6/DR7 take no upper half. */
export function sysMovDr(e: usize, toDr: bool): bool {
  let dr = <u32>load<u8>(e, E_R) >> 3;
  const gpr = <u32>load<u8>(e, E_B) >> 3;
  if (procCtl & CPU_BASED_MOV_DR_EXITING) {
    vmexit(EXIT_REASON_DR_ACCESS, <u64>(dr | (toDr ? 0 : DRQ_FROM_DR) | (gpr << DRQ_GPR_SHIFT)));
    return false;
  }
  if (dr == 4 || dr == 5) dr += 2;
  const field: usize = dr == 6 ? <usize>S_DR6 : dr == 7 ? <usize>S_DR7 : <usize>S_DR0 + <usize>dr * 8;
  if (!toDr) { rset<u64>(<usize>gpr * 8, load<u64>(S + field)); return true; }
  const v = rget<u64>(<usize>gpr * 8);
  if (dr >= 6 && (v >> 32)) { raise(GP_VECTOR, 0); return false; }
  store<u64>(S + field, dr == 6 ? v | DR6_ACTIVE_LOW : dr == 7 ? v | 0x400 : v);
  return true;
}

// ---- Segment registers: only their selectors (descriptors are not modelled) ----

/** The state-block field of segment register n (ES CS SS DS FS GS). */
function sregField(n: u32): usize {
  switch (n) {
    case 0: return S_ES;
    case 1: return S_CS;
    case 2: return S_SS;
    case 3: return S_DS;
    case 4: return S_FS;
    default: return S_GS;
  }
}

export function readSreg(n: u32): u16 {
  return load<u16>(S + sregField(n));
}

/** MOV Sreg, r/m16. Loading SS blocks interrupts and #DB for the next instruction. */
export function sysMovToSreg(n: u32, sel: u16): void {
  store<u16>(S + sregField(n), sel);
  if (n == 2) shadowNext = INTR_BLOCK_MOV_SS;
}
