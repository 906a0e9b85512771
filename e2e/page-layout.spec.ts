// The layout a reviewer steps in: the machine, the call chain and the timeline on one screen at the
// common window sizes; the embed at the height its own embed code gives; Step instruction on the
// selected vCPU; Compare on the selected exit.
import { expect, position, ready, runToEnd, test } from './page-support';
import type { Page } from '@playwright/test';

const region = (page: Page, name: string) => page.getByRole('region', { name, exact: true });

for (const [width, height] of [[1280, 800], [1440, 900], [1920, 1080]]) {
  test(`at ${width}×${height} the machine, the call chain and the timeline are on one screen`, async ({ page }) => {
    await page.setViewportSize({ width, height });
    await page.goto('/');
    await ready(page);
    await runToEnd(page);
    for (const name of ['VM', 'vCPU 0', 'vCPU 1', 'Call chain', 'Timeline', 'Exit statistics', 'ioctl log']) await expect(region(page, name)).toBeInViewport();
    await expect(page.getByRole('toolbar', { name: 'Stepping' })).toBeInViewport();
    await expect(page.getByRole('status', { name: 'Exit narration' })).toBeInViewport();
    // One screen: the panes scroll inside it, the page itself does not.
    expect(await page.evaluate(() => document.scrollingElement!.scrollHeight - innerHeight)).toBeLessThanOrEqual(0);
    // The series' point is readable without scrolling: vCPU 1 exits on no HLT, and HLT's share of time.
    await expect(region(page, 'vCPU 1').getByRole('list', { name: 'VMCS exit controls of vCPU 1' })).toContainText('HLT_EXITING 0');
    await expect(region(page, 'Exit statistics').getByRole('row', { name: /^HLT / })).toBeInViewport();
    // perf's columns stay whole: scrolled sideways inside the pane, Avg time reads in full beside
    // its exit's name (which stays put), and the page itself never scrolls sideways.
    const stats = region(page, 'Exit statistics');
    const avg = stats.getByRole('row', { name: /^HLT / }).getByRole('cell').last();
    await avg.scrollIntoViewIfNeeded();
    await expect(avg).toHaveText(/^\d+\.\d\dus \( \+- +\d+\.\d\d% \)$/);
    await expect(avg).toBeInViewport({ ratio: 1 });
    await expect(stats.getByRole('rowheader', { name: 'HLT', exact: true })).toBeInViewport({ ratio: 1 });
    expect(await page.evaluate(() => document.scrollingElement!.scrollWidth - innerWidth)).toBeLessThanOrEqual(0);
  });
}

test('the embed at 560 px: the views beside the panels, details closed, the ioctl log in view', async ({ page }) => {
  await page.setViewportSize({ width: 900, height: 560 });
  await page.goto('/?embed=1');
  await ready(page);
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Step operation', exact: true }).click();
  await page.getByRole('button', { name: 'Step to next exit', exact: true }).click();
  await expect(position(page)).toContainText('in operation 4 of 4');
  for (const name of ['VM', 'vCPU 0', 'Call chain', 'Timeline', 'ioctl log']) await expect(region(page, name)).toBeInViewport();
  const [views, machine] = [await region(page, 'Call chain').boundingBox(), await region(page, 'VM').boundingBox()];
  expect(views!.x + views!.width).toBeLessThanOrEqual(machine!.x); // beside, on the left
  await expect(page.locator('.machine details[open]')).toHaveCount(0);
  expect(await page.evaluate(() => document.scrollingElement!.scrollHeight - innerHeight)).toBeLessThanOrEqual(0);
  await expect(region(page, 'ioctl log').getByRole('row').last()).toContainText('vcpu1 KVM_ENABLE_CAP');
});

test('Step instruction steps the selected vCPU, and says which', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Step operation', exact: true }).click();
  await page.getByRole('button', { name: 'Step to next exit', exact: true }).click();
  await expect(position(page)).toContainText('in operation 4 of 4');
  const step = page.getByRole('button', { name: 'Step instruction', exact: true });
  const rip = (id: number) => region(page, `vCPU ${id}`).getByTitle('the instruction at RIP');
  await expect(step).toHaveAttribute('title', /vCPU 0/);

  await region(page, 'vCPU 1').getByRole('heading', { name: 'vCPU 1' }).click();
  await expect(step).toHaveAttribute('title', /the next instruction of vCPU 1/);
  await expect(step).toContainText('vCPU 1');
  // Each step moves vCPU 1 by one instruction, whichever vCPU the scheduler would run next.
  for (let i = 0; i < 4; i++) {
    const before = await rip(1).textContent();
    await step.click();
    await expect(rip(1)).not.toHaveText(before!);
  }
  // vCPU 0 selected again: now it is the one that moves.
  await region(page, 'vCPU 0').getByRole('heading', { name: 'vCPU 0' }).click();
  await expect(step).toHaveAttribute('title', /the next instruction of vCPU 0/);
  const zero = await rip(0).textContent();
  await step.click();
  await expect(rip(0)).not.toHaveText(zero!);
});
