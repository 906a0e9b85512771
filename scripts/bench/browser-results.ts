// What the browser benchmarks share: summary statistics of a list of timings, and a place to put
// each benchmark's figures (reports/bench/<name>.json, read by scripts/bench.mjs for its summary,
// and attached to the Playwright report).
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { TestInfo } from '@playwright/test';

export interface Spread {
  n: number;
  min: number;
  median: number;
  p95: number;
  max: number;
}

/** One decimal place: the timings are milliseconds from performance.now(), no finer than that. */
export const r1 = (x: number) => Math.round(x * 10) / 10;

export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => r1(s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0);
  return { n: s.length, min: r1(s[0] ?? 0), median: q(0.5), p95: q(0.95), max: r1(s.at(-1) ?? 0) };
}

/** BENCH_RESULTS moves them (a second person benchmarking on the same machine). */
export const RESULTS_DIR = process.env.BENCH_RESULTS ?? 'reports/bench';

/** Saves a benchmark's figures for the summary (with the machine's load average as it ended: busy
 *  cores make every figure worse), and attaches them to the test's report. */
export async function saveResult(testInfo: TestInfo, name: string, figures: object): Promise<void> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const body = JSON.stringify({ ...figures, load_average: loadavg().map((x) => Math.round(x * 100) / 100) }, null, 2);
  writeFileSync(`${RESULTS_DIR}/${name}.json`, body);
  await testInfo.attach(name, { body, contentType: 'application/json' });
}
