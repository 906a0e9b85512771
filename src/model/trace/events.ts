// The one event stream that every view is fed from: the CLI's ftrace text and perf-kvm-stat table,
// the lab's timeline, statistics, ioctl log and narration. The model emits these as it runs (never
// reconstructed afterwards); `t` is virtual time in nanoseconds. Extend only by adding kinds/fields.

/** What a vCPU thread is doing, for the timeline lanes (KernelShark-style). */
export type VcpuActivity =
  | 'guest' // executing guest code (VMX non-root)
  | 'guest_halted' // HLT/MWAIT executed natively: halted in non-root, still holding the pCPU
  | 'kvm' // handling an exit in the kernel
  | 'polling' // halt-polling in kvm_vcpu_halt
  | 'blocked' // asleep in kvm_vcpu_block: the pCPU is free
  | 'userspace'; // KVM_RUN returned; the VMM's loop owns the thread

export type TraceEvent =
  /**
   * An ioctl issued by the program or the page. `args` are decoded into kernel names. `run`, for
   * KVM_RUN: what the run structure said when it returned (exit_reason by name, hw.hardware_exit_reason).
   */
  | {
    kind: 'ioctl'; t: number; seq: number; fd: string; ioctl: string; args: Record<string, unknown>; ret: number; errno: string | null;
    run?: { exit_reason: string; hw_exit_reason: number | string };
  }
  /** tracepoint kvm_entry: vcpu_id, rip */
  | { kind: 'kvm_entry'; t: number; vcpu: number; rip: bigint }
  /** tracepoint kvm_exit (VMX): basic reason, rip, info1 = exit qualification, info2, intr_info, error_code.
   *  `exit` numbers the exits of this vCPU from 0, so a link can say "exit #7 on vCPU 1". */
  | { kind: 'kvm_exit'; t: number; vcpu: number; exit: number; reason: number; rip: bigint; info1: bigint; info2: bigint; intrInfo: number; errorCode: number }
  /** tracepoint kvm_userspace_exit: reason = run->exit_reason (KVM_EXIT_*), errno when KVM_RUN failed */
  | { kind: 'kvm_userspace_exit'; t: number; vcpu: number; reason: number; errno: number }
  /** A change of what the vCPU thread is doing (timeline lanes). */
  | { kind: 'activity'; t: number; vcpu: number; activity: VcpuActivity }
  /** Interrupt injected at VM entry or posted; for the timeline and narration. */
  | { kind: 'inj_virq'; t: number; vcpu: number; vector: number; soft: boolean }
  /** Halt-polling outcome (kvm_vcpu_halt): polled ns, whether it succeeded, the new halt_poll_ns. */
  | { kind: 'halt_poll'; t: number; vcpu: number; polled_ns: number; success: boolean; grow: number };

export type TraceEventKind = TraceEvent['kind'];

/**
 * One kernel function call recorded while KVM_RUN (or an ioctl) ran, nested as called. `ret` is the
 * value the model's function returned; `note` says why in one line ("guest_debug has
 * EXIT_USERSPACE: r &= 0"); `src` links the function on a public source browser at the variant's
 * version. `t` is the virtual time of the call.
 */
export interface Frame {
  fn: string;
  args?: Record<string, string | number | boolean>;
  ret?: number | string;
  note?: string;
  src?: string;
  t: number;
  calls: Frame[];
  /** On vmx_vcpu_run: the VM exit (the kvm_exit event's `exit` number for this vCPU) that ended this run of guest code. */
  exit?: number;
  /**
   * On the frame that handled that exit: the handler __vmx_handle_exit dispatched to, a
   * handle_fastpath_* frame, or __vmx_handle_exit itself when it returned before dispatching.
   */
  handles_exit?: number;
  /**
   * On the frame a KVM_RUN returned from: where its return value (0, or -errno) was decided — found by
   * following, from kvm_arch_vcpu_ioctl_run down, the last call that returned that same value.
   */
  ends_run?: true;
}
