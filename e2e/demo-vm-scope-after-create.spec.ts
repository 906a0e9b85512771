// Demo 1: KVM_CAP_X86_DISABLE_EXITS at VM scope, before and after KVM_CREATE_VCPU, on every kernel.
// The reviewer ticks PAUSE on the VM, creates vCPU 0, ticks HLT on the VM, then flips through the
// kernels: the page replays the same three ioctls on each. Before creation every kernel takes the
// cap and the new vCPU inherits it. After creation v5.19 says 0 but leaves the vCPU's VMCS as it was
// (the VM and its vCPU now disagree); RFC v4 1/7 to 4/7, RFC v6 and mainline refuse with EINVAL;
// RFC v4 5/7 and 6/7 say 0 and queue KVM_REQ_DISABLE_EXITS on the vCPU, which rewrites its VMCS at
// its next entry.
import type { KernelName } from '../src/model/scenario/types';
import { expect, Lab, oneHalt, test } from './support/lab';

const DOC = oneHalt('VM-scope disable before and after vCPU creation', 6);

type After = 'ignored' | 'refused' | 'requested';
const VARIANTS: [KernelName, number, After][] = [
  ['v5.19', 6, 'ignored'],
  ['rfc-v4', 1, 'refused'],
  ['rfc-v4', 2, 'refused'],
  ['rfc-v4', 3, 'refused'],
  ['rfc-v4', 4, 'refused'],
  ['rfc-v4', 5, 'requested'],
  ['rfc-v4', 6, 'requested'],
  ['rfc-v6', 6, 'refused'],
  ['mainline', 6, 'refused'],
];

test('VM-scope disable before and after vCPU creation, kernel by kernel', async ({ page, shot }) => {
  const lab = await Lab.open(page, DOC);
  const vcpu0 = lab.vcpu(0);
  await lab.toggle(lab.box(lab.vm, 'PAUSE'));
  await lab.stepOps(1);
  await lab.toggle(lab.box(lab.vm, 'HLT'));

  for (const [kernel, patches, after] of VARIANTS) {
    const name = kernel === 'rfc-v4' ? `rfc-v4 ${patches}/7` : kernel;
    await test.step(name, async () => {
      await lab.variant(kernel, patches);
      await expect(lab.result(1)).toContainText('KVM_CREATE_VCPU(0)');

      // Before any vCPU existed: accepted everywhere, and vCPU 0 inherited it.
      await expect(lab.issued.first()).toHaveText(/^vm KVM_ENABLE_CAP\(KVM_CAP_X86_DISABLE_EXITS, args\[0\] = PAUSE\) → 0$/);
      await expect(lab.box(vcpu0, 'PAUSE')).toBeChecked();
      await lab.expectBit(vcpu0, 'CPU_BASED_PAUSE_EXITING', 0);
      await lab.expectBit(vcpu0, 'SECONDARY_EXEC_PAUSE_LOOP_EXITING', 0);

      // After creation: HLT.
      const hlt = lab.issued.last();
      const pending = vcpu0.getByRole('status').filter({ hasText: 'KVM_REQ_DISABLE_EXITS' });
      if (after === 'refused') {
        await expect(hlt).toHaveText(/^vm KVM_ENABLE_CAP\(KVM_CAP_X86_DISABLE_EXITS, args\[0\] = HLT\) → -1 EINVAL: .+/);
        await expect(lab.box(lab.vm, 'HLT')).not.toBeChecked();
        await expect(lab.box(vcpu0, 'HLT')).not.toBeChecked();
      } else {
        await expect(hlt).toHaveText(/^vm KVM_ENABLE_CAP\(KVM_CAP_X86_DISABLE_EXITS, args\[0\] = HLT\) → 0$/);
        await expect(lab.box(lab.vm, 'HLT')).toBeChecked();
      }
      if (after === 'requested') {
        await expect(lab.box(vcpu0, 'HLT')).toBeChecked();
        await expect(pending).toHaveText('KVM_REQ_DISABLE_EXITS pending: takes effect at next VM-entry');
      } else {
        await expect(pending).toHaveCount(0);
      }
      if (after === 'ignored') {
        // Before the series the flags live in kvm->arch only, so vCPU 0 reads them as set.
        await expect(lab.box(vcpu0, 'HLT')).toBeChecked();
        await expect(vcpu0.getByText('kvm->arch.hlt_in_guest = 1', { exact: true })).toBeVisible();
      }
      // In every case vCPU 0's VMCS still exits on HLT: v5.19 has said 0 while leaving it so (the VM
      // and its vCPU disagree), 5/7 rewrites it only at the vCPU's next entry.
      await lab.expectBit(vcpu0, 'CPU_BASED_HLT_EXITING', 1);
      if (kernel === 'v5.19' || patches === 1 || patches === 5) await shot(`${name}: VM-scope HLT after vCPU creation`);
    });
  }
});
