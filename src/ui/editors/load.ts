// When the CodeMirror chunk (a third of the page's JavaScript) is fetched: never before the first
// paint, then when the browser is idle, or at once when an editor comes into view (its dock opens),
// whichever comes first. Until then an editor is a plain textarea that works.
type Chunk = typeof import('./codemirror');

/** How long an idle callback may wait for a quiet moment (the worker's replies keep the page busy). */
const IDLE_TIMEOUT_MS = 1500;
/** Where the browser never reports a first paint (a background tab, no paint timing), stop waiting. */
const PAINT_FALLBACK_MS = 3000;

let chunk: Promise<Chunk> | undefined;

/** The chunk, fetched once for both editors; a failed fetch (offline) is tried again next time. */
export function loadCodeMirror(): Promise<Chunk> {
  chunk ??= import('./codemirror').catch((e: unknown) => {
    chunk = undefined;
    throw e;
  });
  return chunk;
}

let painted: Promise<void> | undefined;

/** Resolves once the first contentful paint has been presented (or the fallback time has passed). */
export function afterFirstPaint(): Promise<void> {
  painted ??= new Promise<void>((resolve) => {
    const timer = setTimeout(done, PAINT_FALLBACK_MS);
    let observer: PerformanceObserver | undefined;
    function done() {
      clearTimeout(timer);
      observer?.disconnect();
      resolve();
    }
    if (!PerformanceObserver.supportedEntryTypes?.includes('paint')) {
      // No paint timing: two frames on, the first one has been painted.
      requestAnimationFrame(() => requestAnimationFrame(done));
      return;
    }
    observer = new PerformanceObserver((list) => {
      if (list.getEntriesByName('first-contentful-paint').length) done();
    });
    observer.observe({ type: 'paint', buffered: true });
  });
  return painted;
}

/**
 * Calls `load` once: after the first paint, when the browser is idle or when `el` comes into view,
 * whichever is first. Returns a function that cancels it (the editor went away).
 */
export function loadWhenWanted(el: Element, load: () => void): () => void {
  let settled = false;
  let idle: (() => void) | undefined;
  const go = () => {
    if (settled) return;
    cancel();
    load();
  };
  const seen = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) void afterFirstPaint().then(go);
  });
  seen.observe(el);
  void afterFirstPaint().then(() => {
    if (settled) return;
    if (typeof requestIdleCallback === 'function') {
      const id = requestIdleCallback(go, { timeout: IDLE_TIMEOUT_MS });
      idle = () => cancelIdleCallback(id);
    } else {
      const id = setTimeout(go, 0);
      idle = () => clearTimeout(id);
    }
  });
  function cancel() {
    settled = true;
    seen.disconnect();
    idle?.();
  }
  return cancel;
}
