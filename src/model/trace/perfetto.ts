// The event stream as a Chrome/Perfetto JSON trace (the "Trace Event Format"): one process for the
// VMM, one thread per vCPU, and on each thread only complete ("X") events that nest strictly, since
// Perfetto drops overlapping slices. Per vCPU thread, outermost first:
//   KVM_RUN            from the thread entering KVM until the ioctl returns   | userspace
//     <exit reason>    from kvm_exit to the next kvm_entry (or to the return) | guest, guest (halted)
//       kvm, polling, blocked   what the thread did while handling the exit
// ioctls and injected interrupts are instant events on the thread that issued or received them.
// Slices are clipped to their parent, so the nesting holds for any event stream.
import type { TraceEvent, VcpuActivity } from './events';
import { vmxExitReasonName } from './ftrace';
import { VMM_COMM, VMM_PID, vcpuThread } from './threads';

export interface ChromeEvent {
  name: string;
  ph: 'X' | 'i' | 'M';
  ts: number; // µs
  dur?: number; // µs
  pid: number;
  tid: number;
  cat?: string;
  s?: 't';
  args?: Record<string, string | number | boolean>;
}

export interface ChromeTrace {
  traceEvents: ChromeEvent[];
  displayTimeUnit: 'ns';
}

interface Slice { name: string; cat: string; start: number; end: number; depth: number; args?: ChromeEvent['args'] }

const ACTIVITY_NAME: Record<VcpuActivity, string> = {
  guest: 'guest', guest_halted: 'guest (halted)', kvm: 'kvm', polling: 'polling', blocked: 'blocked', userspace: 'userspace',
};
// The depth each kind of slice belongs at; a slice nests inside the innermost shallower one.
const DEPTH: Record<VcpuActivity, number> = { userspace: 0, guest: 1, guest_halted: 1, kvm: 2, polling: 2, blocked: 2 };

const hex = (n: bigint | number) => `0x${n.toString(16)}`;

/**
 * `end` is when the run stopped (virtual ns), so that what a vCPU was doing last (halted in the
 * guest, blocked) lasts until then; by default the last event. Times are whole ns: slices shorter
 * than half a ns are dropped.
 */
export function toChromeTrace(events: readonly TraceEvent[], pcpus: number, end?: number): ChromeTrace {
  events = events.map((e) => ({ ...e, t: Math.round(e.t) }));
  end = Math.round(Math.max(end ?? 0, ...events.map((e) => e.t)));
  const vcpus = [...new Set(events.flatMap((e) => ('vcpu' in e ? [e.vcpu] : [])))].sort((a, b) => a - b);
  const out: ChromeEvent[] = [
    { name: 'process_name', ph: 'M', ts: 0, pid: VMM_PID, tid: VMM_PID, args: { name: `${VMM_COMM} (VMM)` } },
    { name: 'thread_name', ph: 'M', ts: 0, pid: VMM_PID, tid: VMM_PID, args: { name: 'main' } },
  ];
  for (const v of vcpus) {
    const { tid } = vcpuThread(v, pcpus);
    out.push({ name: 'thread_name', ph: 'M', ts: 0, pid: VMM_PID, tid, args: { name: `vcpu ${v}` } });
    for (const s of nest(slicesOf(events.filter((e) => 'vcpu' in e && e.vcpu === v), end!)))
      out.push({ name: s.name, cat: s.cat, ph: 'X', ts: s.start / 1000, dur: (s.end - s.start) / 1000, pid: VMM_PID, tid, ...(s.args && { args: s.args }) });
  }
  for (const e of events) {
    if (e.kind === 'ioctl') {
      const m = /^vcpu(\d+)$/.exec(e.fd);
      const tid = m ? vcpuThread(Number(m[1]), pcpus).tid : VMM_PID;
      out.push({ name: e.ioctl, cat: 'ioctl', ph: 'i', s: 't', ts: e.t / 1000, pid: VMM_PID, tid, args: { fd: e.fd, ret: e.ret, ...(e.errno && { errno: e.errno }) } });
    } else if (e.kind === 'inj_virq') {
      out.push({ name: `inj_virq ${e.vector}`, cat: 'irq', ph: 'i', s: 't', ts: e.t / 1000, pid: VMM_PID, tid: vcpuThread(e.vcpu, pcpus).tid, args: { vector: e.vector, soft: e.soft } });
    }
  }
  return { traceEvents: out, displayTimeUnit: 'ns' };
}

/** One vCPU's candidate slices: KVM_RUN spans and activities from `activity`, exits from kvm_exit/kvm_entry. */
function slicesOf(events: readonly TraceEvent[], end: number): Slice[] {
  const slices: Slice[] = [];
  let activity: { a: VcpuActivity; t: number } | undefined;
  let runStart: number | undefined;
  let exit: Extract<TraceEvent, { kind: 'kvm_exit' }> | undefined;
  const closeExit = (t: number) => {
    if (exit) slices.push({
      name: vmxExitReasonName(exit.reason & 0xffff), cat: 'exit', start: exit.t, end: t, depth: 1,
      args: { exit: exit.exit, rip: hex(exit.rip), info1: hex(exit.info1), info2: hex(exit.info2) },
    });
    exit = undefined;
  };
  const closeActivity = (t: number) => {
    if (activity) slices.push({ name: ACTIVITY_NAME[activity.a], cat: 'activity', start: activity.t, end: t, depth: DEPTH[activity.a] });
    activity = undefined;
  };
  for (const e of events) {
    if (e.kind === 'activity') {
      closeActivity(e.t);
      if (e.activity === 'userspace') {
        closeExit(e.t);
        if (runStart !== undefined) slices.push({ name: 'KVM_RUN', cat: 'ioctl', start: runStart, end: e.t, depth: 0 });
        runStart = undefined;
      } else runStart ??= e.t;
      activity = { a: e.activity, t: e.t };
    } else if (e.kind === 'kvm_exit') {
      closeExit(e.t);
      exit = e;
    } else if (e.kind === 'kvm_entry' || e.kind === 'kvm_userspace_exit') closeExit(e.t);
  }
  closeActivity(end);
  closeExit(end);
  if (runStart !== undefined) slices.push({ name: 'KVM_RUN', cat: 'ioctl', start: runStart, end, depth: 0 });
  return slices;
}

/**
 * Strict nesting by construction: sorted by start (then outermost first), each slice is clipped to
 * end no later than the innermost open slice of smaller depth, and siblings never overlap.
 */
export function nest(slices: readonly Slice[]): Slice[] {
  // Empty slices first go: one at the start of its sibling would otherwise cut that sibling to nothing.
  const sorted = slices.filter((s) => s.end > s.start).sort((a, b) => a.start - b.start || a.depth - b.depth || b.end - a.end);
  const stack: Slice[] = [];
  const out: Slice[] = [];
  for (const s0 of sorted) {
    const s = { ...s0 };
    while (stack.length && (stack.at(-1)!.end <= s.start || stack.at(-1)!.depth >= s.depth)) {
      const top = stack.pop()!;
      if (top.end > s.start && top.depth >= s.depth) top.end = s.start; // a deeper/sibling slice still open: cut it here
    }
    if (stack.length) s.end = Math.min(s.end, stack.at(-1)!.end);
    if (s.end <= s.start) continue;
    out.push(s);
    stack.push(s);
  }
  return out.filter((s) => s.end > s.start);
}

/** Where a trace breaks strict nesting: two complete events of a thread that overlap without one containing the other. */
export function nestingViolations(trace: ChromeTrace): string[] {
  const byThread = new Map<number, [number, number, string][]>();
  for (const e of trace.traceEvents) {
    if (e.ph !== 'X') continue;
    // Compare in whole ns: ts and dur are µs with three decimals.
    const span: [number, number, string] = [Math.round(e.ts * 1000), Math.round((e.ts + e.dur!) * 1000), e.name];
    byThread.set(e.tid, [...(byThread.get(e.tid) ?? []), span]);
  }
  const out: string[] = [];
  for (const [tid, spans] of byThread) {
    const sorted = spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const open: [number, number, string][] = [];
    for (const s of sorted) {
      if (s[1] <= s[0]) out.push(`tid ${tid}: ${s[2]} at ${s[0]} ns is empty`);
      while (open.length && open.at(-1)![1] <= s[0]) open.pop();
      const parent = open.at(-1);
      if (parent && s[1] > parent[1]) out.push(`tid ${tid}: ${s[2]} [${s[0]}, ${s[1]}) overlaps ${parent[2]} [${parent[0]}, ${parent[1]})`);
      open.push(s);
    }
  }
  return out;
}
