// ?embed=1 in an iframe of another page: the compact layout, a URL that never changes, and the
// postMessage API.
import { expect, position, ready, test } from './page-support';

test('the embed view is compact, keeps its URL and answers the postMessage API', async ({ page, baseURL }) => {
  await page.goto('/');
  await ready(page);
  const link = page.url();
  const src = link.replace(/\/?#/, '/?embed=1#');
  // An embedding page on another origin (about:blank) with no cross-origin isolation.
  await page.setContent(`<h1>Docs</h1><iframe id="lab" title="exitscope: HLT per vCPU" src="${src}" width="1200" height="800"></iframe>`);
  await page.evaluate(() => {
    (window as unknown as { heard: unknown[] }).heard = [];
    addEventListener('message', (e) => (window as unknown as { heard: unknown[] }).heard.push(e.data));
  });
  const frame = page.frameLocator('#lab');
  const lab = page.frame({ url: /embed=1/ })!;
  await ready(lab);

  // Compact: no page header, scenario bar or editors; a way to the full page.
  await expect(frame.getByRole('heading', { name: 'exitscope', level: 1 })).toHaveCount(0);
  await expect(frame.getByRole('combobox', { name: 'Kernel' })).toHaveCount(0);
  await expect(frame.getByRole('textbox', { name: 'Guest code' })).toHaveCount(0);
  await expect(frame.getByRole('link', { name: 'Open in exitscope' })).toBeVisible();

  await frame.getByRole('button', { name: 'Step operation' }).click();
  await expect(position(lab)).toContainText('next: operation 2 of');
  expect(lab.url()).toBe(src); // never rewrites its own URL

  // The API: step, and hear the state.
  await page.evaluate(() => {
    const w = (document.getElementById('lab') as HTMLIFrameElement).contentWindow!;
    w.postMessage({ exitscope: 1, type: 'step', unit: 'op' }, '*');
  });
  await expect(position(lab)).toContainText('next: operation 3 of');
  await expect.poll(() => page.evaluate(() => (window as unknown as { heard: { type: string; next: number }[] }).heard.some((m) => m.type === 'state' && m.next === 2))).toBe(true);
  await page.evaluate(() => {
    const w = (document.getElementById('lab') as HTMLIFrameElement).contentWindow!;
    w.postMessage({ exitscope: 1, type: 'fly' }, '*');
  });
  await expect.poll(() => page.evaluate(() => (window as unknown as { heard: { type: string; message?: string }[] }).heard.find((m) => m.type === 'error')?.message)).toContain('unknown message type "fly"');
  expect(baseURL).toBeTruthy();
});
