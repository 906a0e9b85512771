// Demo 2: RFC v4 5/7's point. Two vCPUs run the same HLT with an in-kernel LAPIC and nothing to wake
// them; HLT exits are disabled on vCPU 1 only. vCPU 0 exits and kvm_emulate_halt() sends it to sleep
// in kvm_vcpu_block(), while vCPU 1 halts inside the guest without an exit.
import { expect, Lab, op, scenario, test } from './support/lab';

const DOC = scenario({
  title: 'Two vCPUs halt, one of them without exiting',
  kernel: 'rfc-v4',
  patches: 6,
  vm: { irqchip: 'kernel' },
  asm: 'hlt\n',
  program: [op.create(0), op.create(1), op.threads(['vcpu0', 'vcpu1'], 1_000_000)],
});

test('per-vCPU HLT disable: vCPU 0 blocks in kvm_vcpu_block, vCPU 1 halts in the guest', async ({ page, shot }) => {
  const lab = await Lab.open(page, DOC);
  await lab.stepOps(2);
  const [vcpu0, vcpu1] = [lab.vcpu(0), lab.vcpu(1)];
  await lab.toggle(lab.box(vcpu1, 'HLT'));
  await expect(lab.outcome(vcpu1)).toHaveText(/^vcpu1 KVM_ENABLE_CAP\(KVM_CAP_X86_DISABLE_EXITS, args\[0\] = HLT\) → 0$/);
  await expect(lab.box(vcpu0, 'HLT')).not.toBeChecked();
  await expect(lab.box(lab.vm, 'HLT')).not.toBeChecked(); // the VM's template is untouched

  await lab.run();
  await lab.expectBit(vcpu0, 'CPU_BASED_HLT_EXITING', 1);
  await lab.expectBit(vcpu1, 'CPU_BASED_HLT_EXITING', 0);
  await expect(vcpu0.getByTitle('what the vCPU thread is doing')).toHaveText('blocked');
  await expect(vcpu1.getByTitle('what the vCPU thread is doing')).toHaveText('guest halted');
  await expect(await lab.stat(vcpu0, 'halt_exits')).toHaveText('1');
  await expect(await lab.stat(vcpu1, 'halt_exits')).toHaveText('0');
  await expect(await lab.stat(vcpu0, 'blocking')).toHaveText('1'); // asleep in kvm_vcpu_block now
  await expect(await lab.stat(vcpu1, 'blocking')).toHaveText('0');

  // The timeline: vCPU 0's one HLT exit, then asleep in kvm_vcpu_block (no halt-polling yet: a vCPU's
  // halt_poll_ns starts at 0 and only grows after a wake-up); vCPU 1 halted in the guest throughout.
  const summary = lab.timeline.getByText(/^Showing /);
  await expect(summary).toContainText(/vCPU 0: 1 exit; blocked in kvm_vcpu_block \d+%/);
  await expect(summary).toContainText(/vCPU 1: 0 exits; halted in the guest \(HLT\/MWAIT without an exit\) \d+%/);
  await lab.timeline.getByText(/^Exits in view/).click();
  await expect(lab.timeline.getByRole('button', { name: /^vCPU \d exit #/ })).toHaveText([/^vCPU 0 exit #0: HLT at /]);
  await shot('timeline: vCPU 0 blocked after its HLT exit, vCPU 1 halted in the guest', lab.timeline);
  await shot('the lab after the run');
});
