// `trace-cmd report` text of the kvm:kvm_entry, kvm:kvm_exit and kvm:kvm_userspace_exit tracepoints,
// each printed with the kernel's TP_printk format and trace-cmd's line prefix, so the output can be
// read (and grepped) like a trace of a real host:
//
//   cpus=4
//          exitscope-4201  [000]     0.000012: kvm_exit:             vcpu 0 reason HLT rip 0x10001 info1 …
//
// Formats:
// - kvm_entry: arch/x86/kvm/trace.h, "vcpu %u, rip 0x%lx". v6.9 appended "%s" for a forced
//   immediate exit, which the model never requests, so the text is the same for every variant.
//   https://elixir.bootlin.com/linux/v5.19/source/arch/x86/kvm/trace.h#L15
// - kvm_exit: the same file's TRACE_EVENT_KVM_EXIT, "vcpu %u reason %s%s%s rip 0x%lx info1 0x%016llx
//   info2 0x%016llx intr_info 0x%08x error_code 0x%08x"; the reason is the VMX_EXIT_REASONS symbol
//   of bits 15:0, then " " and the flag names of the upper bits when any is set.
//   https://elixir.bootlin.com/linux/v5.19/source/arch/x86/kvm/trace.h#L288
// - kvm_userspace_exit: include/trace/events/kvm.h, "reason %s (%d)": KVM_EXIT_* by name, or
//   "restart"/"error" and the errno when KVM_RUN failed (-EINTR is "restart").
//   https://elixir.bootlin.com/linux/v5.19/source/include/trace/events/kvm.h#L17
// - the prefix: trace-cmd's "%16s-%-5d [%03d]", then " %5lu.%06lu: " seconds and microseconds
//   (libtraceevent's %6.1000d, rounded to the nearest µs), then the event name padded to 20.
//   libtraceevent prints a bare µs count for times under one second; virtual time starts at 0,
//   so every line uses the seconds form instead, which is what real (uptime-based) traces show.
import { VMX_EXIT_REASONS_FAILED_VMENTRY } from '../../../wasm/src/abi';
import { EINTR, KVM_EXIT, VMX_EXIT_REASON, type ConstTable } from '../kvm/uapi';
import type { TraceEvent } from './events';
import { hexPad } from './printf';
import { vcpuThread } from './threads';

type Tracepoint = Extract<TraceEvent, { kind: 'kvm_entry' | 'kvm_exit' | 'kvm_userspace_exit' }>;

/** As __print_symbolic shows a value: its symbol, or 0x… when it has none. */
const symbol = (name: string | undefined, value: number) => name ?? `0x${value.toString(16)}`;

/** The name of a basic exit reason as VMX_EXIT_REASONS spells it ("HLT"), or 0x… when it has none. */
export function vmxExitReasonName(basic: number): string {
  return symbol(VMX_EXIT_REASON.name(basic)?.slice(VMX_EXIT_REASON.prefix.length), basic);
}

/** The reason as kvm_print_exit_reason() prints it for VMX: the basic reason, then VMX_EXIT_REASON_FLAGS. */
export function vmxExitReason(reason: number): string {
  const upper = (reason & ~0xffff) >>> 0;
  if (!upper) return vmxExitReasonName(reason & 0xffff);
  const flags = upper === VMX_EXIT_REASONS_FAILED_VMENTRY >>> 0 ? 'FAILED_VMENTRY' : `0x${upper.toString(16)}`;
  return `${vmxExitReasonName(reason & 0xffff)} ${flags}`;
}

/** The TP_printk text of one tracepoint event. */
export function tracepointText(e: Tracepoint): string {
  switch (e.kind) {
    case 'kvm_entry':
      return `vcpu ${e.vcpu}, rip 0x${e.rip.toString(16)}`;
    case 'kvm_exit':
      return `vcpu ${e.vcpu} reason ${vmxExitReason(e.reason)} rip 0x${e.rip.toString(16)} info1 0x${hexPad(e.info1, 16)} info2 0x${hexPad(e.info2, 16)} intr_info 0x${hexPad(e.intrInfo >>> 0, 8)} error_code 0x${hexPad(e.errorCode >>> 0, 8)}`;
    case 'kvm_userspace_exit': {
      const errno = Math.abs(e.errno);
      if (errno) return `reason ${errno === EINTR ? 'restart' : 'error'} (${errno})`;
      return `reason ${symbol((KVM_EXIT as ConstTable<number>).name(e.reason), e.reason)} (${e.reason})`;
    }
  }
}

const isTracepoint = (e: TraceEvent): e is Tracepoint => e.kind === 'kvm_entry' || e.kind === 'kvm_exit' || e.kind === 'kvm_userspace_exit';

/** The whole report: "cpus=N", then one line per tracepoint event in time order. */
export function formatTraceCmd(events: readonly TraceEvent[], pcpus: number): string {
  const lines = [`cpus=${pcpus}`];
  const tracepoints = events.filter(isTracepoint).map((e, i) => ({ e, i })).sort((a, b) => a.e.t - b.e.t || a.i - b.i);
  for (const { e } of tracepoints) {
    const { comm, tid, cpu } = vcpuThread(e.vcpu, pcpus);
    const us = Math.round(e.t / 1000);
    const stamp = `${String(Math.floor(us / 1e6)).padStart(5)}.${String(us % 1e6).padStart(6, '0')}`;
    lines.push(`${comm.padStart(16)}-${String(tid).padEnd(5)} [${String(cpu).padStart(3, '0')}] ${stamp}: ${`${e.kind}: `.padEnd(22)}${tracepointText(e)}`);
  }
  return lines.join('\n') + '\n';
}
