// What the lab's panels show, as plain data built by the worker from the Simulator after a move.
// Every field is something the model produced; the page formats, it never computes kernel behaviour.
import type { Frame } from '../trace/events';

import type { VcpuInspect, VmInspect } from '../sim';
import type { FlagsView } from '../sim/result';

/** The power-management exits of KVM_CAP_X86_DISABLE_EXITS; true = exiting disabled. */
export type ExitFlags = FlagsView;
export const EXIT_FLAG_NAMES = ['mwait', 'hlt', 'pause', 'cstate'] as const;
export type ExitFlagName = (typeof EXIT_FLAG_NAMES)[number];

export type { ControlBit, VmcsControl as VmcsControlView } from '../sim/inspect';

export interface DisasmLine {
  addr: bigint;
  bytes: string; // "f4"
  text: string; // "hlt"
  current: boolean; // the instruction at RIP
  line?: number; // its line in the guest code, when assembled from source
}

/** A vCPU as the model shows it (sim/inspect.ts), with the code around RIP; its frames go in `LabView.frames`. */
export type VcpuView = Omit<VcpuInspect, 'frames' | 'regs'> & {
  regs: Record<string, bigint>;
  disasm: DisasmLine[];
};

/** The VM as the model shows it (sim/inspect.ts). */
export type VmView = Omit<VmInspect, 'kernel' | 'patches' | 'variantLabel'>;

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
  /** Names this recording as it stands: a new number whenever it is another one or has grown. */
  recording: number;
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
  /** The program operation under way (a KVM_RUN stopped at an exit or instruction), if any. */
  inProgress: { index: number; summary: string } | null;
  total: number;
  done: boolean;
  vm: VmView;
  vcpus: VcpuView[];
  results: OpResultView[];
  frames: FramesView | null;
  /** Virtual time now, in ns: the furthest any thread (the program's or a vCPU's) has got. */
  now: number;
}

/** One recording side of a comparison. */
export interface CompareSide {
  label: string; // "without EXIT_USERSPACE"
  roots: Frame[];
}

/** One VM exit's KVM_RUN recorded with and without the vCPU's KVM_GUESTDBG_EXIT_USERSPACE. */
export interface CompareView {
  vcpu: number;
  /** The exit compared (kvm_exit `exit` of that vCPU). */
  exit?: number;
  left: CompareSide; // without KVM_GUESTDBG_EXIT_USERSPACE
  right: CompareSide; // with it
}
