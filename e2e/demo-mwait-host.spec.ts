// Demo 4: a host that cannot MWAIT in a guest. v5.19 accepts MWAIT and drops it without a word;
// RFC v4 3/7 refuses it with EINVAL. And 4/7's `mask &= KVM_X86_DISABLE_EXITS_MWAIT` typo: on such a
// host every other request (HLT here) comes back 0 while changing nothing, so the vCPU still exits.
import { expect, Lab, oneHalt, test } from './support/lab';

const DOC = oneHalt('Disabling exits on a host that cannot MWAIT in a guest', 3, 'userspace');

test('MWAIT refused from 3/7 where the host cannot MWAIT, and 4/7 taking HLT with 0 and doing nothing', async ({ page, shot }) => {
  const lab = await Lab.open(page, DOC);
  const offered = lab.vm.getByRole('definition').filter({ has: page.locator('code') });
  await expect(offered).toHaveText('MWAIT | HLT | PAUSE | CSTATE');
  await page.getByRole('checkbox', { name: 'Host can MWAIT' }).uncheck();
  await expect(offered).toHaveText('HLT | PAUSE | CSTATE'); // KVM_CHECK_EXTENSION leaves MWAIT out
  const [mwait, hlt, vcpu0] = [lab.box(lab.vm, 'MWAIT'), lab.box(lab.vm, 'HLT'), lab.vcpu(0)];

  await test.step('3/7: MWAIT refused, HLT disabled', async () => {
    await lab.toggle(mwait);
    await expect(lab.outcome(lab.vm)).toHaveText(/args\[0\] = MWAIT\) → -1 EINVAL: .+/);
    await expect(mwait).not.toBeChecked();
    await lab.toggle(hlt);
    await expect(lab.outcome(lab.vm)).toHaveText(/args\[0\] = HLT\) → 0$/);
    await expect(hlt).toBeChecked();
    await lab.run();
    await expect(lab.box(vcpu0, 'HLT')).toBeChecked();
    await lab.expectBit(vcpu0, 'CPU_BASED_HLT_EXITING', 0);
    await expect(lab.result(2)).toContainText('still inside KVM_RUN at the timeout'); // halted in the guest
    await shot('3/7: MWAIT refused with EINVAL, HLT disabled');
  });

  await test.step('4/7: HLT accepted with 0, and nothing changes', async () => {
    await lab.reset();
    await lab.variant('rfc-v4', 4);
    await lab.toggle(mwait);
    await expect(lab.outcome(lab.vm)).toHaveText(/args\[0\] = MWAIT\) → -1 EINVAL: .+/);
    await lab.toggle(hlt);
    await expect(lab.outcome(lab.vm)).toHaveText(/args\[0\] = HLT\) → 0$/);
    await expect(hlt).not.toBeChecked(); // the typo cleared the HLT bit before it was applied
    await lab.run();
    await expect(lab.box(vcpu0, 'HLT')).not.toBeChecked();
    await lab.expectBit(vcpu0, 'CPU_BASED_HLT_EXITING', 1);
    await expect(lab.result(2)).toContainText(/vcpu0 KVM_RUN → 0\s*KVM_EXIT_HLT/);
    await shot('4/7: HLT accepted with 0 and ignored');
  });

  await test.step('v5.19: MWAIT accepted with 0 and dropped', async () => {
    await lab.reset();
    await lab.variant('v5.19');
    await lab.toggle(mwait);
    await expect(lab.outcome(lab.vm)).toHaveText(/args\[0\] = MWAIT\) → 0$/);
    await expect(mwait).not.toBeChecked();
  });
});
