// Demo 5: RFC v4 5/7's KVM_REQ_DISABLE_EXITS. KVM_ENABLE_CAP on a vCPU fd changes vcpu->arch at
// once but only queues the VMCS update: the panel says "takes effect at next VM-entry", the VMCS bit
// is untouched, and the first entry of the next KVM_RUN (vcpu_enter_guest servicing the request)
// clears CPU_BASED_HLT_EXITING, after which HLT no longer exits.
import { expect, Lab, op, scenario, test } from './support/lab';

const DOC = scenario({
  title: 'KVM_REQ_DISABLE_EXITS waits for the next entry',
  kernel: 'rfc-v4',
  patches: 5,
  vm: { irqchip: 'userspace' },
  asm: 'nop\nhlt\n',
  program: [op.create(0), op.create(1), op.run('vcpu1', undefined, 2_000_000)],
});

test('the pending request of 5/7 flips the VMCS bit at the next VM-entry', async ({ page, shot }) => {
  const lab = await Lab.open(page, DOC);
  await lab.stepOps(2);
  const [vcpu0, vcpu1] = [lab.vcpu(0), lab.vcpu(1)];
  const pending = (vcpu: typeof vcpu0) => vcpu.getByRole('status').filter({ hasText: 'KVM_REQ_DISABLE_EXITS' });

  await lab.toggle(lab.box(vcpu1, 'HLT'));
  await expect(lab.outcome(vcpu1)).toHaveText(/args\[0\] = HLT\) → 0$/);
  await expect(vcpu1.getByText('vcpu->arch.hlt_in_guest = 1', { exact: true })).toBeVisible();
  await expect(pending(vcpu1)).toHaveText('KVM_REQ_DISABLE_EXITS pending: takes effect at next VM-entry');
  await lab.expectBit(vcpu1, 'CPU_BASED_HLT_EXITING', 1, false);
  await expect(pending(vcpu0)).toHaveCount(0);
  await shot('the request is pending; the VMCS still exits on HLT', vcpu1);

  // KVM_RUN on vCPU 1, one guest instruction (the NOP): entered once, so the request has been served.
  await lab.button('Step instruction').click();
  await expect(lab.position).toContainText('in operation 3 of 3: vcpu1 KVM_RUN');
  await expect(pending(vcpu1)).toHaveCount(0);
  await lab.expectBit(vcpu1, 'CPU_BASED_HLT_EXITING', 0, true);
  await expect(vcpu1.getByText(/\(was 0x[0-9a-f]{8}\)/)).toBeVisible();
  await expect(lab.frame('vmx_update_disabled_exits')).toContainText(/vmx_update_disabled_exits → void.*primary 0x[0-9a-f]+ → 0x[0-9a-f]+/);
  await expect(lab.callChain.getByRole('treeitem', { level: 3 }).first()).toContainText('vcpu_enter_guest');
  await lab.expectBit(vcpu0, 'CPU_BASED_HLT_EXITING', 1);
  await shot('after the entry: CPU_BASED_HLT_EXITING cleared');

  // The HLT now halts inside the guest: no exit.
  await lab.button('Step instruction').click();
  await expect(vcpu1.getByTitle('what the vCPU thread is doing')).toHaveText('guest halted');
  await expect(vcpu1.getByTitle('VM exits of this vCPU so far')).toHaveText('0 exits');
});
