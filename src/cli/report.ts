// The readable report of `exitscope run`: each ioctl with its decoded result, the expectations, and
// a perf-kvm-stat table of the exits of each vCPU.
import { describeErrno, describeOp } from '../model/scenario/describe';
import type { Scenario } from '../model/scenario/types';
import type { ResultDoc, StepResult } from '../model/sim';
import type { Mismatch } from '../model/sim/expect';
import type { TraceEvent } from '../model/trace/events';
import { vmxExitReasonName } from '../model/trace/ftrace';
import { formatKvmStat, kvmStat } from '../model/trace/kvmstat';

const mib = (b: number) => (b % (1 << 20) ? `${b >> 10} KiB` : `${b >> 20} MiB`);

export function formatReport(s: Scenario, result: ResultDoc, events: readonly TraceEvent[]): string {
  const out: string[] = [];
  const kernel = s.kernel === 'rfc-v4' ? `rfc-v4 with patches 1-${s.patches} applied` : s.kernel;
  out.push(`exitscope: ${s.title || '(untitled scenario)'}`);
  out.push(
    `kernel ${kernel}; host: ${s.host.pcpus} pCPUs, ${s.host.mwait ? 'can' : 'cannot'} MWAIT in a guest${s.host.smt_rsb ? ', mitigate_smt_rsb' : ''}; ` +
      `VM: ${s.vm.irqchip === 'kernel' ? 'in-kernel irqchip' : 'userspace irqchip'}, ${mib(s.vm.memory)}`,
    '',
  );
  for (const step of result.steps) {
    const op = step.index === null ? undefined : s.program[step.index];
    out.push(`[${step.index}] ${op ? describeOp(op) : step.op}`);
    out.push(`    ${outcome(step)}`);
    if (step.expect === 'met') out.push('    expect: met');
    else if (step.expect) out.push('    expect: FAILED', ...step.expect.mismatches.map((m) => `      ${formatMismatch(m)}`));
  }
  const { checked, failed } = result.expectations;
  out.push('', `Expectations: ${checked} checked, ${failed} failed${failed ? ` (at ${result.steps.filter((s) => s.expect && s.expect !== 'met').map((s) => `[${s.index}]`).join(', ')})` : ''}.`);

  const vcpus = [...new Set(events.flatMap((e) => (e.kind === 'kvm_exit' ? [e.vcpu] : [])))].sort((a, b) => a - b);
  for (const v of vcpus.length > 1 ? [...vcpus, 'all' as const] : vcpus) {
    const stat = kvmStat(events, v);
    out.push('', `perf kvm stat report --event=vmexit${v === 'all' ? '' : ` --vcpu ${v}`}:`, formatKvmStat(stat).trim());
    if (stat.unfinished)
      out.push(`(${stat.unfinished === 1 ? '1 exit' : `${stat.unfinished} exits`} not counted: no kvm_entry followed before the run ended, and perf counts an exit at its kvm_entry)`);
  }
  if (!vcpus.length) out.push('', 'No VM exits.');
  return out.join('\n') + '\n';
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** `run.exit_reason: expected "KVM_EXIT_HLT", got "KVM_EXIT_IO"`. */
export function formatMismatch(m: Mismatch): string {
  const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
  return `${m.path || 'result'}: expected ${show(m.expected)}, got ${show(m.actual)}`;
}

/** What the ioctl returned, in kernel words. */
function outcome(step: StepResult): string {
  if (step.threads) {
    return Object.entries(step.threads)
      .map(([fd, exits]) => {
        const list = Object.entries(exits).map(([reason, n]) => `${reason} x${n}`).join(', ');
        return `${fd}: ${list || 'no exit to userspace'}`;
      })
      .join('; ') + (step.in_kvm_run?.length ? `; inside KVM_RUN at the end: ${step.in_kvm_run.join(', ')}` : '');
  }
  if (step.blocked) return step.reason ?? 'still inside KVM_RUN at the timeout: the ioctl has not returned';
  const parts: string[] = [];
  if (step.ret !== undefined && step.ret !== null)
    parts.push(step.errno
      ? `= ${step.ret}, errno ${describeErrno(step.errno)}${step.reason ? `: ${step.reason}` : ''}`
      : `= ${step.ret}${step.ret > 9 ? ` (${hex(step.ret)})` : ''}`);
  if (step.run) parts.push(runSummary(step.run));
  if (step.mp_state) parts.push(`mp_state ${step.mp_state}`);
  if (step.regs) parts.push(Object.entries(step.regs).filter(([k, v]) => v !== '0x0' || k === 'rip').map(([k, v]) => `${k}=${v}`).join(' '));
  if (step.stats) parts.push(Object.entries(step.stats).filter(([, v]) => v).map(([k, v]) => `${k}=${v}`).join(' ') || 'all stats 0');
  return parts.join('; ');
}

function runSummary(run: NonNullable<StepResult['run']>): string {
  const parts = [
    `exit_reason ${run.exit_reason} (${run.exit_reason_code})`,
    // A number when it fits; the io/debug member written over it can make it huge ("0x…").
    `hw_exit_reason ${run.hw_exit_reason}${typeof run.hw_exit_reason === 'number' ? ` (${vmxExitReasonName(run.hw_exit_reason)})` : ''}`,
    `rip ${run.rip}`,
    `mp_state ${run.mp_state}`,
  ];
  // The union member the kernel filled, with the kernel's field names.
  for (const k of ['io', 'mmio', 'debug', 'internal', 'fail_entry'] as const) {
    const member = run[k];
    if (member) parts.push(`${k} { ${Object.entries(member).map(([f, v]) => `${f}: ${String(v)}`).join(', ')} }`);
  }
  return parts.join(', ');
}
