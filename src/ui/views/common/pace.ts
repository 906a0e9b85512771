// When a view shows data that keeps changing. A change after a quiet spell (a person's step) is
// shown at once; changes closer together than STREAMING_GAP_MS are a run streaming in, and are
// shown at most every so often: nobody reads a table that changes sixty times a second, and the
// frames it would cost are the page's.
import { useEffect, useLayoutEffect, useRef, useState } from 'react';

/** Changes closer together than this are a stream (a run's frames), not a person's steps. */
export const STREAMING_GAP_MS = 50;

export class Pace {
  private changedAt = -Infinity;
  private shownAt = -Infinity;

  constructor(readonly every: number, private readonly now: () => number = () => performance.now()) {}

  /** A change came: how many ms to wait before showing it (0: show it now). */
  change(): number {
    const t = this.now();
    const streaming = t - this.changedAt < STREAMING_GAP_MS;
    this.changedAt = t;
    return streaming ? Math.max(0, this.shownAt + this.every - t) : 0;
  }

  /** The latest change is being shown. */
  shown(): void {
    this.shownAt = this.now();
  }
}

/** `value` as a view should show it: at once after a quiet spell, at most every `every` ms while it streams. */
export function usePaced<T>(value: T, every: number): T {
  const [shown, setShown] = useState(value);
  const pace = useRef<Pace | null>(null);
  const timer = useRef(0);
  // Before the browser paints: a step's change shows in the frame that shows the step, not one later.
  useLayoutEffect(() => {
    pace.current ??= new Pace(every);
    if (Object.is(value, shown)) return;
    const show = () => {
      timer.current = 0;
      pace.current!.shown();
      setShown(() => value);
    };
    const wait = pace.current.change();
    clearTimeout(timer.current);
    if (wait) timer.current = window.setTimeout(show, wait);
    else show();
  }, [value, shown, every]);
  useEffect(() => () => clearTimeout(timer.current), []);
  return shown;
}
