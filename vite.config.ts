/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { icedX86Browser } from './scripts/vite-plugin-iced.ts';

// Cross-origin isolation lets the worker use SharedArrayBuffer as an optional fast path; CORP keeps
// the lab embeddable by isolated pages. Everything also works without isolation (plain postMessage).
const headers = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};
const inVitest = !!process.env.VITEST;

export default defineConfig({
  plugins: [react(), ...(inVitest ? [] : [icedX86Browser()])], // dev serves workers through these
  server: { headers },
  preview: { headers },
  worker: { format: 'es', plugins: () => [icedX86Browser()] }, // build bundles workers with only these
  optimizeDeps: { exclude: ['iced-x86'] },
  build: {
    target: 'es2022',
    assetsInlineLimit: (file: string) => (file.endsWith('.wasm') ? false : undefined),
  },
  test: {
    include: ['src/**/*.test.ts', 'wasm/test/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['scripts/vitest-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
