// Demo 6: KVM_GUESTDBG_EXIT_USERSPACE (RFC v4 6/7). With an in-kernel LAPIC a HLT normally sleeps in
// KVM_RUN; with the flag, kvm_skip_emulated_instruction()'s 1 is ANDed to 0, so KVM_RUN returns 0 to
// userspace. Nothing wrote run->exit_reason, so a fresh vCPU reports KVM_EXIT_UNKNOWN; the flag's
// only trace is hw.hardware_exit_reason = 12 (EXIT_REASON_HLT). The side-by-side view records the
// same KVM_RUN without the flag and marks every frame that returns differently.
import { expect, Lab, oneHalt, test } from './support/lab';

const DOC = oneHalt('EXIT_USERSPACE returns a HLT to userspace', 6);

test('EXIT_USERSPACE turns the skip\'s 1 into 0 and KVM_RUN returns with a stale exit_reason', async ({ page, shot }) => {
  const lab = await Lab.open(page, DOC);
  await lab.stepOps(1);
  const vcpu0 = lab.vcpu(0);
  await lab.toggle(lab.box(vcpu0, 'ENABLE'));
  await lab.toggle(lab.box(vcpu0, 'EXIT_USERSPACE'));
  await expect(lab.box(vcpu0, 'EXIT_USERSPACE')).toBeChecked();
  await expect(lab.lastIoctl).toContainText(/KVM_SET_GUEST_DEBUG.*ENABLE\|.*EXIT_USERSPACE.*0$/);

  await lab.stepOps(1);
  await expect(lab.result(2)).toContainText(/vcpu0 KVM_RUN → 0\s*KVM_EXIT_UNKNOWN/);
  await expect(lab.narration).toHaveText(/^vCPU 0: HLT exit, .*KVM_RUN returned to userspace with exit_reason KVM_EXIT_UNKNOWN\.$/);

  // The recorded frames: the skip returned 0 because of the flag, and everything above it followed.
  await expect(lab.frame('kvm_skip_emulated_instruction')).toHaveAccessibleName(/^kvm_skip_emulated_instruction → 0 .*KVM_RUN returns to userspace from here.*EXIT_USERSPACE/);
  await expect(lab.frame('kvm_emulate_halt')).toHaveAccessibleName(/^kvm_emulate_halt → 0\b/);
  await expect(lab.frame('__vmx_handle_exit')).toHaveAccessibleName(/^__vmx_handle_exit → 0 , hw\.hardware_exit_reason = 12$/);
  await expect(lab.frame('vcpu_enter_guest')).toHaveAccessibleName(/^vcpu_enter_guest → 0\b/);
  await expect(lab.frame('kvm_arch_vcpu_ioctl_run')).toHaveAccessibleName(/^kvm_arch_vcpu_ioctl_run → 0$/);
  await expect(lab.frame('__kvm_emulate_halt')).toHaveAccessibleName(/^__kvm_emulate_halt → 1\b/); // the halt itself did happen
  await shot('KVM_RUN returned 0 from kvm_skip_emulated_instruction', lab.region('Call chain'));

  // Side by side: the same moves with EXIT_USERSPACE off.
  await lab.button('Compare with EXIT_USERSPACE flipped').click();
  const diff = page.getByRole('table', { name: /^The KVM_RUN that made exit #0 of vCPU 0, without EXIT_USERSPACE .* and with EXIT_USERSPACE$/ });
  await expect(diff).toBeVisible();
  const row = (fn: string) => diff.getByRole('row').filter({ has: page.getByRole('cell', { name: new RegExp(`^${fn} `) }) });
  await expect(row('kvm_skip_emulated_instruction').getByRole('cell')).toHaveText([
    /^kvm_skip_emulated_instruction → 1 \(returns differently\)$/,
    /^kvm_skip_emulated_instruction → 0 \(returns differently\).*KVM_RUN returns from here$/,
  ]);
  for (const fn of ['kvm_emulate_halt', 'vmx_handle_exit', 'vcpu_enter_guest'])
    await expect(row(fn).getByRole('cell')).toHaveText([new RegExp(`^${fn} → 1 \\(returns differently\\)$`), new RegExp(`^${fn} → 0 \\(returns differently\\)$`)]);
  await expect(row('__kvm_emulate_halt').getByRole('cell')).toHaveText([/^__kvm_emulate_halt → 1$/, /^__kvm_emulate_halt → 1$/]);
  // Without the flag the vCPU went on to sleep in kvm_vcpu_block; with it that was never called.
  const block = row('kvm_vcpu_block').getByRole('cell');
  await expect(block.first()).toHaveText('kvm_vcpu_block (running)');
  await expect(block.last()).toHaveAccessibleName('not called on this side');
  await expect(page.getByText(/^\d+ frames return differently/)).toContainText(
    'with EXIT_USERSPACE: KVM_RUN returns 0 to userspace at exit #0, from kvm_skip_emulated_instruction.',
  );
  await shot('side by side, without and with EXIT_USERSPACE', diff);
});

// The first screen's scenario, with EXIT_USERSPACE on vCPU 1: each of its exits returns KVM_RUN to
// userspace, and run_threads issues the next KVM_RUN from the thread. Compare replays to the thread's
// stop between two KVM_RUNs, flips the flag there, and records the KVM_RUN that made exit #3 both ways.
test('Compare on exit #3 of vCPU 1 under run_threads: the flag flipped between two KVM_RUNs', async ({ page, shot }) => {
  await page.goto('/');
  const lab = new Lab(page);
  await lab.ready();
  await lab.stepOps(2); // both vCPUs exist
  const vcpu1 = lab.vcpu(1);
  await lab.toggle(lab.box(vcpu1, 'ENABLE'));
  await lab.toggle(lab.box(vcpu1, 'EXIT_USERSPACE'));
  await expect(lab.lastIoctl).toContainText(/vcpu1 KVM_SET_GUEST_DEBUG.*EXIT_USERSPACE.*0$/);
  await lab.run();

  await lab.selectExit(1, 3);
  await lab.button('Compare with EXIT_USERSPACE flipped').click();
  const diff = page.getByRole('table', { name: 'The KVM_RUN that made exit #3 of vCPU 1, without EXIT_USERSPACE (flipped before this KVM_RUN) and with EXIT_USERSPACE' });
  await expect(diff).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText('Side by side below: exit #3 of vCPU 1.')).toBeVisible();
  const row = (fn: string) => diff.getByRole('row').filter({ has: page.getByRole('cell', { name: new RegExp(`^${fn} `) }) });
  // Exit #3 is a WRMSR to an x2APIC register as the guest sets up its timer: handled in the kernel, its
  // skip returns 1 and the vCPU goes back into the guest; with the flag the skip's 0 ends KVM_RUN.
  await expect(row('kvm_skip_emulated_instruction').getByRole('cell')).toHaveText([
    /^kvm_skip_emulated_instruction → 1 \(returns differently\)$/,
    /^kvm_skip_emulated_instruction → 0 \(returns differently\).*KVM_RUN returns from here$/,
  ]);
  // (Without the flag the KVM_RUN goes on into the next vcpu_enter_guest: the first is exit #3's.)
  for (const fn of ['kvm_emulate_wrmsr', 'vmx_handle_exit', 'vcpu_enter_guest'])
    await expect(row(fn).first().getByRole('cell')).toHaveText([new RegExp(`^${fn} → 1 \\(returns differently\\)$`), new RegExp(`^${fn} → 0 \\(returns differently\\)$`)]);
  await expect(page.getByText(/^\d+ frames return differently/)).toContainText(
    'with EXIT_USERSPACE: KVM_RUN returns 0 to userspace at exit #3, from kvm_skip_emulated_instruction.',
  );
  await shot('exit #3 of vCPU 1, without and with EXIT_USERSPACE', diff);
});
