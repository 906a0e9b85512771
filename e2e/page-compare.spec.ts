// Compare: the exit selected in the timeline, with and without KVM_GUESTDBG_EXIT_USERSPACE. The lab
// replays to just before the KVM_RUN that made that exit, flips the flag there, and records that one
// KVM_RUN both ways, side by side.
import { exitInView, expect, ready, runToEnd, test } from './page-support';

test('the selected HLT exit of vCPU 0, with and without EXIT_USERSPACE', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  await runToEnd(page);

  const hlt = await exitInView(page, /^vCPU 0 exit #\d+: HLT /, 1);
  const exit = /exit #(\d+)/.exec((await hlt.textContent())!)![1];
  await hlt.click();

  const compare = page.getByRole('button', { name: 'Compare with EXIT_USERSPACE flipped', exact: true });
  await expect(compare).toHaveAttribute('title', new RegExp(`the KVM_RUN that made exit #${exit} of vCPU 0`));
  await compare.click();
  const diff = page.getByRole('table', { name: `The KVM_RUN that made exit #${exit} of vCPU 0, without EXIT_USERSPACE and with EXIT_USERSPACE (flipped before this KVM_RUN)` });
  await expect(diff).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText(`Side by side below: exit #${exit} of vCPU 0.`)).toBeVisible();
  // As recorded, the HLT sends vCPU 0 to sleep in kvm_vcpu_block and its KVM_RUN does not return; with
  // the flag the KVM_RUN returns 0 to userspace from kvm_skip_emulated_instruction, at the first exit
  // that goes through it.
  const summary = page.getByText(/frames return differently/);
  await expect(summary).toContainText('without EXIT_USERSPACE: KVM_RUN did not return to userspace in this recording.');
  await expect(summary).toContainText(
    `(flipped before this KVM_RUN): KVM_RUN returns 0 to userspace at exit #0, from kvm_skip_emulated_instruction. Exit #${exit} comes in a later KVM_RUN on this side.`,
  );
});
