// When the CodeMirror chunk loads, with the browser's observers and idle callbacks played by hand:
// never before the first paint, then on idle or on coming into view (whichever is first), once.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/** The browser, driven by the test: paint, idle and visibility happen when the test says. */
function fakeBrowser(paintTiming = true) {
  const idle = new Map<number, () => void>();
  let ids = 0;
  const frames: (() => void)[] = [];
  const paintObservers: ((list: { getEntriesByName(n: string): unknown[] }) => void)[] = [];
  const viewObservers: { cb: (e: { isIntersecting: boolean }[]) => void; live: boolean }[] = [];
  class PerformanceObserver {
    static supportedEntryTypes = paintTiming ? ['paint'] : [];
    constructor(private cb: (typeof paintObservers)[number]) {}
    observe() {
      paintObservers.push(this.cb);
    }
    disconnect() {}
  }
  class IntersectionObserver {
    private o: (typeof viewObservers)[number];
    constructor(cb: (typeof viewObservers)[number]['cb']) {
      this.o = { cb, live: true };
      viewObservers.push(this.o);
    }
    observe() {}
    disconnect() {
      this.o.live = false;
    }
  }
  vi.stubGlobal('PerformanceObserver', PerformanceObserver);
  vi.stubGlobal('IntersectionObserver', IntersectionObserver);
  vi.stubGlobal('requestIdleCallback', (fn: () => void) => (idle.set(++ids, fn), ids));
  vi.stubGlobal('cancelIdleCallback', (id: number) => idle.delete(id));
  vi.stubGlobal('requestAnimationFrame', (fn: () => void) => frames.push(fn));
  return {
    paint: () => paintObservers.forEach((cb) => cb({ getEntriesByName: (n) => (n === 'first-contentful-paint' ? [{}] : []) })),
    frame: () => frames.splice(0).forEach((fn) => fn()),
    idle: () => {
      const due = [...idle.values()];
      idle.clear();
      due.forEach((fn) => fn());
    },
    show: () => viewObservers.filter((o) => o.live).forEach((o) => o.cb([{ isIntersecting: true }])),
    hide: () => viewObservers.filter((o) => o.live).forEach((o) => o.cb([{ isIntersecting: false }])),
  };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  vi.resetModules(); // each test its own first paint
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('loadWhenWanted', () => {
  it('waits for the first paint, then loads at once for an editor in view, and only once', async () => {
    const b = fakeBrowser();
    const { loadWhenWanted } = await import('./load');
    const load = vi.fn();
    loadWhenWanted({} as Element, load);
    b.idle();
    b.show(); // in view before the first paint: still waits
    await settle();
    expect(load).not.toHaveBeenCalled();
    b.paint();
    await settle();
    expect(load).toHaveBeenCalledOnce(); // in view: at once, without waiting for idle
    b.idle();
    b.show();
    await settle();
    expect(load).toHaveBeenCalledOnce();
  });

  it('calls load exactly once, after the first paint, whatever the order of events', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('paint', 'idle', 'show', 'hide', 'cancel'), { maxLength: 12 }), async (script) => {
        vi.resetModules();
        const b = fakeBrowser();
        const { loadWhenWanted } = await import('./load');
        const load = vi.fn();
        const cancel = loadWhenWanted({} as Element, load);
        let painted = false;
        for (const step of script) {
          if (step === 'cancel') cancel();
          else b[step]();
          painted ||= step === 'paint';
          await settle();
          if (!painted) expect(load).not.toHaveBeenCalled();
        }
        // When it was wanted: shown (once painted) or idle after the paint, the first of these.
        const p = script.indexOf('paint');
        const wants = p < 0 ? [] : script.flatMap((s, i) => (s === 'show' ? [Math.max(i, p)] : s === 'idle' && i > p ? [i] : []));
        const wanted = wants.length ? Math.min(...wants) : Infinity;
        const cancelledAt = script.includes('cancel') ? script.indexOf('cancel') : Infinity;
        expect(load.mock.calls.length).toBe(wanted < cancelledAt ? 1 : 0);
        vi.unstubAllGlobals();
      }),
      { numRuns: 100 },
    );
  });

  it('without paint timing, the first paint is two frames on', async () => {
    const b = fakeBrowser(false);
    const { afterFirstPaint } = await import('./load');
    let painted = false;
    void afterFirstPaint().then(() => (painted = true));
    b.frame();
    await settle();
    expect(painted).toBe(false);
    b.frame();
    await settle();
    expect(painted).toBe(true);
  });

  it('stops waiting for a paint that never comes (a background tab)', async () => {
    vi.useFakeTimers();
    fakeBrowser();
    const { afterFirstPaint } = await import('./load');
    let painted = false;
    void afterFirstPaint().then(() => (painted = true));
    await vi.advanceTimersByTimeAsync(2999);
    expect(painted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(painted).toBe(true);
  });
});
