// ?embed=1 in an iframe of another page: the compact layout, a URL that never changes, and the
// postMessage API.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from '@playwright/test';
import { expect, position, ready, test } from './page-support';

/** A documentation site on its own origin, as most are: no cross-origin isolation headers. */
async function docsSite(iframeSrc: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.end(`<!doctype html><link rel="icon" href="data:,"><title>Docs</title><h1>Docs</h1>
      <iframe id="lab" title="exitscope: HLT per vCPU" src="${iframeSrc}" width="1200" height="800"></iframe>`);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

test('the embed view is compact, keeps its URL and answers the postMessage API', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  await page.getByRole('button', { name: 'Step operation', exact: true }).click();
  await expect(page).toHaveURL(/#es1\./);
  const src = page.url().replace('/#', '/?embed=1#');
  const docs = await docsSite(src);
  try {
    await embedded(page, docs.url, src);
  } finally {
    docs.server.close();
  }
});

async function embedded(page: Page, docsUrl: string, src: string) {
  await page.goto(docsUrl);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
  await page.evaluate(() => {
    (window as unknown as { heard: unknown[] }).heard = [];
    addEventListener('message', (e) => (window as unknown as { heard: unknown[] }).heard.push(e.data));
  });
  const lab = page.frameLocator('#lab');
  await ready(lab);
  const frame = lab;
  const labUrl = () => page.frames().find((f) => f.url().includes('embed=1'))!.url();

  // Compact: no page header, scenario bar or editors; a way to the full page.
  await expect(frame.getByRole('heading', { name: 'exitscope', level: 1 })).toHaveCount(0);
  await expect(frame.getByRole('combobox', { name: 'Kernel' })).toHaveCount(0);
  await expect(frame.getByRole('textbox', { name: 'Guest code' })).toHaveCount(0);
  await expect(frame.getByRole('link', { name: 'Open in exitscope' })).toBeVisible();

  await expect(position(lab)).toContainText('next: operation 2 of'); // the link's position
  await frame.getByRole('button', { name: 'Step operation', exact: true }).click();
  await expect(position(lab)).toContainText('next: operation 3 of');
  expect(labUrl()).toBe(src); // never rewrites its own URL

  // The API: step, and hear the state.
  await page.evaluate(() => {
    const w = (document.getElementById('lab') as HTMLIFrameElement).contentWindow!;
    w.postMessage({ exitscope: 1, type: 'step', unit: 'op' }, '*');
  });
  await expect(position(lab)).toContainText('next: operation 4 of');
  await expect.poll(() => page.evaluate(() => (window as unknown as { heard: { type: string; next: number }[] }).heard.some((m) => m.type === 'state' && m.next === 3))).toBe(true);
  await page.evaluate(() => {
    const w = (document.getElementById('lab') as HTMLIFrameElement).contentWindow!;
    w.postMessage({ exitscope: 1, type: 'fly' }, '*');
  });
  await expect.poll(() => page.evaluate(() => (window as unknown as { heard: { type: string; message?: string }[] }).heard.find((m) => m.type === 'error')?.message)).toContain('unknown message type "fly"');
}
