// The lab for someone using a screen reader or another colour scheme: axe finds no serious or
// critical violation with every view filled (call chain, side-by-side comparison, timeline with its
// list of exits, exit statistics, both dialogs) in the light and the dark scheme, and the live
// region tells each exit as it happens. (page-a11y.spec.ts covers the first screen and the embed.)
import { seriousViolations } from './support/axe';
import { expect, Lab, op, scenario, test } from './support/lab';

// vCPU 1 returns to userspace on its HLT (EXIT_USERSPACE); vCPU 0 writes twice to the PIC (exits
// handled in the kernel), then halts with an in-kernel LAPIC and nothing to wake it.
const DOC = scenario({
  title: 'Two vCPUs, one with EXIT_USERSPACE',
  kernel: 'rfc-v4',
  patches: 6,
  asm: ['    test rdi, rdi', '    jnz one', '    out 0x21, al', '    out 0x21, al', '    hlt', 'one:', '    hlt', ''].join('\n'),
  program: [
    op.create(0),
    op.create(1),
    op.debug('vcpu1', ['ENABLE', 'EXIT_USERSPACE']),
    op.run('vcpu1', undefined, 2_000_000),
    op.run('vcpu0', undefined, 2_000_000),
  ],
});

test('no serious or critical violations with every view filled, light and dark', async ({ page, shot }) => {
  const lab = await Lab.open(page, DOC);
  await lab.stepOps(4); // vCPU 1's KVM_RUN is the recording on screen
  await lab.button('Compare with EXIT_USERSPACE flipped').click();
  await expect(page.getByRole('table', { name: /^The KVM_RUN that made exit #/ })).toBeVisible();
  await lab.selectExit(1, 0);
  await page.getByRole('combobox', { name: 'Statistics for' }).selectOption({ label: 'vCPU 1' });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    expect(await seriousViolations(page), `${colorScheme} scheme`).toEqual([]);
    await shot(`every view, ${colorScheme} scheme`);
  }

  for (const [open, dialog] of [[/^Gallery$/, 'Gallery'], [/Keyboard shortcuts$/, 'Keyboard shortcuts']] as const) {
    await page.getByRole('button', { name: open }).click();
    await expect(page.getByRole('dialog', { name: dialog })).toBeVisible();
    expect(await seriousViolations(page), `${dialog}, dark scheme`).toEqual([]);
    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog', { name: dialog })).toBeHidden();
  }
});

test('the live region tells each exit: vCPU, reason, handler and what KVM_RUN did', async ({ page }) => {
  const lab = await Lab.open(page, DOC);
  await expect(lab.narration).toHaveAttribute('aria-live', 'polite');
  await lab.stepOps(3);
  await lab.stepOps(1); // KVM_RUN on vCPU 1, exit and return in one step
  await expect(lab.narration).toHaveText('vCPU 1: HLT exit, kvm_emulate_halt returned 0, KVM_RUN returned to userspace with exit_reason KVM_EXIT_UNKNOWN.');

  // vCPU 0, exit by exit: each one is told as the step stops at it (after what became of the one before).
  for (const reason of ['IO_INSTRUCTION', 'IO_INSTRUCTION', 'HLT']) {
    const before = await lab.position.textContent();
    await lab.button('Step to next exit').click();
    await expect(lab.position).not.toHaveText(before!);
    await expect(lab.narration).toHaveText(new RegExp(`vCPU 0: ${reason} exit, still in KVM\\.$`));
  }
});

test('an exit stepped to is told with its own handler, and what became of it when it is handled', async ({ page }) => {
  const lab = await Lab.open(page, DOC);
  await lab.stepOps(4);
  await lab.button('Step to next exit').click();
  await expect(lab.narration).toHaveText('vCPU 0: IO_INSTRUCTION exit, still in KVM.');
  await lab.button('Step to next exit').click(); // the first handled and re-entered, the second stopped at
  await expect(lab.narration).toHaveText(/^vCPU 0: IO_INSTRUCTION exit, handle_io returned 1, back in the guest\. vCPU 0: IO_INSTRUCTION exit, still in KVM\.$/);
  await lab.button('Step to next exit').click();
  await lab.button('Step to next exit').click(); // the HLT handled: asleep until the timeout
  await expect(lab.narration).toContainText('vCPU 0: HLT exit, kvm_emulate_halt returned 1, blocked in kvm_vcpu_block');
});
