// Where the page's main thread goes while the worker runs flat out (4 vCPUs busy with exits, the
// lab bench's 213,288 exits): a JavaScript CPU profile of the page from the click on Run to the
// program's end, self time by function (where it is in the source), beside the idle time. A profile, so it is printed and saved
// (reports/bench/run-profile.json), never judged.
// Run: BENCH_PROFILE=1 npx playwright test -c playwright.bench.config.ts --project profile -g "while running"
import { expect, Lab, test } from '../../e2e/support/lab';
import { r1, saveResult } from './browser-results';
import { BUSY, VCPUS } from './lab-support';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const where = (f: ProfileNode['callFrame']) => `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;

/** Milliseconds of self time per function (name and place) over samples [from, to), highest first. */
function selfByFunction(p: Profile, from = 0, to = p.samples.length, top = 25): Record<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  for (let i = from; i < to; i++) {
    const key = where(byId.get(p.samples[i])!.callFrame);
    out.set(key, (out.get(key) ?? 0) + (p.timeDeltas[i + 1] ?? 0) / 1000);
  }
  return Object.fromEntries([...out].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, ms]) => [k, r1(ms)]));
}

/** Milliseconds of total time (self and callees) per function over samples [from, to), highest first. */
function totalByFunction(p: Profile, from: number, to: number, top = 25): Record<string, number> {
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  for (let i = from; i < to; i++) {
    const seen = new Set<string>();
    for (let id: number | undefined = p.samples[i]; id !== undefined; id = parent.get(id)) seen.add(where(byId.get(id)!.callFrame));
    for (const key of seen) out.set(key, (out.get(key) ?? 0) + (p.timeDeltas[i + 1] ?? 0) / 1000);
  }
  return Object.fromEntries([...out].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, ms]) => [k, r1(ms)]));
}

/** The longest stretch of samples with no idle one among them (the longest task, about): its samples. */
function longestBusy(p: Profile): { from: number; to: number; ms: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  let best = { from: 0, to: 0, ms: 0 };
  let from = 0;
  let ms = 0;
  p.samples.forEach((id, i) => {
    if (byId.get(id)!.callFrame.functionName === '(idle)') {
      from = i + 1;
      ms = 0;
      return;
    }
    ms += (p.timeDeltas[i + 1] ?? 0) / 1000;
    if (ms > best.ms) best = { from, to: i + 1, ms };
  });
  return best;
}

test('the main thread while running flat out, 4 vCPUs busy with exits', async ({ page }, testInfo) => {
  test.skip(!process.env.BENCH_PROFILE, 'a profile, on request: BENCH_PROFILE=1');
  const lab = await Lab.open(page, BUSY(160_000_000));
  await lab.stepOps(VCPUS.length);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(lab.position).toContainText('program finished', { timeout: 60_000 });
  const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile };
  const busy = longestBusy(profile);
  const figures = {
    profiled_ms: Date.now() - t0, self_ms: selfByFunction(profile),
    longest_busy_ms: r1(busy.ms), longest_busy_self_ms: selfByFunction(profile, busy.from, busy.to, 15),
    longest_busy_total_ms: totalByFunction(profile, busy.from, busy.to, 40),
  };
  console.log(`the main thread while running: ${JSON.stringify(figures, null, 1)}`);
  await saveResult(testInfo, 'run-profile', figures);
});
