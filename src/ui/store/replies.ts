// Folding the worker's replies into the page's state, so Node tests cover it. While a run is going,
// replies are queued and folded once per animation frame (coarse); a step's view is folded at once
// (everything updates). The page keeps no event stream: the worker sends it reduced (batch.ts), and
// what is kept is bounded by what is shown — the timeline's columns, perf kvm stat's rows, the
// ioctls. Pure but for the timeline, whose columns are applied in place (they are large typed
// arrays) and announced by a new `timelineVersion`.
import type { KvmStat } from '../../model/trace/kvmstat';
import { ACTIVITIES, Timeline } from '../../model/trace/timeline';
import type { IoctlEvent, Move, Reply, SourceProblem, StatsView } from '../../model/worker/protocol';
import type { CompareView, LabView } from '../../model/worker/view';

export interface SimState {
  view: LabView | null;
  moves: Move[];
  running: boolean;
  problems: SourceProblem[];
  /** A request the worker refused, in its words (until the answer to a later request). */
  refusal: { seq: number; message: string } | null;
  /** The recording compared side by side (EXIT_USERSPACE flipped), until the next move. */
  compare: { seq: number; view: CompareView } | null;
  /** The worker's timeline, mirrored from its deltas; `timelineVersion` changes when it does. */
  timeline: Timeline;
  timelineVersion: number;
  /** Every ioctl issued, by the program or the page (the ioctl log). */
  ioctls: readonly IoctlEvent[];
  /** perf kvm stat as the worker tallied it (the rows `exitscope run` prints). */
  statsView: StatsView | null;
  /** The tables the page shows: the VM's, then one per vCPU (of the view, and any other that exited). */
  stats: KvmStat[];
}

export function emptySim(): SimState {
  return {
    view: null, moves: [], running: false, problems: [], refusal: null, compare: null, timeline: new Timeline(), timelineVersion: 0,
    ioctls: [], statsView: null, stats: [noExits('all')],
  };
}

/** A reply as the store folds it: a view made whole (./recording.ts). */
export type PageReply = Exclude<Reply, { type: 'view' }> | (Omit<Extract<Reply, { type: 'view' }>, 'view'> & { view: LabView });

const INDEX_SCRATCH = new Float64Array(ACTIVITIES.length);

/**
 * Brings each lane's lazy indexes (running activity totals, runs of one exit reason) up to its last
 * row, a batch at a time: left to the first paint that sees a whole run, they were built all at once
 * in it (a run's first view widens the window from the old `now` to the run's: one long task).
 */
function keepIndexed(tl: Timeline): void {
  for (const lane of tl.lanes) {
    lane.reasonRuns();
    lane.activityTime(Infinity, Infinity, INDEX_SCRATCH);
  }
}

export function foldReplies(s: SimState, replies: readonly PageReply[]): SimState {
  let out = s;
  for (const r of replies) {
    switch (r.type) {
      case 'batch': {
        const b = r.batch;
        out.timeline.apply(b.timeline);
        keepIndexed(out.timeline);
        const ioctls = b.replay ? b.ioctls : b.ioctls.length ? [...out.ioctls, ...b.ioctls] : out.ioctls;
        out = { ...out, timelineVersion: out.timelineVersion + 1, ioctls };
        if (b.stats) out = { ...out, statsView: b.stats };
        break;
      }
      case 'view': {
        // A view answering a later request ends what was said about an earlier one.
        const later = <T extends { seq: number } | null>(x: T) => (x && x.seq < r.seq ? null : x);
        out = { ...out, view: r.view, running: r.running, moves: r.moves, refusal: later(out.refusal), compare: later(out.compare) };
        break;
      }
      case 'compare':
        out = { ...out, compare: { seq: r.seq, view: r.compare } };
        break;
      case 'loaded':
        out = { ...out, problems: [] };
        break;
      case 'rejected':
        out = { ...out, problems: r.problems };
        break;
      case 'refused':
        out = { ...out, refusal: { seq: r.seq, message: r.message }, running: false };
        break;
      default:
        break;
    }
  }
  // New tables only when the tallies or the vCPUs changed (a view while running often changes neither).
  const ids = out.view?.vcpus.map((v) => v.id) ?? [];
  if (out.statsView === s.statsView && ids.join() === (s.view?.vcpus.map((v) => v.id) ?? []).join()) return out;
  return { ...out, stats: statsList(out.statsView, ids) };
}

/** The VM's table, then one per vCPU in id order: those of the view, and any other that exited. */
export function statsList(stats: StatsView | null, ids: readonly number[]): KvmStat[] {
  const byId = new Map((stats?.vcpus ?? []).map((s) => [s.vcpu as number, s]));
  const all = [...new Set([...ids, ...byId.keys()])].sort((a, b) => a - b);
  return [stats?.vm ?? noExits('all'), ...all.map((id) => byId.get(id) ?? noExits(id))];
}

/** A table with nothing counted yet (a vCPU that has not exited). */
function noExits(vcpu: KvmStat['vcpu']): KvmStat {
  return { vcpu, rows: [], totalSamples: 0, totalNs: 0, unfinished: 0 };
}

/** Whether a reply should be shown at once rather than at the next animation frame. */
export function isUrgent(r: PageReply): boolean {
  return r.type !== 'batch' && !(r.type === 'view' && r.running);
}
