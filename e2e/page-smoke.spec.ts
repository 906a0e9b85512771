// The page loads the core in its worker, opens the default scenario (two vCPUs, HLT exits disabled
// on one), runs it, and shows what the model produced.
import { expect, ioctlCount, position, ready, test } from './page-support';

test('runs the default scenario and shows the result', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  await expect(page.getByRole('heading', { name: /HLT exits disabled on one vCPU/ })).toBeVisible();
  await expect(position(page)).toContainText('next: operation 1 of');

  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(position(page)).toContainText('program finished', { timeout: 30_000 });

  // Both vCPUs, and HLT exits disabled on vCPU 1 only, as the model left them.
  const vcpu0 = page.getByRole('region', { name: 'vCPU 0' });
  const vcpu1 = page.getByRole('region', { name: 'vCPU 1' });
  await expect(vcpu0.getByRole('checkbox', { name: 'HLT' })).not.toBeChecked();
  await expect(vcpu1.getByRole('checkbox', { name: 'HLT' })).toBeChecked();
  expect(await ioctlCount(page)).toBeGreaterThanOrEqual(5);
  await expect(page.getByRole('region', { name: 'ioctl log' })).toContainText('KVM_RUN');
  // The result of each program step sits beside the program.
  await expect(page.getByRole('list', { name: 'Result of each operation' })).toContainText('KVM_EXIT_HLT');
});

test('steps with the keyboard, and shows the shortcut reference', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  await expect(page.getByRole('button', { name: 'Step instruction', exact: true })).toHaveAttribute('title', 'Step instruction (I)');
  await page.keyboard.press('o');
  await expect(position(page)).toContainText('next: operation 2 of');
  await page.keyboard.press('b');
  await expect(position(page)).toContainText('next: operation 1 of');
  await page.keyboard.press('?');
  const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Step to next exit');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
});
