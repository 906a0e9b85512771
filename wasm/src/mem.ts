// Guest memory as the core sees it: RAM at GPA 0 (identity-mapped, so GVA = GPA), and everything
// else an EPT violation, an APIC access, or (in emulate()) an MMIO fragment.
//
// The fast path of every access is one compare against the RAM size; stores also check the line's
// flag byte, so that writes to decoded code or to an armed MONITOR line take the slow path.
import {
  S_EXIT_GPA, S_EXIT_GLA, S_ACCESS_SIZE, S_ACCESS_WRITE, S_ACCESS_DATA, S_MMIO_COUNT, S_MMIO_FRAGS,
  MMIO_MAX_FRAGS, MMIO_FRAG_SIZE, F_DATA, S_MONITOR_ADDR, S_MONITOR_ARMED, S_ACTIVITY,
  ACTIVITY_MWAIT, ACTIVITY_ACTIVE, GP_VECTOR, SS_VECTOR, APIC_BASE_GPA, EXIT_REASON_APIC_ACCESS,
  EXIT_REASON_EPT_VIOLATION, EPTQ_READ, EPTQ_WRITE, EPTQ_FETCH, EPTQ_GLA_VALID, EPTQ_GLA_TRANSLATED,
  APICQ_TYPE_SHIFT, APIC_ACCESS_LINEAR_READ, APIC_ACCESS_LINEAR_WRITE, APIC_ACCESS_FETCH,
} from './abi';
import { RAM, LINE_FLAGS, LINE_SHIFT, LINE_CODE, LINE_MONITOR } from './layout';
import { S, vcpu, vcpuCount, ramSize, emulating, mx, MX_NONE, MX_MMIO, raise, vmexit, canonical, stateOf } from './state';
import { codeWritten } from './cache';

// Access kinds for the slow path.
export const ACC_READ = 0;
export const ACC_WRITE = 1;
export const ACC_STACK = 2; // with READ/WRITE: a non-canonical address is #SS, not #GP
export const ACC_FETCH = 4;
/** Set while an event is being delivered: APIC accesses then report type 3 (event delivery). */
export let delivering = false;
export function setDelivering(on: bool): void {
  delivering = on;
}

/** MMIO fragments consumed by the instruction emulate() is running. */
export let mmioUsed: u32 = 0;
export function resetMmio(): void {
  mmioUsed = 0;
}

@inline export function rd<T>(ea: u64): T {
  if (ea <= ramSize - sizeof<T>()) return load<T>(RAM + <usize>ea);
  return <T>slowRead(ea, sizeof<T>(), ACC_READ);
}

/** Returns false when the store did not happen (a fault, an exit or an MMIO stop: see state.mx). */
@inline export function wr<T>(ea: u64, v: T): bool {
  if (ea <= ramSize - sizeof<T>() && load<u8>(LINE_FLAGS + <usize>(ea >> LINE_SHIFT)) == 0) {
    store<T>(RAM + <usize>ea, v);
    return true;
  }
  return slowWrite(ea, sizeof<T>(), <u64>v, ACC_WRITE);
}

@inline export function rdStack<T>(ea: u64): T {
  if (ea <= ramSize - sizeof<T>()) return load<T>(RAM + <usize>ea);
  return <T>slowRead(ea, sizeof<T>(), ACC_READ | ACC_STACK);
}

@inline export function wrStack<T>(ea: u64, v: T): bool {
  if (ea <= ramSize - sizeof<T>() && load<u8>(LINE_FLAGS + <usize>(ea >> LINE_SHIFT)) == 0) {
    store<T>(RAM + <usize>ea, v);
    return true;
  }
  return slowWrite(ea, sizeof<T>(), <u64>v, ACC_WRITE | ACC_STACK);
}

/**
 * True when the qwords of [ea, ea+len) can all be written (an interrupt frame, before any of it is):
 * otherwise reports the first one that cannot, in push order (from the top), as its store would.
 */
export function stackWritable(ea: u64, len: u64): bool {
  if (ea <= ramSize - len) return true;
  for (let off = len; off >= 8; off -= 8) {
    const a = ea + off - 8;
    if (!(a <= ramSize - 8)) {
      slowAccess(a, 8, ACC_WRITE | ACC_STACK, 0);
      return false;
    }
  }
  return true;
}

function slowRead(ea: u64, size: u32, kind: i32): u64 {
  return slowAccess(ea, size, kind, 0);
}

function slowWrite(ea: u64, size: u32, v: u64, kind: i32): bool {
  if (ea <= ramSize - size) {
    storeN(ea, size, v);
    lineWritten(ea, size);
    return true;
  }
  slowAccess(ea, size, kind, v);
  return mx == MX_NONE; // an MMIO fragment in emulate() completes the store
}

function storeN(ea: u64, size: u32, v: u64): void {
  const p = RAM + <usize>ea;
  if (size == 1) store<u8>(p, <u8>v);
  else if (size == 2) store<u16>(p, <u16>v);
  else if (size == 4) store<u32>(p, <u32>v);
  else store<u64>(p, v);
}

/** An access that is not (entirely) in RAM. Reads return the MMIO fragment's data in emulate(), else 0. */
function slowAccess(ea: u64, size: u32, kind: i32, v: u64): u64 {
  if (mx != MX_NONE) return 0; // an earlier access already stopped this instruction
  const write = (kind & ACC_WRITE) != 0;
  if (!canonical(ea) || !canonical(ea + size - 1)) {
    raise((kind & ACC_STACK) ? SS_VECTOR : GP_VECTOR, 0);
    return 0;
  }
  const gpa = ea < ramSize ? ramSize : ea; // the first byte outside RAM
  if (emulating) return mmio(gpa, size, write, v);
  if ((gpa & ~<u64>0xfff) == <u64>APIC_BASE_GPA) {
    const type = (kind & ACC_FETCH) ? APIC_ACCESS_FETCH : delivering ? 3 : write ? APIC_ACCESS_LINEAR_WRITE : APIC_ACCESS_LINEAR_READ;
    vmexit(EXIT_REASON_APIC_ACCESS, (gpa & 0xfff) | (<u64>type << APICQ_TYPE_SHIFT));
  } else {
    const what = (kind & ACC_FETCH) ? EPTQ_FETCH : write ? EPTQ_WRITE : EPTQ_READ;
    vmexit(EXIT_REASON_EPT_VIOLATION, what | EPTQ_GLA_VALID | EPTQ_GLA_TRANSLATED);
  }
  describeAccess(gpa, ea, size, write, v);
  return 0;
}

function describeAccess(gpa: u64, gla: u64, size: u32, write: bool, v: u64): void {
  store<u64>(S + S_EXIT_GPA, gpa);
  store<u64>(S + S_EXIT_GLA, gla);
  store<u32>(S + S_ACCESS_SIZE, size);
  store<u32>(S + S_ACCESS_WRITE, <u32>write);
  store<u64>(S + S_ACCESS_DATA, write ? v : 0);
}

/** emulate(): the n-th access outside RAM is completed by MMIO fragment n, or stops for the model. */
function mmio(gpa: u64, size: u32, write: bool, v: u64): u64 {
  const n = mmioUsed;
  if (n < load<u32>(S + S_MMIO_COUNT) && n < <u32>MMIO_MAX_FRAGS) {
    mmioUsed++;
    if (write) return 0;
    const data = load<u64>(S + S_MMIO_FRAGS + <usize>n * MMIO_FRAG_SIZE + F_DATA);
    return size == 8 ? data : data & ((<u64>1 << (<u64>size * 8)) - 1);
  }
  describeAccess(gpa, gpa, size, write, v);
  mx = MX_MMIO;
  return 0;
}

/** Instruction fetch outside RAM at gpa: an EPT violation or APIC access with the fetch type. */
export function fetchFault(gpa: u64): void {
  slowAccess(gpa, 1, ACC_FETCH, 0);
}

// ---- Stores that hit flagged lines ----

/** A store into RAM at [ea, ea+size) that found its line flagged (from the core or the host). */
export function lineWritten(ea: u64, size: u64): void {
  const first = <usize>(ea >> LINE_SHIFT), last = <usize>((ea + size - 1) >> LINE_SHIFT);
  let any: u8 = 0;
  for (let l = first; l <= last; l++) {
    const f = load<u8>(LINE_FLAGS + l);
    any |= f;
    if (f & LINE_CODE) store<u8>(LINE_FLAGS + l, f & ~LINE_CODE);
  }
  if (any & LINE_CODE) codeWritten();
  if (any & LINE_MONITOR) monitorsWritten(ea, size);
}

/** Flags the lines of [a, b] (inclusive). */
export function markLines(a: u64, b: u64, flag: u8): void {
  for (let l = <usize>(a >> LINE_SHIFT), last = <usize>(b >> LINE_SHIFT); l <= last; l++) {
    store<u8>(LINE_FLAGS + l, load<u8>(LINE_FLAGS + l) | flag);
  }
}

/** A write to an armed monitor line triggers it: the monitor disarms and a vCPU waiting in MWAIT wakes. */
function monitorsWritten(ea: u64, size: u64): void {
  for (let v = 0; v < vcpuCount; v++) {
    const s = stateOf(v);
    if (!load<u32>(s + S_MONITOR_ARMED)) continue;
    const line = load<u64>(s + S_MONITOR_ADDR);
    if (ea + size <= line || ea >= line + 64) continue;
    store<u32>(s + S_MONITOR_ARMED, 0);
    if (v != vcpu && load<u32>(s + S_ACTIVITY) == ACTIVITY_MWAIT) store<u32>(s + S_ACTIVITY, ACTIVITY_ACTIVE);
  }
}

/** Arms the running vCPU's monitor on the 64-byte line of ea. */
export function armMonitor(ea: u64): void {
  const line = ea & ~<u64>63;
  store<u64>(S + S_MONITOR_ADDR, line);
  store<u32>(S + S_MONITOR_ARMED, 1);
  // A store of up to 8 bytes that reaches the line may start in the line before it.
  markLines(line >= 64 ? line - 64 : 0, line, LINE_MONITOR);
}
