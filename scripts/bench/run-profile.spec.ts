// Where the page's main thread goes while the worker runs flat out (4 vCPUs busy with exits): a
// JavaScript CPU profile of the page over two seconds of the run, self time by function (where it
// is in the source), beside the idle time. A profile, so it is printed and saved
// (reports/bench/run-profile.json), never judged.
// Run: BENCH_PROFILE=1 npx playwright test -c playwright.bench.config.ts --project profile -g "while running"
import { expect, Lab, test } from '../../e2e/support/lab';
import { r1, saveResult } from './browser-results';
import { BUSY, VCPUS } from './lab-support';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** Milliseconds of self time per function (name and place), highest first. */
function selfByFunction(p: Profile, top = 25): Record<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const out = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
    out.set(key, (out.get(key) ?? 0) + (p.timeDeltas[i + 1] ?? 0) / 1000);
  });
  return Object.fromEntries([...out].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, ms]) => [k, r1(ms)]));
}

test('the main thread while running flat out, 4 vCPUs busy with exits', async ({ page }, testInfo) => {
  test.skip(!process.env.BENCH_PROFILE, 'a profile, on request: BENCH_PROFILE=1');
  const lab = await Lab.open(page, BUSY(10_000_000_000));
  await lab.stepOps(VCPUS.length);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(lab.position).toContainText('running');
  await page.waitForTimeout(1000); // into the run
  await cdp.send('Profiler.start');
  await page.waitForTimeout(2000);
  const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: Profile };
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Run', exact: true })).toBeEnabled();
  const figures = { profiled_ms: 2000, self_ms: selfByFunction(profile) };
  console.log(`the main thread while running: ${JSON.stringify(figures, null, 1)}`);
  await saveResult(testInfo, 'run-profile', figures);
});
