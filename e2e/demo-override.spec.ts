// Demo 3: KVM_X86_DISABLE_EXITS_OVERRIDE (RFC v4 4/7) turns an exit back on. Clearing a ticked box
// issues the cap with OVERRIDE and the exits to keep disabled. Before 4/7 there is no way back: the
// cap ORs its mask in, so asking without HLT leaves HLT disabled. From 4/7 the VM's flags are assigned from the mask,
// and from 5/7 the same works on a vCPU fd, through the pending request.
import { expect, Lab, oneHalt, test } from './support/lab';

const DOC = oneHalt('OVERRIDE turns HLT exiting back on', 4, 'userspace');

const DISABLE = /args\[0\] = HLT\) → 0$/;
const REENABLE = /args\[0\] = OVERRIDE\) → /;

test('OVERRIDE re-enables HLT exiting, at VM scope from 4/7 and at vCPU scope from 5/7', async ({ page, shot }) => {
  const lab = await Lab.open(page, DOC);
  const [vmHlt, vcpu0] = [lab.box(lab.vm, 'HLT'), lab.vcpu(0)];

  await test.step('4/7, VM scope: disabled, then re-enabled with OVERRIDE', async () => {
    await lab.toggle(vmHlt);
    await expect(lab.outcome(lab.vm)).toHaveText(DISABLE);
    await lab.toggle(vmHlt);
    await expect(lab.outcome(lab.vm)).toHaveText(new RegExp(`${REENABLE.source}0$`));
    await expect(vmHlt).not.toBeChecked();
    await expect(lab.lastIoctl).toContainText('args = KVM_X86_DISABLE_EXITS_OVERRIDE');
    await lab.stepOps(2);
    await lab.expectBit(vcpu0, 'CPU_BASED_HLT_EXITING', 1);
    await expect(lab.result(2)).toContainText(/vcpu0 KVM_RUN → 0\s*KVM_EXIT_HLT/);
    await shot('4/7: HLT exits again after OVERRIDE');
  });

  await test.step('3/7: no OVERRIDE yet, so the exit stays disabled', async () => {
    await lab.reset();
    await lab.variant('rfc-v4', 3);
    await lab.toggle(vmHlt);
    await lab.toggle(vmHlt); // all a VMM can do: ask again without HLT, which ORs in nothing
    await expect(lab.outcome(lab.vm)).toHaveText(/args\[0\] = 0\) → 0$/);
    await expect(vmHlt).toBeChecked();
    await expect(lab.vm.getByText(/This kernel has no KVM_X86_DISABLE_EXITS_OVERRIDE/)).toBeVisible();
    await lab.run();
    await expect(lab.result(2)).toContainText('still inside KVM_RUN at the timeout');
    await shot('3/7: OVERRIDE refused, the vCPU halts in the guest');
  });

  await test.step('5/7, vCPU scope: the same on vCPU 0 fd', async () => {
    await lab.reset();
    await lab.variant('rfc-v4', 5);
    await lab.stepOps(1);
    const hlt = lab.box(vcpu0, 'HLT');
    await lab.toggle(hlt);
    await expect(lab.outcome(vcpu0)).toHaveText(DISABLE);
    await lab.toggle(hlt);
    await expect(lab.outcome(vcpu0)).toHaveText(new RegExp(`^vcpu0 .*${REENABLE.source}0$`));
    await expect(hlt).not.toBeChecked();
    await expect(vcpu0.getByText('vcpu->arch.hlt_in_guest = 0', { exact: true })).toBeVisible();
    await lab.stepOps(1);
    await expect(lab.result(2)).toContainText(/vcpu0 KVM_RUN → 0\s*KVM_EXIT_HLT/);
    await lab.expectBit(vcpu0, 'CPU_BASED_HLT_EXITING', 1);
  });
});
