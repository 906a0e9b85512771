// Demo 10: the model is deterministic, so the way one reaches a point does not matter. Going straight
// to exit #N of vCPU 0 (select it in the timeline, "Go to selected exit") and stepping there exit by
// exit show the same registers, frames, stats and perf table.
import { EOI, idt, lapicTimer } from '../src/model/scenario/gallery/build';
import { expect, Lab, op, scenario, test } from './support/lab';

const DOC = scenario({
  title: 'A guest woken by its LAPIC timer, five times',
  kernel: 'rfc-v4',
  asm: [
    'start:',
    idt({ 32: 'timer' }),
    '    mov r12, 5',
    'again:',
    lapicTimer(32, 20000),
    '    sti',
    '    hlt                               ; an exit; KVM blocks the vCPU until the timer fires',
    '    cli',
    '    dec r12',
    '    jnz again',
    '    out 0x80, al                      ; done: back to userspace',
    '    jmp $',
    'timer:',
    '    inc r15',
    EOI,
    '    iretq',
    '',
  ].join('\n'),
  program: [op.create(0), op.run('vcpu0')],
});

const N = 12;

test(`stepping to exit #${N} and going straight to it give the same state`, async ({ page, shot }) => {
  const lab = await Lab.open(page, DOC);
  const vcpu0 = lab.vcpu(0);
  const exits = vcpu0.getByTitle('VM exits of this vCPU so far');
  const state = async () => ({
    position: await lab.position.textContent(),
    exits: await exits.textContent(),
    regs: await (await lab.section(vcpu0, 'Registers')).textContent(),
    stats: await (await lab.section(vcpu0, 'Stats')).textContent(),
    vmcs: await (await lab.section(vcpu0, 'VMCS execution controls')).textContent(),
    frames: await lab.callChain.getByRole('treeitem').allTextContents(),
    perf: await lab.region('Exit statistics').textContent(),
    ioctls: await lab.region('ioctl log').locator('tbody').textContent(),
  });

  await lab.run();
  await expect(lab.result(2)).toContainText(/vcpu0 KVM_RUN → 0\s*KVM_EXIT_IO/);
  await lab.selectExit(0, N);
  await lab.button('Go to selected exit').click();
  await expect(exits).toHaveText(`${N + 1} exits`);
  await expect(lab.position).toContainText('in operation 2 of 2: vcpu0 KVM_RUN');
  const went = await state();
  await shot(`gone to exit #${N}`);

  await lab.button('Reset').click();
  await expect(lab.position).toContainText('next: operation 1 of 2');
  await lab.stepOps(1);
  for (let n = 1; n <= N + 1; n++) {
    await lab.button('Step to next exit').click();
    await expect(exits).toHaveText(n === 1 ? /^1 exits?$/ : `${n} exits`);
  }
  const stepped = await state();
  expect(stepped).toEqual(went);
  expect(went.regs).toMatch(/r150x0{15}[1-5]/); // some timer interrupts were taken on the way
  await shot(`stepped to exit #${N}`);
});
