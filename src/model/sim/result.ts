// The exitscope-result/1 document (spec/scenario-format.md): the step objects and the final state of
// the VM and its vCPUs, built from the kernel model's objects. Numbers that can exceed 2^53 are "0x…"
// strings; kernel enums are their names.
import * as abi from '../../../wasm/src/abi';
import type { RegName } from '../cpu/core';
import type { Frame } from '../trace/events';
import { inGuestFlags, vmFlags } from '../kvm/disable_exits';
import { hex } from '../kvm/fmt';
import type { InGuestFlags, Kvm, KvmVcpu } from '../kvm/kvm_host';
import { KVM_EXIT, KVM_MP_STATE, KVM_RUN as O, KVM_X86_DISABLE_EXITS_APERFMPERF } from '../kvm/uapi';
import { kvmArchVcpuIoctlGetMpstate, kvmArchVcpuIoctlGetRegs } from '../kvm/kvm';
import type { OpName } from '../scenario/types';
import type { Mismatch } from './expect';

export interface RunSection {
  exit_reason: string;
  exit_reason_code: number;
  /** hw.hardware_exit_reason: a number (as a "0x…" string if the union bytes make it exceed 2^53). */
  hw_exit_reason: number | string;
  rip: string;
  mp_state: string;
  io?: { direction: number; size: number; port: number; count: number; data_offset: number; data: string[] };
  mmio?: { phys_addr: string; data: string; len: number; is_write: number };
  debug?: { exception: number; pc: string; dr6: string; dr7: string };
  internal?: { suberror: number; ndata: number; data: string[] };
  fail_entry?: { hardware_entry_failure_reason: string; cpu: number };
}

export type Regs = Record<RegName, string>;

export interface StepResult {
  /** Position in the program; null for an ioctl issued outside it (the lab's checkboxes). */
  index: number | null;
  op: OpName;
  fd?: string;
  /** Virtual time when the operation finished, in ns. */
  t_ns: number;
  ret: number | null;
  errno: string | null;
  /** Why a failing ioctl failed, in the model's words (the note of the frame that refused it). */
  reason?: string;
  run?: RunSection;
  frames?: Frame[];
  /** Calls made after the frame limit (kvm/frames.ts MAX_FRAMES_PER_IOCTL) was reached: run, not recorded. */
  frames_dropped?: number;
  /** The thread is still inside KVM_RUN (or waits for vcpu->mutex) at the timeout. */
  blocked?: true;
  threads?: Record<string, Record<string, number>>;
  /** run_threads: the fds whose thread is still inside KVM_RUN at the end. */
  in_kvm_run?: string[];
  regs?: Regs;
  mp_state?: string;
  stats?: Record<string, number>;
  expect?: 'met' | { mismatches: Mismatch[] };
}

export interface FlagsView {
  mwait: boolean;
  hlt: boolean;
  pause: boolean;
  cstate: boolean;
  aperfmperf?: boolean;
}

export interface ResultDoc {
  format: 'exitscope-result/1';
  kernel: string;
  patches?: number;
  steps: StepResult[];
  vm: { disabled_exits: FlagsView };
  vcpus: {
    id: number;
    disabled_exits: FlagsView;
    vmcs: { primary: string; secondary: string };
    regs: Regs;
    mp_state: string;
    stats: Record<string, number>;
  }[];
  expectations: { checked: number; failed: number };
}

export function flagsView(f: InGuestFlags): FlagsView {
  return { mwait: f.mwait_in_guest, hlt: f.hlt_in_guest, pause: f.pause_in_guest, cstate: f.cstate_in_guest };
}

/** kvm->arch's flags; mainline also shows APERFMPERF. */
export function vmFlagsView(kvm: Kvm): FlagsView {
  const v = flagsView(vmFlags(kvm));
  if (kvm.variant.disabledExitsU64) v.aperfmperf = (kvm.arch.disabled_exits & KVM_X86_DISABLE_EXITS_APERFMPERF) !== 0n;
  return v;
}

export function regsView(vcpu: KvmVcpu): Regs {
  const r = kvmArchVcpuIoctlGetRegs(vcpu);
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, hex(v)])) as Regs;
}

const MP_STATE_PREFIX = 'KVM_MP_STATE_';
/** "KVM_MP_STATE_HALTED" → "HALTED" (the run section and the vCPU summary use the short form). */
export function mpStateName(state: number, short: boolean): string {
  const n = KVM_MP_STATE.name(state) ?? String(state);
  return short && n.startsWith(MP_STATE_PREFIX) ? n.slice(MP_STATE_PREFIX.length) : n;
}

/** What KVM_RUN's return says in the run structure's first words: exit_reason by name, hw.hardware_exit_reason. */
export function runReturn(vcpu: KvmVcpu): { exit_reason: string; hw_exit_reason: number | string } {
  const run = vcpu.run;
  const code = run.exit_reason;
  const hw = run.hardware_exit_reason;
  return { exit_reason: KVM_EXIT.name(code) ?? `KVM_EXIT_${code}`, hw_exit_reason: hw <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(hw) : hex(hw) };
}

/** The run structure as the kernel left it, with the union member it filled last. */
export function runSection(vcpu: KvmVcpu): RunSection {
  const run = vcpu.run;
  const { exit_reason, hw_exit_reason } = runReturn(vcpu);
  const s: RunSection = {
    exit_reason,
    exit_reason_code: run.exit_reason,
    hw_exit_reason,
    rip: hex(vcpu.core.u64(vcpu.vcpu_idx, abi.S_RIP)),
    mp_state: mpStateName(kvmArchVcpuIoctlGetMpstate(vcpu), true),
  };
  const dv = run.dv;
  switch (run.filled) {
    case 'io': {
      const size = run.bytes[O.io_size], count = dv.getUint32(O.io_count, true);
      const page = run.pioData(size * count);
      const data = Array.from({ length: count }, (_, i) => hex(page.subarray(i * size, i * size + size).reduceRight((v, b) => v * 256 + b, 0)));
      s.io = { direction: run.bytes[O.io_direction], size, port: dv.getUint16(O.io_port, true), count, data_offset: Number(run.u64(O.io_data_offset)), data };
      break;
    }
    case 'mmio':
      s.mmio = { phys_addr: hex(run.u64(O.mmio_phys_addr)), data: hex(run.u64(O.mmio_data)), len: dv.getUint32(O.mmio_len, true), is_write: run.bytes[O.mmio_is_write] };
      break;
    case 'debug':
      s.debug = { exception: dv.getUint32(O.debug_exception, true), pc: hex(run.u64(O.debug_pc)), dr6: hex(run.u64(O.debug_dr6)), dr7: hex(run.u64(O.debug_dr7)) };
      break;
    case 'internal': {
      const ndata = dv.getUint32(O.internal_ndata, true);
      s.internal = { suberror: dv.getUint32(O.internal_suberror, true), ndata, data: Array.from({ length: Math.min(ndata, 16) }, (_, i) => hex(run.u64(O.internal_data + 8 * i))) };
      break;
    }
    case 'fail_entry':
      s.fail_entry = { hardware_entry_failure_reason: hex(run.u64(O.fail_entry_hardware_entry_failure_reason)), cpu: dv.getUint32(O.fail_entry_cpu, true) };
      break;
  }
  return s;
}

export function vcpuSummary(vcpu: KvmVcpu): ResultDoc['vcpus'][number] {
  const core = vcpu.core, id = vcpu.vcpu_idx;
  return {
    id: vcpu.vcpu_id,
    disabled_exits: flagsView(inGuestFlags(vcpu)),
    vmcs: { primary: hex(core.u32(id, abi.S_PROC_CONTROLS)), secondary: hex(core.u32(id, abi.S_PROC_CONTROLS2)) },
    regs: regsView(vcpu),
    mp_state: mpStateName(kvmArchVcpuIoctlGetMpstate(vcpu), true),
    stats: { ...vcpu.stat },
  };
}

/** The first note in a frame tree (depth first): why an ioctl returned what it did. */
export function firstNote(frames: readonly Frame[]): string | undefined {
  for (const f of frames) {
    if (f.note) return f.note;
    const n = firstNote(f.calls);
    if (n) return n;
  }
  return undefined;
}
