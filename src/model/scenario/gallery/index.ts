// The built-in gallery: a scenario for each row of spec/kvm-semantics.md §2 (the capability per
// kernel and patch) and each exit case of §3 (H1–H10, I1–I6, PLE, MWAIT, half the vCPUs). Each
// carries expectations that encode what the spec says the kernel returns, and a test runs them
// all through the Simulator: the gallery is also the model's conformance suite.
import type { GalleryEntry } from './build';
import { CAP_SCENARIOS } from './caps';
import { HLT_SCENARIOS } from './hlt';
import { IO_SCENARIOS } from './io';
import { PAUSE_MWAIT_SCENARIOS } from './pause_mwait';
import { PV_EOI_SCENARIOS } from './pv_eoi';

export type { GalleryEntry } from './build';

/** The spec rows the gallery must cover, each with where the spec states it. */
export const ROWS: Record<string, string> = {
  '2.a check': '§2.a KVM_CHECK_EXTENSION: 0xf, or 0xe without MWAIT',
  '2.a vm-invalid': '§2.a VM fd, bits outside 0xf: -EINVAL',
  '2.a vm-valid': '§2.a VM fd, valid: 0, sticky OR, MWAIT ignored without canMW',
  '2.a vm-after-create': '§2.a VM fd after vCPU creation: 0, existing vCPUs keep their VMCS',
  '2.a vcpu-fd': '§2.a vCPU fd: -EINVAL',
  '2.b 1/7 vm-invalid': '§2.b 1/7 invalid bits: -EINVAL before the lock',
  '2.b 1/7 vm-before': '§2.b 1/7 valid, no vCPU yet: 0',
  '2.b 1/7 vm-after': '§2.b 1/7 valid after creation: -EINVAL, flags unchanged',
  '2.b 1/7 vcpu-fd': '§2.b 1/7 vCPU fd: -EINVAL',
  '2.b 2/7 no-abi-change': '§2.b 2/7 flags copied per vCPU at creation, no ABI change',
  '2.b 3/7 vm-disallowed': '§2.b 3/7 MWAIT without canMW: -EINVAL',
  '2.b 3/7 vm-before': '§2.b 3/7 allowed, no vCPU yet: 0',
  '2.b 3/7 vm-after': '§2.b 3/7 allowed after creation: -EINVAL',
  '2.b 3/7 vcpu-fd': '§2.b 3/7 vCPU fd: -EINVAL',
  '2.b 4/7 vm-invalid': '§2.b 4/7 bits outside VALID|OVERRIDE: -EINVAL',
  '2.b 4/7 vm-or': '§2.b 4/7 no OVERRIDE: OR semantics',
  '2.b 4/7 vm-override': '§2.b 4/7 OVERRIDE: flags assigned from the mask',
  '2.b 4/7 vm-after': '§2.b 4/7 after creation: -EINVAL',
  '2.b 4/7 no-mwait-noop': '§2.b 4/7 !canMW: every success is a no-op (the &= MWAIT typo)',
  '2.b 4/7 vcpu-fd': '§2.b 4/7 vCPU fd: -EINVAL',
  '2.b 5/7 vm-invalid': '§2.b 5/7 VM fd, bits outside allowed: -EINVAL',
  '2.b 5/7 vm-before': '§2.b 5/7 VM fd, no vCPU yet: 0, kvm->arch only',
  '2.b 5/7 vm-after': '§2.b 5/7 VM fd after creation: 0, applied to every vCPU by request',
  '2.b 5/7 vcpu-invalid': '§2.b 5/7 vCPU fd, bits outside allowed: -EINVAL',
  '2.b 5/7 vcpu': '§2.b 5/7 vCPU fd: 0, this vCPU only; OVERRIDE needed to re-enable',
  '2.b 5/7 no-mwait-noop': '§2.b 5/7 !canMW: success without change',
  '2.b 5/7 flags': '§2.b 5/7 cap->flags != 0: -EINVAL',
  '2.b 6/7 flag-accepted': '§2.b 6/7, §1.3 EXIT_USERSPACE accepted with ENABLE, not in SET_GUEST_DEBUG2',
  '2.b 6/7 hw-exit-reason': '§2.b 6/7 KVM_RUN returns 0, stale exit_reason, hw.hardware_exit_reason set',
  '2.b 6/7 needs-enable': '§1.3 step 4: control zeroed without KVM_GUESTDBG_ENABLE',
  '2.c vm-after': '§2.c VM fd after vCPU creation: -EINVAL again',
  '2.c vcpu': '§2.c vCPU fd: update_disabled_exits() called directly, 0',
  '2.c typo': '§2.c the MWAIT typo still there',
  '2.c no-guestdbg': '§2.c no guest_debug patch',
  '2.d check': '§2.d KVM_CHECK_EXTENSION = kvm_get_allowed_disable_exits()',
  '2.d vm-invalid': '§2.d VM fd, bits outside allowed: -EINVAL',
  '2.d vm-after': '§2.d VM fd after creation: -EINVAL',
  '2.d vm-before': '§2.d VM fd before creation: 0, sticky OR',
  '2.d vcpu-fd': '§2.d vCPU fd: -EINVAL',
  '2.d smt_rsb': '§2.d, §1.8 mitigate_smt_rsb: only PAUSE (and APERFMPERF)',
  '2.d aperfmperf': '§2.d, §1.6 APERFMPERF (v6.17): APERF/MPERF reads not intercepted',
  H1: '§3.2 H1 in-kernel LAPIC, nothing pending: KVM_RUN does not return',
  H2: '§3.2 H2 wake event: RUNNABLE again, no return',
  H3: '§3.2 H3 userspace irqchip: KVM_EXIT_HLT',
  H4: '§3.2 H4 EXIT_USERSPACE, in-kernel LAPIC: 0 with stale exit_reason',
  H5: '§3.2 H5 EXIT_USERSPACE, userspace irqchip: KVM_EXIT_HLT',
  H6: '§3.2 H6 SINGLESTEP, in-kernel LAPIC: KVM_EXIT_DEBUG, HALTED',
  H7: '§3.2 H7 SINGLESTEP, userspace irqchip: KVM_EXIT_HLT, debug exit lost',
  H8: '§3.2 H8 guest TF: #DB after the HLT, no return',
  H9: '§3.2 H9 SINGLESTEP + EXIT_USERSPACE: as H6/H7',
  H10: '§3.2 H10 CLI; HLT with an IRQ pending: sleeps',
  I1: '§3.7 I1 in-kernel device: no exit to userspace',
  I2: '§3.7 I2 userspace device: KVM_EXIT_IO, RIP at the OUT',
  'I2 next': '§3.7 I2\' next KVM_RUN completes and skips',
  I3: '§3.7 I3 IN: data merged into RAX',
  I4: '§3.7 I4 port 0x7e quirk: RIP advanced before the exit',
  I5: '§3.7 I5 EXIT_USERSPACE, in-kernel device: 0, hw_exit_reason 30',
  I6: '§3.7 I6 EXIT_USERSPACE, userspace device: returns 0 twice',
  PLE: '§3.5 Pause-Loop Exiting, and PAUSE disabled',
  MWAIT: '§3.6 MWAIT exiting (NOP) and MWAIT in the guest',
  'per-vcpu-half': '§5.1 HLT exits disabled on half the vCPUs',
  'PV-EOI': 'beyond the spec: lapic.c\'s PV EOI (KVM_FEATURE_PV_EOI), a tick acknowledged without an EOI exit',
};

export const GALLERY: readonly GalleryEntry[] = [...HLT_SCENARIOS, ...IO_SCENARIOS, ...PAUSE_MWAIT_SCENARIOS, ...CAP_SCENARIOS, ...PV_EOI_SCENARIOS];

export function galleryEntry(id: string): GalleryEntry | undefined {
  return GALLERY.find((e) => e.id === id);
}
