// Virtual-time costs the model adds beyond the scenario's `host` fields (ghz, exit_cycles,
// halt_poll_ns). Every one of them is named here with its source; everything else in the kernel
// model takes no virtual time.

/**
 * Entering plus leaving the KVM_RUN ioctl (syscall, vcpu_load/put, the run-structure bookkeeping), in
 * cycles: about 576 cycles each way in M. Roth's measurement of the SVM KVM_RUN path (LKML,
 * 2020-12; spec §5.2).
 */
export const KVM_RUN_IOCTL_CYCLES = 2 * 576;

/**
 * A vCPU thread that slept in kvm_vcpu_block needs the scheduler to wake it and switch it back in:
 * "a trip through the scheduler, normally on the order of a few micro-seconds"
 * (Documentation/virt/kvm/halt-polling.rst). Halt-polling exists to save exactly this.
 */
export const SCHED_WAKEUP_NS = 3000;

/**
 * Interleaving quantum: with two or more vCPU threads running guest code, none runs more than this far
 * past the next multiple of it before the others catch up, which bounds how late a cross-vCPU event
 * (an IPI) can be seen. Time-slicing only — it costs no virtual time.
 */
export const INTERLEAVE_QUANTUM_NS = 1000;
