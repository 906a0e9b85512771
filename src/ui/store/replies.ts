// Folding the worker's replies into the page's state, so Node tests cover it. While a run is going,
// replies are queued and folded once per animation frame (coarse); a step's view is folded at once
// (everything updates). Pure but for the timeline, whose columns are applied in place (they are
// large typed arrays) and announced by a new `timelineVersion`.
import type { Move, Reply, SourceProblem } from '../../model/worker/protocol';
import type { CompareView, LabView } from '../../model/worker/view';
import type { TraceEvent } from '../../model/trace/events';
import { Timeline } from '../../model/trace/timeline';

export interface SimState {
  view: LabView | null;
  events: TraceEvent[];
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
}

export function emptySim(): SimState {
  return { view: null, events: [], moves: [], running: false, problems: [], refusal: null, compare: null, timeline: new Timeline(), timelineVersion: 0 };
}

export function foldReplies(s: SimState, replies: readonly Reply[]): SimState {
  let events = s.events;
  let copied = false;
  let out = s;
  for (const r of replies) {
    switch (r.type) {
      case 'events':
        // A replay may rewrite the stream from `from` on; otherwise this appends.
        if (!copied || r.from < events.length) {
          events = events.slice(0, Math.min(r.from, events.length));
          copied = true;
        }
        for (const e of r.events) events.push(e);
        break;
      case 'timeline':
        out.timeline.apply(r.delta);
        out = { ...out, timelineVersion: out.timelineVersion + 1 };
        break;
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
  return events === s.events ? out : { ...out, events };
}

/** Whether a reply should be shown at once rather than at the next animation frame. */
export function isUrgent(r: Reply): boolean {
  return r.type !== 'events' && r.type !== 'timeline' && !(r.type === 'view' && r.running);
}
