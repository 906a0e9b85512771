// Which kernel the model is: v5.19 (the base the RFC was written against), RFC v4 with patches
// 1..N applied, RFC v6 (its last posting), or mainline (about v6.18). One flat description of which
// patches and commits are present; the kernel functions switch on these fields, each switch with a
// comment naming its patch or commit (spec/kvm-semantics.md §2).
import type { KernelName } from '../scenario/types';

export interface KernelVariant {
  readonly kernel: KernelName;
  /** rfc-v4 only: patches 1..N of the series applied (0 = the v5.19 base). */
  readonly patches: number;
  /** Tag used for source links on elixir.bootlin.com. */
  readonly elixir: string;
  /** v4 1/7, v6 1/6, mainline 04cd8f8628d8 (v6.14): the VM-scope cap is refused once a vCPU exists. */
  readonly vmCapRejectsAfterCreate: boolean;
  /** v4 2/7, v6 2/6: the four *_in_guest flags live in vcpu->arch, copied from kvm->arch at creation. */
  readonly perVcpuFlags: boolean;
  /** v4 3/7, v6 3/6, mainline c829ccd4d9dc (v6.14): kvm_get_allowed_disable_exits(), MWAIT refused when not allowed. */
  readonly rejectDisallowed: boolean;
  /** v4 4/7, v6 4/6: KVM_X86_DISABLE_EXITS_OVERRIDE and the kvm_ioctl_disable_exits() macro (with its `&= MWAIT` typo). */
  readonly override: boolean;
  /** v4 5/7, v6 5/6: KVM_ENABLE_CAP(KVM_CAP_X86_DISABLE_EXITS) on a vCPU fd and the update_disabled_exits hook. */
  readonly vcpuCap: boolean;
  /** v4 5/7 only: the vCPU is updated through KVM_REQ_DISABLE_EXITS at its next entry (v6 calls the hook directly). */
  readonly disableExitsRequest: boolean;
  /** v4 5/7 only: a VM-scope call after vCPU creation is accepted and applied to every vCPU. */
  readonly vmCapPropagates: boolean;
  /** v4 6/7 only: KVM_GUESTDBG_EXIT_USERSPACE and the store of hw.hardware_exit_reason. */
  readonly guestdbgExitUserspace: boolean;
  /** mainline 6f0f2d5ef895 (v6.2): the mitigate_smt_rsb module parameter limits the cap to PAUSE. */
  readonly smtRsb: boolean;
  /** mainline 6fbef8615d35 + a7cec20845a6 (v6.17): u64 kvm->arch.disabled_exits and KVM_X86_DISABLE_EXITS_APERFMPERF. */
  readonly disabledExitsU64: boolean;
  /** KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS exists (Sean's mid-2022 MONITOR/MWAIT quirk, v6.0). */
  readonly mwaitUdQuirk: boolean;
  /** KVM_REQ_UNHALT still exists (removed by Sean Christopherson's v6.1 series): vcpu_block tests it after waking. */
  readonly reqUnhalt: boolean;
  /**
   * 1876dd69dfe8 (v6.12): HLT exits are handled in the fastpath (handle_fastpath_hlt), and
   * __kvm_emulate_halt keeps a vCPU with pending events RUNNABLE.
   */
  readonly hltFastpath: boolean;
  /** halt_poll_ns_shrink default: 0 (reset) until v6.10, 2 (halve) since aeb1b22a3ac8 (v6.11). */
  readonly haltPollShrink: number;
  /** KVM_CAP_DISABLE_QUIRKS2 exists (v5.19) and its valid-quirk mask. */
  readonly validQuirks: number;
}

export function kernelVariant(kernel: KernelName, patches = 6): KernelVariant {
  if (!Number.isInteger(patches) || patches < 0 || patches > 6) throw new RangeError(`patches must be 0..6, got ${patches}`);
  const v4 = kernel === 'rfc-v4';
  const p = v4 ? patches : 0;
  const v6 = kernel === 'rfc-v6';
  const main = kernel === 'mainline';
  return {
    kernel,
    patches: v4 ? patches : 0,
    // RFC v4 applies to kvm/queue of June 2022 (v5.19-rc); RFC v6 to kvm/queue of January 2023 (v6.2-rc).
    elixir: main ? 'v6.18' : v6 ? 'v6.2' : 'v5.19',
    vmCapRejectsAfterCreate: (v4 && p >= 1 && p < 5) || v6 || main,
    perVcpuFlags: (v4 && p >= 2) || v6,
    rejectDisallowed: (v4 && p >= 3) || v6 || main,
    override: (v4 && p >= 4) || v6,
    vcpuCap: (v4 && p >= 5) || v6,
    disableExitsRequest: v4 && p >= 5,
    vmCapPropagates: v4 && p >= 5,
    guestdbgExitUserspace: v4 && p >= 6,
    smtRsb: main,
    disabledExitsU64: main,
    mwaitUdQuirk: v6 || main,
    reqUnhalt: !(v6 || main),
    hltFastpath: main,
    haltPollShrink: main ? 2 : 0,
    // KVM_X86_QUIRK_* bits 0..5 in v5.19; MWAIT_NEVER_UD_FAULTS (bit 6) from v6.0. Later mainline
    // quirks (bits 7+) are not modelled and are refused like unknown bits.
    validQuirks: v6 || main ? 0x7f : 0x3f,
  };
}

/** A short human label: "rfc-v4 (patches 1-6)", "v5.19". */
export function variantLabel(v: KernelVariant): string {
  if (v.kernel !== 'rfc-v4') return v.kernel;
  return v.patches === 0 ? 'rfc-v4 (no patches: the v5.19 base)' : `rfc-v4 (patches 1-${v.patches})`;
}
