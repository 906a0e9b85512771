import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// Browser benchmarks (`npm run bench` runs them and prints the figures; alone:
// `npx playwright test -c playwright.bench.config.ts`): not tests, not part of `npm test`.
// - project "views": dev-only pages from scripts/bench through the Vite dev server (the timeline);
// - project "lab": the built lab (`npm run build` first), served by `vite preview` on its own port;
// - project "profile": where one step's time goes in the built lab (a Chromium trace, printed).
// BENCH_DEV_PORT, BENCH_LAB_PORT and BENCH_DIST (the build to serve, default dist) let two people
// on one machine benchmark side by side.
const DEV_PORT = Number(process.env.BENCH_DEV_PORT ?? 5179);
const LAB_PORT = Number(process.env.BENCH_LAB_PORT ?? 4180);
const BENCH_DIST = process.env.BENCH_DIST ?? 'dist';
export default defineConfig({
  ...base,
  testDir: 'scripts/bench',
  testMatch: /.*\.spec\.ts$/,
  timeout: 180_000,
  // No tracing or screenshots: Playwright's trace snapshots run on the page's main thread.
  use: { ...base.use, viewport: { width: 1280, height: 800 }, trace: 'off', screenshot: 'off' },
  projects: [
    { name: 'views', testMatch: /timeline\.spec\.ts$/, use: { baseURL: `http://localhost:${DEV_PORT}` } },
    { name: 'lab', testMatch: /lab\.spec\.ts$/, use: { baseURL: `http://localhost:${LAB_PORT}` } },
    // Where a step's time goes (a trace, printed), with BENCH_PROFILE=1 only: not in `npm run bench`.
    { name: 'profile', testMatch: /(step|run)-profile\.spec\.ts$/, use: { baseURL: `http://localhost:${LAB_PORT}` } },
  ],
  webServer: [
    {
      command: `npx vite --port ${DEV_PORT} --strictPort`,
      url: `http://localhost:${DEV_PORT}/scripts/bench/page.html`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: `npx vite preview --port ${LAB_PORT} --strictPort --outDir ${BENCH_DIST}`,
      url: `http://localhost:${LAB_PORT}`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
});
