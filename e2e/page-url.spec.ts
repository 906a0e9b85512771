// The whole state lives in the address: a link opened later shows the same view.
import { exitInView, expect, ioctlCount, position, ready, runToEnd, test } from './page-support';

test('a link reproduces the scenario, variant, position and selection', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto('/');
  await ready(page);
  await page.getByRole('combobox', { name: 'Patches applied' }).selectOption('5');
  await ready(page);
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Step operation', exact: true }).click();
  await page.getByRole('button', { name: 'Step to next exit', exact: true }).click(); // into the KVM_RUN loop of op 4
  await expect(position(page)).toContainText('in operation 4 of 4: KVM_RUN loop on vcpu0, vcpu1');
  const where = await position(page).textContent();
  const vcpu1 = page.getByRole('region', { name: 'vCPU 1' });
  await vcpu1.getByRole('heading', { name: 'vCPU 1' }).click(); // select vCPU 1: Step instruction now steps it
  await expect(page.getByRole('button', { name: 'Step instruction', exact: true })).toHaveAttribute('title', /vCPU 1/);
  const rip1 = await vcpu1.getByTitle('the instruction at RIP').textContent();
  const ioctls = await ioctlCount(page);

  await page.getByRole('button', { name: 'Copy link', exact: true }).click();
  await expect(page.getByText('Link copied.')).toBeVisible();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toMatch(/#es1\.[\w-]+$/);
  await expect(page).toHaveURL(link); // the address bar says the same

  const later = await context.newPage();
  await later.goto(link);
  await ready(later);
  await expect(later.getByRole('combobox', { name: 'Patches applied' })).toHaveValue('5');
  await expect(position(later)).toHaveText(where!);
  expect(await ioctlCount(later)).toBe(ioctls);
  await expect(later.getByRole('region', { name: 'vCPU 1' }).getByTitle('the instruction at RIP')).toHaveText(rip1!);
  await expect(later.getByRole('button', { name: 'Step instruction', exact: true })).toHaveAttribute('title', /vCPU 1/);
});

test('stepping to a position and running to it give the same state', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  await runToEnd(page);
  const ran = await page.getByRole('region', { name: 'ioctl log' }).locator('tbody').textContent();
  const regs = await page.getByRole('region', { name: 'vCPU 0' }).locator('.regs').textContent();

  await page.getByRole('button', { name: 'Reset', exact: true }).click();
  await expect(position(page)).toContainText('next: operation 1 of');
  while ((await position(page).textContent())?.includes('next:')) await page.getByRole('button', { name: 'Step operation', exact: true }).click();
  expect(await page.getByRole('region', { name: 'ioctl log' }).locator('tbody').textContent()).toBe(ran);
  expect(await page.getByRole('region', { name: 'vCPU 0' }).locator('.regs').textContent()).toBe(regs);
});

test('Copy embed code gives an iframe with a title', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto('/');
  await ready(page);
  await page.getByRole('button', { name: 'Copy embed code', exact: true }).click();
  await expect(page.getByText('Embed code copied.')).toBeVisible();
  const code = await page.evaluate(() => navigator.clipboard.readText());
  expect(code).toMatch(/^<iframe src="http:\/\/localhost:\d+\/\?embed=1#es1\.[\w-]+" title="exitscope: [^"]+"/);
});

test('"exit #2 on vCPU 0": select it, go to it, and a link opens there', async ({ page, context }) => {
  await page.goto('/');
  await ready(page);
  await runToEnd(page);
  await (await exitInView(page, /^vCPU 0 exit #2:/)).click();
  await page.getByRole('button', { name: 'Go to selected exit', exact: true }).click();
  await expect(position(page)).toContainText('in operation 4 of 4: KVM_RUN loop');
  const vcpu0 = page.getByRole('region', { name: 'vCPU 0', exact: true });
  const exits = vcpu0.getByTitle('VM exits of this vCPU so far');
  await expect(exits).toHaveText('3 exits');
  await expect(vcpu0.getByTitle('what the vCPU thread is doing')).toHaveText('kvm');

  // The same state by stepping: Reset, three operations, then exit by exit (of either vCPU) to it.
  const regs = await vcpu0.locator('.regs').textContent();
  await page.getByRole('button', { name: 'Reset', exact: true }).click();
  await expect(position(page)).toContainText('next: operation 1 of 4');
  for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Step operation', exact: true }).click();
  const narration = page.getByRole('status', { name: 'Exit narration' });
  const said = async () => `${await position(page).textContent()} ${await narration.textContent()}`;
  while ((await exits.textContent()) !== '3 exits') {
    const before = await said();
    await page.getByRole('button', { name: 'Step to next exit', exact: true }).click();
    await expect.poll(said).not.toBe(before);
  }
  expect(await vcpu0.locator('.regs').textContent()).toBe(regs);

  await expect(page).toHaveURL(/#es1\./);
  const stepped = page.url();
  await page.getByRole('button', { name: 'Go to selected exit', exact: true }).click();
  await expect(page).not.toHaveURL(stepped); // the address now says "exit #2 of vCPU 0"
  const later = await context.newPage();
  await later.goto(page.url());
  await ready(later);
  await expect(position(later)).toContainText('in operation 4 of 4: KVM_RUN loop');
  await expect(later.getByRole('region', { name: 'vCPU 0', exact: true }).getByTitle('VM exits of this vCPU so far')).toHaveText('3 exits');
});
