// A trap in the wasm or an exception in the worker: the page says so plainly, restarts the worker
// with the last scenario that loaded, and keeps what the person typed.
import { editorTab, expect, position, ready, test } from './page-support';

for (const how of ['trap', 'throw'] as const) {
  test(`recovers from a worker ${how}, keeping the typed text`, async ({ page }) => {
    await page.goto('/?debug=1');
    await ready(page);
    await page.getByRole('button', { name: 'Step operation', exact: true }).click();
    await expect(position(page)).toContainText('next: operation 2 of');

    // Type into the guest code (CodeMirror, or its textarea before it loads).
    const editor = (await editorTab(page, 'Guest code')).getByRole('textbox', { name: 'Guest code' });
    await editor.click();
    await page.keyboard.press('ControlOrMeta+End');
    await page.keyboard.type('\n; typed just before the crash');

    await page.evaluate((h) => (window as unknown as { exitscope: { crash(h: string): void } }).exitscope.crash(h), how);
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('The simulation stopped');
    await expect(alert).toContainText(how === 'trap' ? 'RuntimeError: unreachable' : 'a deliberate exception');
    await expect(alert).toContainText('restarted with the last scenario that loaded');

    // The new worker is back at the position before the crash, and the text is intact.
    await ready(page);
    await expect(position(page)).toContainText('next: operation 2 of');
    await expect(editor).toContainText('; typed just before the crash');
    await page.getByRole('button', { name: 'Step operation', exact: true }).click();
    await expect(position(page)).toContainText('next: operation 3 of');
  });
}
