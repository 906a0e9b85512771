// What the lab's benchmarks share: their scenarios (./scenarios.ts), a probe that times a click to
// the frame that shows what it changed, and the timing of a Pause.
import type { Page } from '@playwright/test';

export { BUSY, SPIN, VCPUS } from './scenarios';

/**
 * Times, in the page, from a click to the frame that shows what it changed: every batch of DOM
 * changes after the click (the live region aside, which speaks on its own schedule) schedules a
 * timestamp after the next frame; the last one, once the page is quiet, is when the step was shown.
 */
export async function installStepProbe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const probe = { t0: 0, last: 0, shown: 0 };
    Object.assign(window, { probe });
    document.addEventListener('click', () => Object.assign(probe, { t0: performance.now(), last: 0, shown: 0 }), true);
    const live = document.querySelector('[aria-label="Exit narration"]');
    new MutationObserver((records) => {
      if (!probe.t0 || records.every((r) => live?.contains(r.target))) return;
      const at = (probe.last = performance.now());
      requestAnimationFrame(() => setTimeout(() => at === probe.last && (probe.shown = performance.now())));
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

/** Clicks a control and returns the milliseconds until the page showed the result. */
export async function timedClick(page: Page, name: string): Promise<number> {
  await page.getByRole('button', { name, exact: true }).click();
  const quiet = 150; // ms without a DOM change: the step has been shown
  const handle = await page.waitForFunction(
    (q) => {
      const p = (window as unknown as { probe: { t0: number; last: number; shown: number } }).probe;
      return p.shown > p.last && performance.now() - p.last > q ? p.shown - p.t0 : null;
    },
    quiet,
    { polling: 20 },
  );
  return (await handle.jsonValue()) as number;
}

/** Before the page loads: logs the arrival of every worker reply ({ t, type, running }) in `window.replies`. */
export async function logWorkerReplies(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const replies: { t: number; type: string; running?: boolean }[] = [];
    const Native = window.Worker;
    // Registered before the page's own handler, so the time is when the reply's task began.
    window.Worker = class extends Native {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        this.addEventListener('message', (e: MessageEvent) => replies.push({ t: performance.now(), type: e.data?.type, running: e.data?.running }));
      }
    };
    Object.assign(window, { replies });
  });
}

/**
 * In the simulation worker: logs when each Pause request reaches its message handler and when each
 * view that ends a run is posted, on the clock all threads share (timeOrigin + now), in `self.marks`.
 */
export async function logWorkerSide(page: Page): Promise<void> {
  const worker = page.workers()[0];
  await worker.evaluate(() => {
    const scope = self as unknown as DedicatedWorkerGlobalScope & { marks: { pause: number[]; answer: number[] } };
    const marks = (scope.marks = { pause: [] as number[], answer: [] as number[] });
    const now = () => performance.timeOrigin + performance.now();
    const handler = scope.onmessage!;
    scope.onmessage = (e: MessageEvent) => {
      if (e.data?.type === 'pause') marks.pause.push(now());
      handler.call(scope, e);
    };
    const post = scope.postMessage.bind(scope);
    scope.postMessage = ((m: { type?: string; running?: boolean }, t: Transferable[]) => {
      if (m?.type === 'view' && m.running === false) marks.answer.push(now());
      post(m, t);
    }) as typeof scope.postMessage;
  });
}

/** The worker's marks (logWorkerSide) of the latest Pause: when it got the request, when it answered. */
export async function workerSide(page: Page): Promise<{ received: number; answered: number }> {
  return page.workers()[0].evaluate(() => {
    const { marks } = self as unknown as { marks: { pause: number[]; answer: number[] } };
    return { received: marks.pause.at(-1)!, answered: marks.answer.at(-1)! };
  });
}

/**
 * Clicks Pause while a run goes and measures, in the page: to the worker's answer (the first view
 * with `running: false` to arrive, the moment its task starts), and to the frame that shows the run
 * stopped (the toolbar no longer says running). Also how long the page's main thread was busy with
 * long tasks in between, and the slowest one, to tell a busy page from a slow worker.
 */
export async function timedPause(page: Page): Promise<{ at: number; ack: number; painted: number; busy: number; longest: number }> {
  return page.evaluate(async () => {
    const replies = (window as unknown as { replies: { t: number; type: string; running?: boolean }[] }).replies;
    const long: PerformanceEntry[] = [];
    const observer = new PerformanceObserver((l) => long.push(...l.getEntries()));
    observer.observe({ type: 'longtask' });
    const pause = [...document.querySelectorAll('button')].find((b) => b.textContent === 'Pause')!;
    const position = document.querySelector('[role="toolbar"] .position')!;
    const from = replies.length;
    const t0 = performance.now();
    pause.click();
    const painted = await new Promise<number>((done) => {
      // performance.now(), not the frame's timestamp: that is when the frame began, maybe before the reply.
      const check = () => (position.textContent!.includes('running') ? requestAnimationFrame(check) : done(performance.now()));
      requestAnimationFrame(check);
    });
    observer.disconnect();
    const ack = replies.slice(from).find((r) => r.type === 'view' && r.running === false)!.t;
    const inside = long.filter((e) => e.startTime + e.duration > t0 && e.startTime < painted);
    return {
      at: performance.timeOrigin + t0,
      ack: ack - t0,
      painted: painted - t0,
      busy: inside.reduce((a, e) => a + e.duration, 0),
      longest: Math.max(0, ...inside.map((e) => e.duration)),
    };
  });
}
