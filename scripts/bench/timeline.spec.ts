// Benchmark, not a test: pans and zooms a 100,000-exit timeline with real mouse input and records
// the gaps between animation frames (requestAnimationFrame timestamps) while it does; then the same
// over a real model run (the lab bench's four busy vCPUs, 213,288 exits, built from the worker's batches).
// Run: npx playwright test -c playwright.bench.config.ts
import { expect, test, type Page } from '@playwright/test';
import { r1, saveResult, spread, type Spread } from './browser-results';

interface Gaps {
  /** Exits in view while it ran. */
  inView: string;
  /** Time spent drawing (the page's animation-frame callbacks), per frame drawn. */
  draw: Spread;
  /** Gaps between animation frames. */
  gaps: Spread;
  ms: number;
  fps: number;
  over20: number;
}

async function startRecording(page: Page) {
  await page.evaluate(() => {
    const w = window as unknown as { gaps: number[]; recording: boolean; callbackMs: number[] };
    w.gaps = [];
    w.callbackMs.length = 0;
    w.recording = true;
    let last = 0;
    const tick = (ts: number) => {
      if (last) w.gaps.push(ts - last);
      last = ts;
      if (w.recording) requestAnimationFrame(tick);
    };
    (tick as { benchRecorder?: boolean }).benchRecorder = true;
    requestAnimationFrame(tick);
  });
}

async function stopRecording(page: Page): Promise<Gaps> {
  const { gaps, draw } = await page.evaluate(() => {
    const w = window as unknown as { gaps: number[]; recording: boolean; callbackMs: number[] };
    w.recording = false;
    return { gaps: w.gaps, draw: w.callbackMs.slice() };
  });
  await page.waitForTimeout(300); // d3-zoom ends a wheel gesture after 150 ms; then the summary follows
  const inView = /, ([\d,]+) exits?\./.exec((await page.locator('.xs-tl-summary').textContent()) ?? '')?.[1] ?? '?';
  const ms = gaps.reduce((a, b) => a + b, 0);
  return { inView, draw: spread(draw), gaps: spread(gaps), ms: r1(ms), fps: r1((gaps.length / ms) * 1000), over20: gaps.filter((g) => g > 20).length };
}

async function drag(page: Page, box: { x: number; y: number; width: number; height: number }, dx: number, steps: number) {
  const y = box.y + box.height / 2;
  const x0 = box.x + box.width / 2;
  await page.mouse.move(x0, y);
  await page.mouse.down();
  await page.mouse.move(x0 + dx, y, { steps });
  await page.mouse.up();
}

const CASES = [
  { name: 'pan and zoom 100,000 exits at devicePixelRatio 1', dpr: 1, query: 'exits=100000&vcpus=2', exits: '100,000', result: 'timeline-dpr1' },
  { name: 'pan and zoom 100,000 exits at devicePixelRatio 2', dpr: 2, query: 'exits=100000&vcpus=2', exits: '100,000', result: 'timeline-dpr2' },
  // About 213,288 exits: the lab's flat-out bench, run by the simulation worker in the page.
  { name: 'pan and zoom a model run (4 busy vCPUs, the worker\'s batches) at devicePixelRatio 1', dpr: 1, query: 'source=model&ns=160000000', exits: '213,288', result: 'timeline-model-dpr1' },
];

for (const { name, dpr, query, exits, result } of CASES) {
  test(name, async ({ browser }, testInfo) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: dpr });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`/scripts/bench/page.html?page=timeline&${query}`);
    await page.waitForFunction(() => (window as unknown as { benchReady?: boolean }).benchReady);
    const region = page.getByRole('region', { name: 'Timeline' });
    await expect(region.getByText(`${exits} exits`, { exact: false }).first()).toBeVisible({ timeout: 60_000 }); // a loaded machine is slow to serve the dev modules
    const plot = region.getByRole('group', { name: /Exits over time/ });
    const box = (await plot.boundingBox())!;
    await page.waitForTimeout(300); // first paint and layout settle

    const results: Record<string, Gaps> = {};
    // Zoom in by wheel (about 3x) so there is room to pan.
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await startRecording(page);
    for (let i = 0; i < 20; i++) await page.mouse.wheel(0, -40);
    results.wheelZoom = await stopRecording(page);

    for (const [name, zoomKeys] of [['pan', 0], ['pan, zoomed in 10x further', 5]] as const) {
      for (let k = 0; k < zoomKeys; k++) await plot.press('+');
      await startRecording(page);
      for (let rep = 0; rep < 3; rep++) {
        await drag(page, box, -400, 60);
        await drag(page, box, 400, 60);
      }
      results[name] = await stopRecording(page);
    }

    const summary = await region.locator('.xs-tl-summary').textContent();
    console.log(`devicePixelRatio ${dpr}: ${JSON.stringify(results, null, 1)}\nsummary: ${summary}`);
    await saveResult(testInfo, result, { exits: Number(exits.replace(/,/g, '')), source: query, ...results });
    await page.screenshot({ path: `test-results/bench-${result}.png` });
    expect(errors).toEqual([]);
    await context.close();
  });
}
