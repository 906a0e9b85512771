// What the lab shows of the VM and each vCPU, read from the kernel model: the flags the kernel code
// reads, pending requests, guest_debug, mp_state, registers, stats, and the VMCS control words with the
// bits this lab is about (and which of them the last change flipped).
import * as abi from '../../../wasm/src/abi';
import type { Regs } from '../cpu/core';
import type { Frame, VcpuActivity } from '../trace/events';
import { checkExtensionDisableExits, inGuestFlags } from '../kvm/disable_exits';
import type { VcpuThread } from '../kvm/host';
import type { Kvm, KvmVcpu } from '../kvm/kvm_host';
import { KVM_REQ_DISABLE_EXITS, requestNames } from '../kvm/kvm_host';
import { kvmArchVcpuIoctlGetMpstate, kvmArchVcpuIoctlGetRegs } from '../kvm/kvm';
import { KVM_GUESTDBG, KVM_X86_DISABLE_EXITS, KVM_X86_QUIRK } from '../kvm/uapi';
import { APIC_IRR, APIC_ISR, APIC_LVTT, APIC_LVT_MASKED, APIC_LVT_TIMER_PERIODIC, APIC_LVT_TIMER_TSCDEADLINE, type KvmLapic } from '../kvm/lapic';
import { variantLabel } from '../kvm/variant';
import { hex } from '../kvm/fmt';
import { KVM_APIC_PV_EOI_PENDING } from '../kvm/pv_eoi';
import { flagsView, mpStateName, vmFlagsView, type FlagsView } from './result';

export interface ControlBit { name: string; set: boolean; changed: boolean }
export interface VmcsControl {
  field: string;
  value: number;
  /** The value before the last change (null: unchanged since vCPU creation). */
  previous: number | null;
  bits: ControlBit[];
}

export interface VmInspect {
  kernel: string;
  patches: number;
  variantLabel: string;
  disabled: FlagsView;
  createdVcpus: number;
  irqchip: 'kernel' | 'userspace';
  /** KVM_CHECK_EXTENSION(KVM_CAP_X86_DISABLE_EXITS), by name. */
  allowedExits: string[];
  /** The variant has OVERRIDE (RFC v4 4/7), the vCPU-fd cap (5/7), KVM_GUESTDBG_EXIT_USERSPACE (6/7). */
  override: boolean;
  vcpuCap: boolean;
  exitUserspace: boolean;
  disabledQuirks: string[];
  maxHaltPollNs: number;
}

export interface VcpuInspect {
  id: number;
  fd: string;
  /** The flags the kernel reads for this vCPU; `scope` says whose they are (vcpu->arch from RFC v4 2/7, else kvm->arch). */
  disabled: FlagsView;
  scope: 'vcpu' | 'vm';
  requests: string[];
  /** A word on each pending request ("takes effect at next VM-entry"). */
  requestNotes: string[];
  guestDebug: number;
  guestDebugNames: string[];
  mpState: string;
  activity: VcpuActivity;
  inKvmRun: boolean;
  regs: Regs;
  stats: Record<string, number>;
  vmcs: VmcsControl[];
  pleWindow: number;
  haltPollNs: number;
  exits: number;
  /** Virtual time of this vCPU's thread, in ns. */
  clockNs: number;
  /** The frames of its current or last KVM_RUN. */
  frames: Frame[];
  /** The in-kernel LAPIC, when there is one: pending and in-service vectors, priority, the timer. */
  apic: ApicInspect | null;
}

export interface PvEoiInspect {
  /** The MSR's value, in hex. */
  msr: string;
  /** Bit 0: KVM may set the flag at GPA `gpa`. */
  enabled: boolean;
  gpa: number | null;
  /** KVM_APIC_PV_EOI_PENDING: KVM set the flag at the last entry (always clear between KVM_RUNs: every exit syncs it). */
  pending: boolean;
  /** The flag byte's bit 0 in guest memory now (null when PV EOI is off). */
  flag: number | null;
  /** "PV EOI on at GPA 0x…" with ", pending" — the line for a LAPIC view. */
  summary: string;
}

export interface ApicInspect {
  mode: 'disabled' | 'xapic' | 'x2apic';
  id: number;
  irr: number[];
  isr: number[];
  ppr: number;
  /** KVM's highest_isr_cache: the vector last put in service, -1 after any EOI (PV EOI is offered only when it is valid). */
  highestIsrCache: number;
  /** MSR_KVM_PV_EOI_EN as the guest left it (pv_eoi.ts): only an in-kernel LAPIC acts on it. */
  pvEoi: PvEoiInspect;
  timer: { mode: 'one-shot' | 'periodic' | 'tsc-deadline'; masked: boolean; vector: number; pending: number; expiresNs: number | null };
}

function vectors(apic: KvmLapic, base: number): number[] {
  const out: number[] = [];
  for (let v = 0; v < 256; v++) if (apic.testVector(base, v)) out.push(v);
  return out;
}

function inspectApic(vcpu: KvmVcpu): ApicInspect | null {
  const apic = vcpu.apic;
  if (!apic) return null;
  const lvtt = apic.get(APIC_LVTT);
  const lt = apic.lapic_timer;
  return {
    mode: !apic.hwEnabled ? 'disabled' : apic.x2apicMode ? 'x2apic' : 'xapic',
    id: apic.apicId,
    irr: vectors(apic, APIC_IRR),
    isr: vectors(apic, APIC_ISR),
    ppr: apic.updatePpr(),
    highestIsrCache: apic.highest_isr_cache,
    pvEoi: inspectPvEoi(vcpu),
    timer: {
      mode: lt.timer_mode === APIC_LVT_TIMER_TSCDEADLINE ? 'tsc-deadline' : lt.timer_mode === APIC_LVT_TIMER_PERIODIC ? 'periodic' : 'one-shot',
      masked: (lvtt & APIC_LVT_MASKED) !== 0,
      vector: lvtt & 0xff,
      pending: lt.pending,
      expiresNs: lt.expires === Infinity ? null : vcpu.kvm.ns(lt.expires),
    },
  };
}

function inspectPvEoi(vcpu: KvmVcpu): PvEoiInspect {
  const pv = vcpu.arch.pv_eoi;
  const pending = (vcpu.arch.apic_attention & KVM_APIC_PV_EOI_PENDING) !== 0;
  const gpa = pv.enabled ? pv.gpa : null;
  return {
    msr: hex(pv.msr_val), enabled: pv.enabled, gpa, pending,
    flag: gpa === null ? null : vcpu.kvm.hw.ramByte(gpa) & 1,
    summary: gpa === null ? 'PV EOI off' : `PV EOI on at GPA ${hex(gpa)}${pending ? ', pending' : ''}`,
  };
}

const PRIMARY_BITS: [string, number][] = [
  ['CPU_BASED_HLT_EXITING', abi.CPU_BASED_HLT_EXITING],
  ['CPU_BASED_MWAIT_EXITING', abi.CPU_BASED_MWAIT_EXITING],
  ['CPU_BASED_MONITOR_EXITING', abi.CPU_BASED_MONITOR_EXITING],
  ['CPU_BASED_PAUSE_EXITING', abi.CPU_BASED_PAUSE_EXITING],
  ['CPU_BASED_INTR_WINDOW_EXITING', abi.CPU_BASED_INTR_WINDOW_EXITING],
  ['CPU_BASED_NMI_WINDOW_EXITING', abi.CPU_BASED_NMI_WINDOW_EXITING],
  ['CPU_BASED_UNCOND_IO_EXITING', abi.CPU_BASED_UNCOND_IO_EXITING],
  ['CPU_BASED_MOV_DR_EXITING', abi.CPU_BASED_MOV_DR_EXITING],
  ['CPU_BASED_TPR_SHADOW', abi.CPU_BASED_TPR_SHADOW],
  ['CPU_BASED_USE_MSR_BITMAPS', abi.CPU_BASED_USE_MSR_BITMAPS],
];
const SECONDARY_BITS: [string, number][] = [
  ['SECONDARY_EXEC_PAUSE_LOOP_EXITING', abi.SECONDARY_EXEC_PAUSE_LOOP_EXITING],
  ['SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES', abi.SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES],
  ['SECONDARY_EXEC_ENABLE_EPT', abi.SECONDARY_EXEC_ENABLE_EPT],
];

function control(field: string, value: number, previous: number | null, bits: [string, number][]): VmcsControl {
  return {
    field, value, previous,
    bits: bits.map(([name, b]) => ({ name, set: (value & b) !== 0, changed: previous !== null && ((value ^ previous) & b) !== 0 })),
  };
}

export function inspectVm(kvm: Kvm): VmInspect {
  const v = kvm.variant;
  return {
    kernel: v.kernel,
    patches: v.patches,
    variantLabel: variantLabel(v),
    disabled: vmFlagsView(kvm),
    createdVcpus: kvm.created_vcpus,
    irqchip: kvm.irqchipInKernel ? 'kernel' : 'userspace',
    allowedExits: KVM_X86_DISABLE_EXITS.flagNames(BigInt(checkExtensionDisableExits(kvm) >>> 0)),
    override: v.override,
    vcpuCap: v.vcpuCap,
    exitUserspace: v.guestdbgExitUserspace,
    disabledQuirks: KVM_X86_QUIRK.flagNames(kvm.arch.disabled_quirks),
    maxHaltPollNs: kvm.max_halt_poll_ns,
  };
}

export function inspectVcpu(vcpu: KvmVcpu, thread: VcpuThread, frames: Frame[]): VcpuInspect {
  const core = vcpu.core, id = vcpu.vcpu_idx;
  const prev = vcpu.vmx.prev_controls;
  const requests = requestNames(vcpu.requests);
  return {
    id: vcpu.vcpu_id,
    fd: `vcpu${vcpu.vcpu_id}`,
    disabled: flagsView(inGuestFlags(vcpu)),
    scope: vcpu.kvm.variant.perVcpuFlags ? 'vcpu' : 'vm',
    requests,
    requestNotes: vcpu.requests & KVM_REQ_DISABLE_EXITS ? ['KVM_REQ_DISABLE_EXITS: the VMCS is rewritten at the next VM-entry'] : [],
    guestDebug: vcpu.guest_debug,
    guestDebugNames: KVM_GUESTDBG.flagNames(vcpu.guest_debug),
    mpState: mpStateName(kvmArchVcpuIoctlGetMpstate(vcpu), false),
    activity: thread.activity,
    inKvmRun: thread.inKvmRun,
    regs: kvmArchVcpuIoctlGetRegs(vcpu),
    stats: { ...vcpu.stat },
    vmcs: [
      control('CPU_BASED_VM_EXEC_CONTROL', core.u32(id, abi.S_PROC_CONTROLS), prev?.primary ?? null, PRIMARY_BITS),
      control('SECONDARY_VM_EXEC_CONTROL', core.u32(id, abi.S_PROC_CONTROLS2), prev?.secondary ?? null, SECONDARY_BITS),
    ],
    pleWindow: vcpu.vmx.ple_window,
    haltPollNs: vcpu.halt_poll_ns,
    exits: vcpu.exitCount,
    clockNs: vcpu.t,
    frames,
    apic: inspectApic(vcpu),
  };
}
