import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// Browser benchmarks of the views (`npx playwright test -c playwright.bench.config.ts`): not tests,
// not part of `npm test`. They load dev-only pages from scripts/bench through the Vite dev server.
const PORT = 5179;
export default defineConfig({
  ...base,
  testDir: 'scripts/bench',
  testMatch: /.*\.spec\.ts$/,
  timeout: 180_000,
  use: { ...base.use, baseURL: `http://localhost:${PORT}`, viewport: { width: 1280, height: 800 } },
  webServer: {
    command: `npx vite --port ${PORT} --strictPort`,
    url: `http://localhost:${PORT}/scripts/bench/page.html`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
