// Windowed lists: only the rows in (or near) the viewport are in the DOM, so a recording of 20,000
// frames or a list of 100,000 exits scrolls like a short one. Rows have one fixed height.
import { useCallback, useLayoutEffect, useRef, useState, type RefObject, type UIEvent } from 'react';

/** Rows [start, end) to render for a viewport at `scrollTop` of `height` px, `overscan` rows either side. */
export function rowRange(scrollTop: number, height: number, rowHeight: number, count: number, overscan = 8): [number, number] {
  if (count <= 0 || rowHeight <= 0) return [0, 0];
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const last = Math.ceil((Math.max(0, scrollTop) + Math.max(0, height)) / rowHeight);
  const start = Math.min(count, Math.max(0, first - overscan));
  return [start, Math.min(count, Math.max(start, last + overscan))];
}

/** The scrollTop that brings row i fully into a viewport, or null when it already is. */
export function scrollFor(i: number, scrollTop: number, height: number, rowHeight: number): number | null {
  const top = i * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + height) return top + rowHeight - height;
  return null;
}

/** Height assumed before layout (server rendering, tests): about a screenful of rows. */
const INITIAL_HEIGHT = 640;

export interface ListWindow {
  ref: RefObject<HTMLDivElement | null>;
  onScroll: (e: UIEvent<HTMLDivElement>) => void;
  start: number;
  end: number;
  /** Scrolls the least needed to show row i. */
  reveal: (i: number) => void;
}

export function useListWindow(count: number, rowHeight: number): ListWindow {
  const ref = useRef<HTMLDivElement | null>(null);
  const [view, setView] = useState({ top: 0, height: INITIAL_HEIGHT });
  /** Reads the box's scroll position and height (the same values keep the same state: no render). */
  const measure = useCallback((el: HTMLDivElement) => {
    const top = el.scrollTop, height = el.clientHeight;
    setView((v) => (v.top === top && v.height === height ? v : { top, height }));
  }, []);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    measure(el);
    const ro = new ResizeObserver(() => measure(el));
    ro.observe(el);
    return () => ro.disconnect();
  }, [measure]);
  const onScroll = useCallback((e: UIEvent<HTMLDivElement>) => measure(e.currentTarget), [measure]);
  const reveal = useCallback(
    (i: number) => {
      const el = ref.current;
      if (!el) return;
      const top = scrollFor(i, el.scrollTop, el.clientHeight, rowHeight);
      if (top === null) return;
      el.scrollTop = top;
      // The rows for the new position now, not at the scroll event (a frame later).
      measure(el);
    },
    [rowHeight, measure],
  );
  const [start, end] = rowRange(view.top, view.height, rowHeight, count);
  return { ref, onScroll, start, end, reveal };
}
