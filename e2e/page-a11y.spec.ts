// The lab read by assistive technology: axe finds no serious or critical violation on the first
// screen, after a run, or in the embed layout; every control the brief names is where it says.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, ready, runToEnd, test } from './page-support';

async function serious(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).analyze();
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

test('no serious accessibility violations, before and after a run', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  expect(await serious(page)).toEqual([]);
  await runToEnd(page);
  expect(await serious(page)).toEqual([]);
});

test('the embed layout has no serious accessibility violations either', async ({ page }) => {
  await page.goto('/?embed=1');
  await ready(page);
  expect(await serious(page)).toEqual([]);
});

test('every named control is in its region', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  await page.getByRole('button', { name: 'Step operation', exact: true }).click();
  await page.getByRole('button', { name: 'Step operation', exact: true }).click();
  await page.getByRole('button', { name: 'Step operation', exact: true }).click();
  for (const region of ['VM', 'vCPU 0', 'vCPU 1']) {
    for (const box of ['MWAIT', 'HLT', 'PAUSE', 'CSTATE']) await expect(page.getByRole('region', { name: region, exact: true }).getByRole('checkbox', { name: box, exact: true })).toBeVisible();
  }
  for (const region of ['vCPU 0', 'vCPU 1']) {
    for (const box of ['ENABLE', 'SINGLESTEP', 'EXIT_USERSPACE']) await expect(page.getByRole('region', { name: region, exact: true }).getByRole('checkbox', { name: box, exact: true })).toBeVisible();
  }
  for (const name of ['Call chain', 'Timeline', 'ioctl log']) await expect(page.getByRole('region', { name, exact: true })).toBeVisible();
  await expect(page.getByRole('combobox', { name: 'Kernel', exact: true })).toBeVisible();
  await expect(page.getByRole('combobox', { name: 'Patches applied', exact: true })).toBeVisible();
  for (const name of ['Step instruction', 'Step to next exit', 'Step frame', 'Run', 'Pause', 'Reset', 'Step back', 'Copy link', 'Copy embed code'])
    await expect(page.getByRole('button', { name, exact: true })).toBeVisible();
  await expect(page.getByRole('status', { name: 'Exit narration' })).toBeAttached();
});
