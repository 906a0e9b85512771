// Shared by the page specs: every test fails on any console error (page or worker) or uncaught
// exception, and a few helpers that read the lab the way a person does, by accessible names.
import { test as base, expect, type Frame, type FrameLocator, type Page } from '@playwright/test';

export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      const watch = (where: string) => (m: { type(): string; text(): string }) => {
        if (m.type() === 'error') errors.push(`${where}: ${m.text()}`);
      };
      page.on('console', watch('page'));
      page.on('worker', (w) => w.on('console', watch('worker')));
      page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
      await use(errors);
      expect(errors, 'console errors').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

type Root = Page | Frame | FrameLocator;

/** Waits until the worker has loaded the scenario and the panels show the model's state. */
export async function ready(root: Root): Promise<void> {
  await expect(root.getByRole('region', { name: 'VM' }).getByRole('checkbox', { name: 'HLT' })).toBeVisible({ timeout: 30_000 });
  await expect(root.getByText(/(next:|in) operation \d+ of \d+|program finished/)).toBeVisible();
}

/** The toolbar's position line ("next: operation 3 of 6 · t = …"). */
export function position(root: Root) {
  return root.getByRole('toolbar', { name: 'Stepping' }).locator('.position');
}

/** Number of rows in the ioctl log. */
export async function ioctlCount(root: Root): Promise<number> {
  const log = root.getByRole('region', { name: 'ioctl log' });
  return log.locator('tbody tr').count();
}

/** Opens a tab of the editors' dock ("Guest code", "Userspace program") and returns its panel. */
export async function editorTab(root: Root, name: 'Guest code' | 'Userspace program') {
  const tab = root.getByRole('tablist', { name: 'Editors' }).getByRole('tab', { name, exact: true });
  if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
  return root.getByRole('tabpanel', { name, exact: true });
}

/** Runs the open scenario to its end (Run) and waits until the page says so. */
export async function runToEnd(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(position(page)).toContainText('program finished', { timeout: 30_000 });
}

/** Opens the timeline's list of the exits in view and returns the button of the `n`-th exit matching `name`. */
export async function exitInView(page: Page, name: RegExp, n = 0) {
  const timeline = page.getByRole('region', { name: 'Timeline', exact: true });
  await timeline.getByText(/^Exits in view/).click();
  return timeline.getByRole('button', { name }).nth(n);
}
