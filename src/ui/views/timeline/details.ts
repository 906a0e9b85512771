// What the timeline says about one exit mark: in the tooltip, in the list of visible exits and in
// the selection. All of it is read from the mark's columns (the model's events).
import type { Lane, Timeline } from '../../../model/trace/timeline';
import { count, formatNs, hex } from '../common/format';
import { errnoName, kvmExitName, reasonName } from '../common/names';
import { lowerBound } from './raster';

export interface ExitRef {
  vcpu: number;
  exit: number; // the vCPU's exit number (kvm_exit.exit)
}

export interface ExitDetails {
  ref: ExitRef;
  t: number;
  reason: string;
  /** One line for lists and announcements: "vCPU 1 exit #7: HLT at 12.5 µs". */
  title: string;
  /** Label/value pairs for the tooltip. */
  rows: [string, string][];
}

/** Time from the exit until KVM let go of it: re-entry or return to userspace, whichever came first. */
export function timeInKvm(lane: Lane, i: number): number {
  const c = lane.exits.cols;
  const until = Math.min(Number.isNaN(c.tUser[i]) ? Infinity : c.tUser[i], Number.isNaN(c.tEntry[i]) ? Infinity : c.tEntry[i]);
  return until === Infinity ? NaN : until - c.t[i];
}

export function exitDetails(lane: Lane, i: number): ExitDetails {
  const c = lane.exits.cols;
  const reason = reasonName(c.reason[i]);
  const ref = { vcpu: lane.vcpu, exit: c.exit[i] };
  const inKvm = timeInKvm(lane, i);
  const rows: [string, string][] = [
    ['reason', `${reason} (${c.reason[i]})`],
    ['rip', hex(c.rip[i])],
    ['qualification', hex(c.qual[i])],
    ['at', formatNs(c.t[i])],
    ['time in KVM', Number.isNaN(inKvm) ? 'still in KVM' : formatNs(inKvm)],
  ];
  if (c.kvmExit[i] >= 0) {
    rows.push(['KVM_RUN returned', c.errno[i] ? `-${errnoName(c.errno[i])} (${kvmExitName(c.kvmExit[i])})` : `0, ${kvmExitName(c.kvmExit[i])}`]);
  }
  if (!Number.isNaN(c.tEntry[i])) rows.push(['until next entry', formatNs(c.tEntry[i] - c.t[i])]);
  return { ref, t: c.t[i], reason, title: `vCPU ${lane.vcpu} exit #${count(ref.exit)}: ${reason} at ${formatNs(c.t[i])}`, rows };
}

/** Exits in the order the timeline lists them: by time, then vCPU, then exit number. */
function cmp(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * The exit just before or after `from` in time over all lanes, for keyboard selection; with no
 * `from`, the first exit from time `t` in that direction. Null at either end.
 */
export function adjacentExit(tl: Timeline, from: ExitRef | null, dir: 1 | -1, t = tl.t0): ExitRef | null {
  let key: [number, number, number] = [t, dir > 0 ? -Infinity : Infinity, 0];
  if (from) {
    const lane = tl.lane(from.vcpu);
    const row = lane ? lane.findExit(from.exit) : -1;
    if (!lane || row < 0) return null;
    key = [lane.exits.cols.t[row], from.vcpu, from.exit];
  }
  let best: [number, number, number] | null = null;
  for (const lane of tl.lanes) {
    const { t: col, exit } = lane.exits.cols;
    const n = lane.exits.n;
    // Start among the exits at the key's instant, and skip those not beyond the key.
    let i = dir > 0 ? lowerBound(col, n, key[0]) : lowerBound(col, n, key[0], true) - 1;
    while (i >= 0 && i < n && cmp([col[i], lane.vcpu, exit[i]], key) * dir <= 0) i += dir;
    if (i < 0 || i >= n) continue;
    const k: [number, number, number] = [col[i], lane.vcpu, exit[i]];
    if (!best || cmp(k, best) * dir < 0) best = k;
  }
  return best && { vcpu: best[1], exit: best[2] };
}
