// The vCPU binary stats (KVM_GET_STATS_FD) the model maintains, by their kernel names: the generic
// halt-polling counters of virt/kvm and x86's struct kvm_vcpu_stat. A counter stays 0 when nothing in
// the model does what it counts.

export const VCPU_STAT_NAMES = [
  // generic (include/linux/kvm_host.h, struct kvm_vcpu_stat_generic)
  'halt_successful_poll', 'halt_attempted_poll', 'halt_poll_invalid', 'halt_wakeup',
  'halt_poll_success_ns', 'halt_poll_fail_ns', 'halt_wait_ns', 'blocking',
  // x86 (arch/x86/include/asm/kvm_host.h, struct kvm_vcpu_stat)
  'exits', 'io_exits', 'mmio_exits', 'signal_exits', 'irq_window_exits', 'nmi_window_exits',
  'halt_exits', 'request_irq_exits', 'irq_exits', 'insn_emulation', 'insn_emulation_fail',
  'hypercalls', 'irq_injections', 'nmi_injections', 'req_event',
  'directed_yield_attempted', 'directed_yield_successful',
] as const;
export type VcpuStatName = (typeof VCPU_STAT_NAMES)[number];
export type VcpuStats = Record<VcpuStatName, number>;

export function newVcpuStats(): VcpuStats {
  return Object.fromEntries(VCPU_STAT_NAMES.map((n) => [n, 0])) as VcpuStats;
}
