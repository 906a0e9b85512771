// Benchmarks of the built lab (vite preview of dist/), not tests: how long a step takes to show, whether
// the page keeps painting while the worker runs flat out, and how much JavaScript loads before the
// first paint. Each writes its figures to reports/bench/ for `npm run bench`'s summary.
// Run: npx playwright test -c playwright.bench.config.ts --project lab   (after npm run build)
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { Page } from '@playwright/test';
import { expect, Lab, test } from '../../e2e/support/lab';
import { BUSY, installStepProbe, logWorkerReplies, logWorkerSide, SPIN, timedClick, timedPause, VCPUS, workerSide } from './lab-support';
import { r1, saveResult, spread } from './browser-results';

/** The build being served (playwright.bench.config.ts). */
const DIST = process.env.BENCH_DIST ?? 'dist';

const QUICK = !!process.env.BENCH_QUICK;

test('step to the updated page, 4 vCPUs', async ({ page }, testInfo) => {
  const lab = await Lab.open(page, BUSY(1_000_000));
  await lab.stepOps(VCPUS.length); // the vCPUs exist; next: the four threads in KVM_RUN
  await installStepProbe(page);
  const samples = QUICK ? 8 : 25;
  const figures: Record<string, ReturnType<typeof spread>> = {};
  for (const name of ['Step instruction', 'Step to next exit', 'Step frame']) {
    for (let i = 0; i < 3; i++) await timedClick(page, name); // warm-up
    const ms: number[] = [];
    for (let i = 0; i < samples; i++) ms.push(await timedClick(page, name));
    figures[name] = spread(ms);
  }
  await expect(lab.vcpu(3)).toBeVisible();
  console.log(`step to the updated page (ms): ${JSON.stringify(figures)}`);
  await saveResult(testInfo, 'step-latency', { vcpus: VCPUS.length, samples, ms: figures });
});

/**
 * Clicks Run and records, in the page, the gaps between animation frames and the long tasks until the
 * toolbar says the program has finished. The wait is a MutationObserver in the page: Playwright's own
 * polling (accessibility queries on the main thread) would be measured too.
 */
async function framesWhileRunning(page: Page) {
  return page.evaluate(async () => {
    const gaps: number[] = [], long: number[] = [], longAt: number[] = [];
    const t0 = performance.now();
    let on = true, last = 0;
    const tick = (ts: number) => {
      if (last) gaps.push(ts - last);
      last = ts;
      if (on) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    const observer = new PerformanceObserver((l) => l.getEntries().forEach((e) => (long.push(e.duration), longAt.push(e.startTime - t0))));
    observer.observe({ type: 'longtask' });
    const position = document.querySelector('[role="toolbar"] .position')!;
    const finished = new Promise<void>((done) => {
      new MutationObserver((_, mo) => position.textContent!.startsWith('program finished') && (mo.disconnect(), done()))
        .observe(position, { subtree: true, childList: true, characterData: true });
    });
    [...document.querySelectorAll('button')].find((b) => b.textContent === 'Run')!.click();
    await finished;
    on = false;
    observer.disconnect();
    return { gaps, long, longAt, ms: performance.now() - t0 };
  });
}

for (const [name, doc, forNs] of [
  // About 200,000 exits: the model charges some 3 µs of virtual time per in-kernel PIO exit.
  ['exits', BUSY, QUICK ? 16_000_000 : 160_000_000],
  ['guest only', SPIN, QUICK ? 20_000_000 : 200_000_000],
] as const) {
  test(`frames while the worker runs flat out: ${name}, 4 vCPUs`, async ({ page }, testInfo) => {
    const lab = await Lab.open(page, doc(forNs));
    await lab.stepOps(VCPUS.length);
    const f = await framesWhileRunning(page);
    const exits = await lab.timeline.getByText(/^\d[\d,]* exits?, /).textContent();
    const gaps = spread(f.gaps);
    const figures = {
      virtual_ns_per_vcpu: forNs,
      wall_ms: r1(f.ms),
      exits: Number(exits!.replace(/,/g, '').match(/^\d+/)![0]),
      frames: gaps.n,
      gap_ms: gaps,
      gaps_over_50ms: f.gaps.filter((g) => g > 50).length,
      long_tasks: spread(f.long),
      // When each long task began, from the click on Run (the run lasted wall_ms): at its start, in it, or its end.
      long_tasks_at_ms: f.longAt.map(r1),
    };
    console.log(`frames while running (${name}): ${JSON.stringify(figures)}`);
    await saveResult(testInfo, `frames-${name.replace(' ', '-')}`, figures);
  });
}

for (const [name, doc] of [['exits', BUSY], ['guest only', SPIN]] as const) test(`Pause while the worker runs flat out: ${name}, 4 vCPUs`, async ({ page }, testInfo) => {
  await logWorkerReplies(page);
  // Long enough that the program never finishes while it is paused and run again 25 times.
  const lab = await Lab.open(page, doc(10_000_000_000));
  await lab.stepOps(VCPUS.length);
  const samples = QUICK ? 8 : 25;
  const run = page.getByRole('button', { name: 'Run', exact: true });
  await logWorkerSide(page);
  const got: (Awaited<ReturnType<typeof timedPause>> & Awaited<ReturnType<typeof workerSide>>)[] = [];
  for (let i = 0; i < samples + 2; i++) {
    await run.click();
    await expect(lab.position).toContainText('running');
    // Into the run by a varying while (virtual-time runs are deterministic; the page's phase is not).
    await page.waitForTimeout(150 + ((i * 97) % 250));
    const p = await timedPause(page);
    await expect(run).toBeEnabled();
    if (i >= 2) got.push({ ...p, ...(await workerSide(page)) }); // the first two warm up
  }
  const figures = {
    samples,
    // Where the time goes: until the worker's message loop takes the request (the slice it was in),
    // from there until it posts its answer, and from the post until the page's main thread takes it.
    click_to_worker_takes_pause_ms: spread(got.map((p) => p.received - p.at)),
    worker_takes_pause_to_answer_ms: spread(got.map((p) => p.answered - p.received)),
    answer_posted_to_page_ms: spread(got.map((p) => p.at + p.ack - p.answered)),
    click_to_worker_answer_ms: spread(got.map((p) => p.ack)),
    click_to_paused_frame_ms: spread(got.map((p) => p.painted)),
    main_thread_long_tasks_ms: spread(got.map((p) => p.busy)),
    longest_task_ms: spread(got.map((p) => p.longest)),
    exits: await lab.timeline.getByText(/^\d[\d,]* exits?, /).textContent(),
  };
  console.log(`pause (ms, ${name}): ${JSON.stringify(figures)}`);
  await saveResult(testInfo, `pause-${name.replace(' ', '-')}`, figures);
});

/** The chunks a built chunk imports statically (what must load before it runs), itself included. */
function staticGraph(path: string, seen = new Set<string>()): Set<string> {
  if (seen.has(path)) return seen;
  seen.add(path);
  const code = readFileSync(`${DIST}${path}`, 'utf8');
  // `import{a as b}from"./x.js"` or `import"./x.js"`; a dynamic `import("./x.js")` has a parenthesis.
  for (const m of code.matchAll(/\bimport\s*(?:[\w$*{}\s,]+?\s*from\s*)?["'](\.\/[^"']+\.js)["']/g)) {
    staticGraph(new URL(m[1], `http://x${path}`).pathname, seen);
  }
  return seen;
}

test('JavaScript loaded before the first paint', async ({ page }, testInfo) => {
  const js: string[] = [];
  page.on('request', (r) => {
    if (r.resourceType() === 'script' || /\.m?js(\?|$)/.test(r.url())) js.push(new URL(r.url()).pathname);
  });
  await page.goto('/');
  await new Lab(page).ready();
  // The editors' chunk, if not yet: their dock opens on its tab when the window is not tall enough.
  const editor = page.getByRole('textbox', { name: 'Guest code' });
  if (!(await editor.isVisible())) await page.getByRole('tab', { name: 'Guest code' }).click();
  await editor.click();
  const { fcp, started } = await page.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    started: performance.getEntriesByType('resource').map((e) => ({ path: new URL(e.name).pathname, at: e.startTime })),
  }));
  const size = (path: string) => {
    const bytes = readFileSync(`${DIST}${path}`);
    return { file: path.replace(/^\/assets\//, ''), kb: r1(bytes.length / 1024), gzip_kb: r1(gzipSync(bytes, { level: 9 }).length / 1024) };
  };
  const sum = (xs: { gzip_kb: number }[]) => r1(xs.reduce((a, x) => a + x.gzip_kb, 0));
  // What the first paint needs: the built index.html's entry and everything it imports statically.
  const entry = readFileSync(`${DIST}/index.html`, 'utf8').match(/<script type="module"[^>]*src="([^"]+)"/)![1];
  const required = [...staticGraph(entry)].map(size);
  // What the page had started to fetch by then (lazy chunks whose import starts at the first render).
  const fetched = [...new Set(started.filter((s) => s.at < fcp && /\.m?js$/.test(s.path)).map((s) => s.path))];
  expect(fetched).toContain(entry); // the measurement saw the real start
  const later = [...new Set(js)].filter((p) => !fetched.includes(p)).map(size);
  const figures = {
    first_contentful_paint_ms: r1(fcp),
    required_for_first_paint: required, required_gzip_kb: sum(required),
    fetched_before_first_paint: fetched.map(size), fetched_gzip_kb: sum(fetched.map(size)),
    later, later_gzip_kb: sum(later),
  };
  console.log(`JavaScript before the first paint: ${JSON.stringify(figures)}`);
  await saveResult(testInfo, 'first-paint-js', figures);
});
