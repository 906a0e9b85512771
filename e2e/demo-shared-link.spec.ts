// Demo 9: a link carries the whole state. A reviewer picks a kernel, ticks a box, runs two vCPUs,
// selects exit #7 of vCPU 1 in the timeline and copies the link; opened in a fresh page it shows the
// same view: the kernel, the position, the selected exit, the registers, the frames and the log.
import { expect, Lab, op, scenario, test } from './support/lab';

const DOC = scenario({
  title: 'Two vCPUs writing to the PIC',
  kernel: 'rfc-v4',
  asm: [
    '    test rdi, rdi                     ; RDI = the vCPU id',
    '    jnz other',
    'zero:',
    '    out 0x21, al                      ; the PIC, in the kernel: an exit that never leaves KVM',
    '    jmp zero',
    'other:',
    '    inc rbx                           ; vCPU 1 counts its writes',
    '    out 0x21, al',
    '    jmp other',
    '',
  ].join('\n'),
  program: [op.create(0), op.create(1), op.threads(['vcpu0', 'vcpu1'], 40_000)],
});

test('a shared link reproduces the view, down to exit #7 on vCPU 1', async ({ page, context, shot }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const lab = await Lab.open(page, DOC);
  await page.getByRole('combobox', { name: 'Patches applied' }).selectOption('5');
  await lab.toggle(lab.box(lab.vm, 'PAUSE'));
  await lab.run();
  await lab.selectExit(1, 7);

  // What the reviewer sees, to compare with the link's page.
  const seen = async (l: Lab) => ({
    position: await l.position.textContent(),
    selected: await (await l.selectedExit()).textContent(),
    patches: await l.root.getByRole('combobox', { name: 'Patches applied' }).inputValue(),
    vmPause: await l.box(l.vm, 'PAUSE').isChecked(),
    regs: await (await l.section(l.vcpu(1), 'Registers')).textContent(),
    // The tree shows the rows its height fits; where it is scrolled is the reader's, not the link's: read its end.
    frames: await l.callChain
      .evaluate((t) => new Promise((shown) => { t.scrollTop = t.scrollHeight; requestAnimationFrame(() => requestAnimationFrame(shown)); }))
      .then(() => l.callChain.getByRole('treeitem').allTextContents()),
    recording: await l.callChain.getAttribute('aria-label'),
    ioctls: await l.region('ioctl log').locator('tbody').textContent(),
    timeline: await l.timeline.getByText(/^Showing /).textContent(),
  });
  const here = await seen(lab);
  expect(here.selected).toMatch(/^vCPU 1 exit #7: IO_INSTRUCTION at /);
  await shot('exit #7 of vCPU 1 selected');

  await lab.button('Copy link').click();
  await expect(page.getByText('Link copied.')).toBeVisible();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toMatch(/#es1\.[\w-]+$/);
  expect(page.url()).toBe(link); // the address bar says the same

  const later = await context.newPage();
  await later.goto(link);
  const there = new Lab(later);
  await there.ready();
  await there.showProgram(); // the same layout: the dock as it was (the call chain shows the rows its height fits)
  await expect(await there.selectedExit()).toHaveText(here.selected!);
  await expect(there.position).toHaveText(here.position!);
  expect(await seen(there)).toEqual(here);
  await shot('the same view, from the link');
  await later.close();
});
