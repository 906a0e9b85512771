// Names the views print for the model's numbers, as the kernel spells them.
import type { VcpuActivity } from '../../../model/trace/events';
import { ERRNO, KVM_EXIT, type ConstTable } from '../../../model/kvm/uapi';
import { vmxExitReasonName } from '../../../model/trace/ftrace';

/** "HLT", "EXTERNAL_INTERRUPT": as perf kvm stat and the kvm_exit tracepoint print a basic reason. */
export const reasonName = (reason: number): string => vmxExitReasonName(reason);

/** "KVM_EXIT_HLT" */
export const kvmExitName = (reason: number): string => (KVM_EXIT as ConstTable<number>).name(reason) ?? `KVM_EXIT_${reason}`;

/** "EINTR" */
export const errnoName = (errno: number): string => (ERRNO as ConstTable<number>).name(Math.abs(errno)) ?? `errno ${errno}`;

/** What each lane colour means, in the timeline's legend and text. */
export const ACTIVITY_LABEL: Record<VcpuActivity, string> = {
  guest: 'running guest code',
  guest_halted: 'halted in the guest (HLT/MWAIT without an exit)',
  kvm: 'handling an exit in KVM',
  polling: 'halt-polling',
  blocked: 'blocked in kvm_vcpu_block',
  userspace: 'back in userspace',
};
