// Demo 7: H7, the TODO in kvm_emulate_halt(). Single-stepping a HLT with the interrupt controller in
// userspace: kvm_vcpu_do_singlestep() sets KVM_EXIT_DEBUG, then the no-skip half of the halt writes
// KVM_EXIT_HLT over it, so the debugger never sees its step. With an in-kernel LAPIC (H6) the same
// program reports KVM_EXIT_DEBUG.
import { expect, Lab, test } from './support/lab';

test('single-step squashed by HLT with a userspace irqchip: KVM_EXIT_HLT, the debug exit lost', async ({ page, shot }) => {
  const lab = await Lab.fromGallery(page, /^H7: with a userspace irqchip the single-step exit is lost$/);
  await expect(page.getByRole('combobox', { name: 'irqchip' })).toHaveValue('userspace');
  await lab.run();
  await expect(lab.result(2)).toContainText('vcpu0 KVM_SET_GUEST_DEBUG(control = ENABLE|SINGLESTEP) → 0');
  await expect(lab.result(3)).toContainText(/vcpu0 KVM_RUN → 0\s*KVM_EXIT_HLT/);

  // The frames say where the debug exit went: set by the single-step, overwritten by the halt.
  await expect(lab.frame('kvm_skip_emulated_instruction')).toHaveAccessibleName(/^kvm_skip_emulated_instruction → 0 .*single-step/);
  await expect(lab.frame('kvm_vcpu_do_singlestep')).toHaveAccessibleName(/^kvm_vcpu_do_singlestep → 0 .*run->exit_reason = KVM_EXIT_DEBUG$/);
  await expect(lab.frame('__kvm_emulate_halt')).toHaveAccessibleName(/^__kvm_emulate_halt → 0 , KVM_RUN returns to userspace from here , .*run->exit_reason = KVM_EXIT_HLT$/);
  await shot('H7: KVM_EXIT_DEBUG overwritten by KVM_EXIT_HLT', lab.region('Call chain'));

  // The same program with the LAPIC in the kernel (H6): the step is reported, the vCPU stays halted.
  await page.getByRole('combobox', { name: 'irqchip' }).selectOption('kernel');
  await expect(lab.result(3)).toContainText(/vcpu0 KVM_RUN → 0\s*KVM_EXIT_DEBUG/);
  await expect(lab.frame('kvm_vcpu_do_singlestep')).toHaveAccessibleName(/^kvm_vcpu_do_singlestep → 0 , KVM_RUN returns to userspace from here , .*KVM_EXIT_DEBUG$/);
  await expect(lab.frame('__kvm_emulate_halt')).toHaveAccessibleName(/^__kvm_emulate_halt → 1 , in-kernel LAPIC: mp_state = HALTED$/);
  await expect(lab.vcpu(0).getByTitle('mp_state')).toHaveText('HALTED');
  await shot('H6: with an in-kernel LAPIC the step is reported');
});
