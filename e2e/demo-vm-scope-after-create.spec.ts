// Demo 1: KVM_CAP_X86_DISABLE_EXITS at VM scope, before and after KVM_CREATE_VCPU, on every kernel.
// Before creation every kernel takes it and the new vCPU inherits it. After creation v5.19 says 0
// but leaves the vCPU's VMCS as it was (the VM and its vCPU now disagree); RFC v4 1/7 to 4/7, RFC v6
// and mainline refuse with EINVAL; RFC v4 5/7 and 6/7 say 0 and queue KVM_REQ_DISABLE_EXITS on the
// vCPU, which rewrites its VMCS at its next entry.
import { expect, Lab, op, scenario, test } from './support/lab';

const DOC = scenario({
  title: 'VM-scope disable before and after vCPU creation',
  kernel: 'rfc-v4',
  asm: 'hlt\n',
  program: [op.create(0), op.run('vcpu0', undefined, 2_000_000)],
});

type After = 'ignored' | 'refused' | 'requested';
const VARIANTS: [string, number | undefined, After][] = [
  ['v5.19', undefined, 'ignored'],
  ['rfc-v4', 1, 'refused'],
  ['rfc-v4', 2, 'refused'],
  ['rfc-v4', 3, 'refused'],
  ['rfc-v4', 4, 'refused'],
  ['rfc-v4', 5, 'requested'],
  ['rfc-v4', 6, 'requested'],
  ['rfc-v6', undefined, 'refused'],
  ['mainline', undefined, 'refused'],
];

test('VM-scope disable before and after vCPU creation, kernel by kernel', async ({ page, shot }) => {
  const lab = await Lab.open(page, DOC);
  const vcpu0 = lab.vcpu(0);
  for (const [kernel, patches, after] of VARIANTS) {
    const name = patches === undefined ? kernel : `${kernel} ${patches}/7`;
    await test.step(name, async () => {
      await lab.variant(kernel, patches);

      // Before any vCPU exists: accepted everywhere, and the vCPU created next inherits it.
      await lab.toggle(lab.box(lab.vm, 'PAUSE'));
      await expect(lab.outcome(lab.vm)).toHaveText(/args\[0\] = PAUSE\) → 0$/);
      await lab.stepOps(1);
      await expect(lab.result(1)).toContainText('KVM_CREATE_VCPU(0)');
      await expect(lab.box(vcpu0, 'PAUSE')).toBeChecked();
      await lab.expectBit(vcpu0, 'CPU_BASED_PAUSE_EXITING', 0);
      await lab.expectBit(vcpu0, 'SECONDARY_EXEC_PAUSE_LOOP_EXITING', 0);

      // After creation: HLT.
      await lab.toggle(lab.box(lab.vm, 'HLT'));
      const outcome = lab.outcome(lab.vm);
      const pending = vcpu0.getByRole('status').filter({ hasText: 'KVM_REQ_DISABLE_EXITS' });
      if (after === 'refused') {
        await expect(outcome).toHaveText(/args\[0\] = HLT\) → -1 EINVAL: .+/);
        await expect(lab.box(lab.vm, 'HLT')).not.toBeChecked();
        await expect(lab.box(vcpu0, 'HLT')).not.toBeChecked();
      } else {
        await expect(outcome).toHaveText(/args\[0\] = HLT\) → 0$/);
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
