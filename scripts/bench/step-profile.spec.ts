// Where one step's time goes, from a Chromium performance trace of the built lab (not a test): the
// page's main thread and the simulation worker, each event's self time summed by name and divided
// by the steps traced, beside the click-to-paint times the probe saw. A profile, so it is printed
// and saved (reports/bench/step-profile.json), never judged.
// Run: BENCH_PROFILE=1 npx playwright test -c playwright.bench.config.ts --project profile   (after
// npx vite build); without BENCH_PROFILE it is skipped, so `npm run bench` leaves it out.
import { writeFileSync } from 'node:fs';
import { expect, Lab, test } from '../../e2e/support/lab';
import { r1, saveResult, spread } from './browser-results';
import { BUSY, installStepProbe, timedClick, VCPUS } from './lab-support';

const STEPS = 8;
const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'blink.user_timing', 'toplevel', 'v8'];

interface TraceEvent { ph: string; name: string; pid: number; tid: number; ts: number; dur?: number; args?: { name?: string } }

/** Self time by event name on each named thread (complete events nest by time on their thread). */
function selfTimes(events: TraceEvent[], threads: Record<string, string>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const byThread = new Map<string, TraceEvent[]>();
  for (const e of events) if (e.ph === 'X' && e.dur !== undefined && threads[`${e.pid}:${e.tid}`]) {
    const k = `${e.pid}:${e.tid}`;
    if (!byThread.has(k)) byThread.set(k, []);
    byThread.get(k)!.push(e);
  }
  for (const [k, list] of byThread) {
    list.sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
    const self = (out[threads[k]] ??= {});
    const stack: { end: number; name: string; child: number; dur: number }[] = [];
    const close = (upTo: number) => {
      while (stack.length && stack.at(-1)!.end <= upTo) {
        const f = stack.pop()!;
        self[f.name] = (self[f.name] ?? 0) + f.dur - f.child;
        if (stack.length) stack.at(-1)!.child += f.dur;
      }
    };
    for (const e of list) {
      close(e.ts);
      stack.push({ end: e.ts + e.dur!, name: e.name, child: 0, dur: e.dur! });
    }
    close(Infinity);
  }
  return out;
}

test('where a step goes: main thread and worker, by trace event', async ({ page, browser }, testInfo) => {
  test.skip(!process.env.BENCH_PROFILE, 'a profile, on request: BENCH_PROFILE=1');
  const lab = await Lab.open(page, BUSY(1_000_000));
  await lab.stepOps(VCPUS.length);
  await installStepProbe(page);
  const figures: Record<string, unknown> = {};
  for (const name of ['Step instruction', 'Step to next exit', 'Step frame']) {
    for (let i = 0; i < 3; i++) await timedClick(page, name); // warm-up
    await browser.startTracing(page, { categories: CATEGORIES });
    const ms: number[] = [];
    for (let i = 0; i < STEPS; i++) ms.push(await timedClick(page, name));
    const raw = await browser.stopTracing();
    // BENCH_TRACE=dir keeps each trace, to open in Chromium's DevTools (Performance: Load profile).
    if (process.env.BENCH_TRACE) writeFileSync(`${process.env.BENCH_TRACE}/${name.replace(/ /g, '-')}.json`, raw);
    const trace = JSON.parse(raw.toString()) as { traceEvents: TraceEvent[] };
    const threads: Record<string, string> = {};
    for (const e of trace.traceEvents) {
      if (e.ph === 'M' && e.name === 'thread_name' && /CrRendererMain|DedicatedWorker/.test(e.args?.name ?? '')) threads[`${e.pid}:${e.tid}`] = e.args!.name!;
    }
    const self = selfTimes(trace.traceEvents, threads);
    const top = Object.fromEntries(Object.entries(self).map(([thread, names]) => [thread, Object.fromEntries(
      Object.entries(names).sort((a, b) => b[1] - a[1]).slice(0, 14).map(([n, us]) => [n, r1(us / 1000 / STEPS)]),
    )]));
    figures[name] = { click_to_paint_ms: spread(ms), self_ms_per_step: top };
  }
  await expect(lab.vcpu(3)).toBeVisible();
  console.log(`where a step goes: ${JSON.stringify(figures, null, 1)}`);
  await saveResult(testInfo, 'step-profile', figures);
});
