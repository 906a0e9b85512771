// Virtual-time costs the model adds beyond the scenario's `host` fields (ghz, exit_cycles,
// halt_poll_ns). Every one of them is named here with its source; everything else in the kernel
// model takes no virtual time.
//
// Where an exit's time goes. The tracepoints kvm_exit and kvm_entry sit in vmx_vcpu_run right after
// the hardware VM exit and right before the next VM entry, and `perf kvm stat` reports an exit's time
// as the span between them. The model puts there the whole exit-plus-entry round trip
// (`host.exit_cycles`, 1100 by default: kvm-unit-tests' vmexit CPUID test measures 1018-1110 cycles
// for the full round trip, perf-anchors.md §4) and, for the handlers that do real work, the time that
// work takes (below). The handler costs are the `perf kvm stat` averages of perf-anchors.md §4 minus
// the default round trip (1100 cycles at 3 GHz ≈ 367 ns), so that on the default host the table shows
// the figures reviewers know: HLT few samples and most of the time, CPUID well under a microsecond,
// in-kernel IO a few, MMIO the most expensive handled exit.

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

/** The default round trip the handler costs below are measured from: 1100 cycles at 3 GHz. */
const ROUND_TRIP_NS = 367;

/** kvm_emulate_cpuid(): the CPUID lookup. perf kvm stat: CPUID 0.65 µs average. */
export const CPUID_NS = 650 - ROUND_TRIP_NS;
/**
 * kvm_set_msr() from kvm_emulate_wrmsr(): perf kvm stat: MSR_WRITE 1.7 to 3.0 µs average (mostly
 * LAPIC timer and x2APIC writes); the low end is taken.
 */
export const MSR_WRITE_NS = 1700 - ROUND_TRIP_NS;
/** An access to an in-kernel device on the PIO bus (kvm_io_bus_read/write): IO_INSTRUCTION 3.0 µs average. */
export const PIO_KERNEL_NS = 3000 - ROUND_TRIP_NS;
/**
 * An MMIO access through the instruction emulator (kvm_mmu_page_fault → x86_emulate_instruction):
 * EPT_MISCONFIG (MMIO) 13 to 16 µs average; the low end is taken. That figure was taken with QEMU
 * serving the accesses; the model's userspace takes no time, so the whole of it is put on the
 * kernel's emulation path.
 */
export const MMIO_NS = 13_000 - ROUND_TRIP_NS;
/**
 * The host's handler of the interrupt that caused an EXTERNAL_INTERRUPT exit, run from
 * handle_external_interrupt_irqoff(): EXTERNAL_INTERRUPT 1.5 to 2.4 µs average; the low end is taken.
 */
export const EXTERNAL_INTERRUPT_NS = 1500 - ROUND_TRIP_NS;
/**
 * The halt path's own work when a wake event is already pending (kvm_emulate_halt, then vcpu_block
 * finding the vCPU runnable): HLT's minimum, 0.56 to 0.63 µs, in perf kvm stat.
 */
export const HALT_NS = 600 - ROUND_TRIP_NS;

/** The costs in cycles of one host (`ghz`), computed once per VM: the exit path adds them as numbers. */
export interface HandlerCycles {
  exit: number;
  cpuid: number;
  msrWrite: number;
  pioKernel: number;
  mmio: number;
  externalInterrupt: number;
  halt: number;
}

export function handlerCycles(ghz: number, exitCycles: number): HandlerCycles {
  const c = (ns: number) => Math.round(ns * ghz);
  return {
    exit: exitCycles, cpuid: c(CPUID_NS), msrWrite: c(MSR_WRITE_NS), pioKernel: c(PIO_KERNEL_NS), mmio: c(MMIO_NS),
    externalInterrupt: c(EXTERNAL_INTERRUPT_NS), halt: c(HALT_NS),
  };
}
