// The receiving end of `SentView`: the host leaves a view's frames without their `roots` when they
// are the recording the previous view carried; this puts them back from the last view that carried
// them, so whoever reads the views (the page's store) always sees them whole. It must see every
// view, in the order they arrive.
import type { Frame } from '../trace/events';
import type { SentView } from './protocol';
import type { LabView } from './view';

export class HeldRecording {
  private held: { recording: number; roots: Frame[] } | null = null;

  /** The view made whole, or why it cannot be (the worker left out a recording the page never got). */
  resolve(view: SentView): LabView | string {
    const f = view.frames;
    if (!f) return { ...view, frames: null };
    if (f.roots) {
      this.held = { recording: f.recording, roots: f.roots };
      return { ...view, frames: { ...f, roots: f.roots } };
    }
    if (this.held?.recording !== f.recording) return `the worker left out recording #${f.recording}, which the page does not hold`;
    return { ...view, frames: { ...f, roots: this.held.roots } };
  }

  /** A new worker starts afresh: it sends every recording once before it leaves one out. */
  forget(): void {
    this.held = null;
  }
}
