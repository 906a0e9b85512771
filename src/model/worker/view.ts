// What the lab's panels show, as plain data built by the worker from the Simulator after a move.
// Every field is something the model produced; the page formats, it never computes kernel behaviour.
import type { Frame, VcpuActivity } from '../trace/events';

/** The four power-management exits of KVM_CAP_X86_DISABLE_EXITS; true = exiting disabled. */
export interface ExitFlags {
  mwait: boolean;
  hlt: boolean;
  pause: boolean;
  cstate: boolean;
}
export const EXIT_FLAG_NAMES = ['mwait', 'hlt', 'pause', 'cstate'] as const;
export type ExitFlagName = (typeof EXIT_FLAG_NAMES)[number];

/** One bit of a VMCS control word, with whether it differs from before the last change. */
export interface ControlBit {
  name: string; // CPU_BASED_HLT_EXITING
  set: boolean;
  changed: boolean;
}

/** A VMCS execution-control field as KVM last wrote it. */
export interface VmcsControlView {
  field: string; // CPU_BASED_VM_EXEC_CONTROL
  value: number;
  /** The value before the last change, when there was one. */
  previous: number | null;
  /** The bits worth showing (the exits this lab is about), set or not. */
  bits: ControlBit[];
}

export interface DisasmLine {
  addr: bigint;
  bytes: string; // "f4"
  text: string; // "hlt"
  current: boolean; // the instruction at RIP
  line?: number; // its line in the guest code, when assembled from source
}

export interface VcpuView {
  id: number;
  fd: string; // "vcpu1"
  /** vcpu->arch.*_in_guest (or kvm->arch's, in variants without per-vCPU flags). */
  disabled: ExitFlags;
  /** Requests pending on the vCPU (KVM_REQ_DISABLE_EXITS: "takes effect at next VM-entry"). */
  requests: string[];
  guestDebug: number;
  guestDebugNames: string[];
  mpState: string; // KVM_MP_STATE_HALTED
  activity: VcpuActivity;
  regs: Record<string, bigint>;
  stats: Record<string, number>;
  vmcs: VmcsControlView[];
  disasm: DisasmLine[];
  /** Exits of this vCPU so far (kvm_exit events). */
  exits: number;
}

export interface VmView {
  disabled: ExitFlags;
  createdVcpus: number;
  irqchip: 'kernel' | 'userspace';
  /** KVM_CHECK_EXTENSION(KVM_CAP_X86_DISABLE_EXITS) in this variant: the exits that may be disabled. */
  allowedExits: string[];
  /** The variant has KVM_X86_DISABLE_EXITS_OVERRIDE (RFC v4 4/7): a flag can be re-enabled. */
  override: boolean;
  /** The variant accepts KVM_ENABLE_CAP(KVM_CAP_X86_DISABLE_EXITS) on a vCPU fd (RFC v4 5/7). */
  vcpuCap: boolean;
  /** The variant has KVM_GUESTDBG_EXIT_USERSPACE (RFC v4 6/7). */
  exitUserspace: boolean;
}

/** The result of one operation, from the program or the page, in the CLI's result-document form. */
export interface OpResultView {
  /** Position in the program, or null for an ioctl issued from the page. */
  index: number | null;
  op: string;
  fd?: string;
  /** "KVM_ENABLE_CAP(KVM_CAP_X86_DISABLE_EXITS, HLT)" */
  summary: string;
  ret: number | null;
  errno: string | null;
  /** Why it failed, in the model's words (the note of the frame that refused it). */
  reason?: string;
  /** The rest of the result (run, regs, stats, …), as the result document has it. */
  detail: Record<string, unknown>;
  expect?: 'met' | 'failed';
}

/** The kernel frames of the ioctl being looked at, and how far Step frame has walked them. */
export interface FramesView {
  vcpu: number | null;
  ioctl: string; // KVM_RUN
  roots: Frame[];
  /** Calls and returns walked so far (Step frame); equal to the total when all is shown. */
  cursor: number;
  total: number;
}

export interface LabView {
  title: string;
  description?: string;
  kernel: string;
  patches: number;
  variantLabel: string;
  /** Index of the next program operation; `total` when the program has run. */
  next: number;
  total: number;
  done: boolean;
  vm: VmView;
  vcpus: VcpuView[];
  results: OpResultView[];
  frames: FramesView | null;
  /** Virtual time now, in ns. */
  now: number;
}

/** One recording side of a comparison. */
export interface CompareSide {
  label: string; // "without EXIT_USERSPACE"
  roots: Frame[];
}

/** The KVM_RUN being looked at, and the same position reached with the vCPU's EXIT_USERSPACE flipped. */
export interface CompareView {
  vcpu: number;
  left: CompareSide; // without KVM_GUESTDBG_EXIT_USERSPACE
  right: CompareSide; // with it
}
