// The page loads the core in its worker, opens the default scenario (two vCPUs, HLT exits disabled
// on one), runs it, and shows what the model produced.
import { editorTab, expect, ioctlCount, position, ready, runToEnd, test } from './page-support';

test('runs the default scenario and shows the series\' point', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  await expect(page.getByRole('heading', { name: /One vCPU exits on HLT, the other halts in the guest/ })).toBeVisible();
  await expect(position(page)).toContainText('next: operation 1 of 4');

  await runToEnd(page);

  // Both vCPUs, and HLT exits disabled on vCPU 1 only, as the model left them.
  const vcpu0 = page.getByRole('region', { name: 'vCPU 0' });
  const vcpu1 = page.getByRole('region', { name: 'vCPU 1' });
  await expect(vcpu0.getByRole('checkbox', { name: 'HLT' })).not.toBeChecked();
  await expect(vcpu1.getByRole('checkbox', { name: 'HLT' })).toBeChecked();
  // Between the timer ticks vCPU 0 sleeps in kvm_vcpu_block (its pCPU free), vCPU 1 halts in the guest.
  await expect(vcpu0.getByTitle('what the vCPU thread is doing')).toHaveText('blocked');
  await expect(vcpu1.getByTitle('what the vCPU thread is doing')).toHaveText('guest halted');
  const timeline = page.getByRole('region', { name: 'Timeline' });
  await expect(timeline).toContainText(/vCPU 0: \d+ exits; blocked in kvm_vcpu_block/);
  await expect(timeline).toContainText(/vCPU 1: \d+ exits; halted in the guest/);
  // perf kvm stat: HLT, few samples, nearly all the time.
  await expect(page.getByRole('region', { name: 'Exit statistics' }).getByRole('row', { name: /^HLT / })).toContainText(/9\d\.\d\d%/);
  expect(await ioctlCount(page)).toBeGreaterThanOrEqual(3);
  await expect(page.getByRole('region', { name: 'ioctl log' })).toContainText('vcpu1 KVM_ENABLE_CAP');
  // The result of each program step sits beside the program, in the editors' dock.
  await editorTab(page, 'Userspace program');
  await expect(page.getByRole('list', { name: 'Result of each operation' })).toContainText('expect met');
});

test('steps with the keyboard, and shows the shortcut reference', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  await expect(page.getByRole('button', { name: 'Step instruction', exact: true })).toHaveAttribute('title', /^Step instruction \(I\): the next instruction of vCPU 0/);
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
