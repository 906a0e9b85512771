// The views on the lab page: the timeline and the call chain answer to mouse and keyboard, and say
// in text what they draw. Each test opens its own scenario (not the page's default, which may change).
import { expect, Lab, op, scenario, test } from './support/lab';

/** vCPU 0 makes one exit that KVM handles (a write to the PIC), then spins; vCPU 1, with HLT exits disabled, halts in the guest. */
const ONE_EXIT = scenario({
  title: 'One exit on vCPU 0, none on vCPU 1',
  kernel: 'rfc-v4',
  asm: ['    test rdi, rdi', '    jnz one', '    out 0x21, al', 'spin:', '    jmp spin', 'one:', '    hlt', ''].join('\n'),
  program: [op.create(0), op.create(1), op.disable('vcpu1', ['HLT']), op.threads(['vcpu0', 'vcpu1'], 1_000_000)],
});

/** vCPU 0 writes twice to the in-kernel PIC (exits KVM handles itself), then halts. */
const WRITES = scenario({
  title: 'Two writes to the PIC, then a HLT',
  kernel: 'rfc-v4',
  asm: 'out 0x21, al\nout 0x21, al\nhlt\n',
  program: [op.create(0), op.run('vcpu0', undefined, 1_000_000)],
});

async function runOneExit(page: import('@playwright/test').Page) {
  const lab = await Lab.open(page, ONE_EXIT);
  await lab.run();
  return lab;
}

test('the timeline zooms, pans and selects exits from the keyboard, and lists what is in view', async ({ page }) => {
  await runOneExit(page);
  const timeline = page.getByRole('region', { name: 'Timeline' });
  const summary = timeline.locator('.xs-tl-summary');
  await expect(summary).toContainText(/vCPU 0: 1 exit;.* vCPU 1: 0 exits/);
  const whole = await summary.textContent();

  const plot = timeline.getByRole('group', { name: /Exits over time/ });
  await plot.focus();
  await page.keyboard.press('+');
  await page.keyboard.press('+');
  await expect(summary).not.toHaveText(whole!);
  await page.keyboard.press('Home');
  await expect(summary).toHaveText(whole!);

  // Zoomed in and panned away from the exit (it comes early), [ (the exit before) finds it and brings it into view.
  for (let i = 0; i < 4; i++) await page.keyboard.press('+');
  for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowRight');
  await expect(summary).toContainText(', 0 exits.');
  await page.keyboard.press('[');
  await expect(summary).toContainText(', 1 exit.');
  await timeline.getByText(/Exits in view/).click();
  const chosen = timeline.getByRole('button', { pressed: true });
  await expect(chosen).toHaveText(/^vCPU 0 exit #0: IO_INSTRUCTION at /);

  for (const name of ['Zoom in', 'Pan right', 'Pan left', 'Zoom out', 'Reset zoom']) await timeline.getByRole('button', { name }).click();
  await expect(summary).toHaveText(whole!);
});

test('hovering an exit mark tells its reason, rip and time in KVM; clicking selects it', async ({ page }) => {
  await runOneExit(page);
  const timeline = page.getByRole('region', { name: 'Timeline' });
  const plot = timeline.getByRole('group', { name: /Exits over time/ });
  await plot.scrollIntoViewIfNeeded();
  const box = (await plot.boundingBox())!;
  const tip = timeline.getByRole('tooltip');
  // The mark is painted in the marks row at the top of vCPU 0's lane: find its column in the canvas.
  const x = await plot.locator('canvas').evaluate((c: HTMLCanvasElement) => {
    const dpr = c.width / c.clientWidth;
    const row = c.getContext('2d')!.getImageData(0, Math.round(9 * dpr), c.width, 1).data;
    for (let i = 0; i < c.width; i++) if (row[i * 4 + 3]) return i / dpr;
    return -1;
  });
  expect(x).toBeGreaterThanOrEqual(0);
  await page.mouse.move(box.x + x + 1, box.y + 9);
  await expect(tip).toContainText('vCPU 0 exit #0: IO_INSTRUCTION');
  await expect(tip).toContainText(/rip\s*0x[0-9a-f]+/);
  await expect(tip).toContainText(/time in KVM\s*\d/);
  await page.mouse.down();
  await page.mouse.up();
  await timeline.getByText(/Exits in view/).click();
  await expect(timeline.getByRole('button', { pressed: true })).toHaveText(/^vCPU 0 exit #0: IO_INSTRUCTION/);
});

test('the call chain is a tree one walks with the arrow keys, each frame read as function → return value', async ({ page }) => {
  await runOneExit(page);
  const chain = page.getByRole('region', { name: 'Call chain' });
  const tree = chain.getByRole('tree');
  await expect(tree.getByRole('treeitem').first()).toBeVisible();
  await tree.focus();
  await page.keyboard.press('Home');
  const first = tree.getByRole('treeitem', { selected: true });
  await expect(first).toHaveAttribute('aria-level', '1');
  await page.keyboard.press('ArrowDown');
  await expect(tree.getByRole('treeitem', { selected: true })).toHaveAttribute('aria-level', '2');
  await page.keyboard.press('ArrowLeft'); // collapses this frame
  await expect(tree.getByRole('treeitem', { selected: true })).toHaveAttribute('aria-expanded', 'false');
  await page.keyboard.press('ArrowLeft'); // to the parent
  await expect(tree.getByRole('treeitem', { selected: true })).toHaveAttribute('aria-level', '1');
  await page.keyboard.press('ArrowLeft'); // collapses the root
  await expect(tree.getByRole('treeitem')).toHaveCount(1);
  await expect(tree.getByRole('treeitem').first()).toHaveAttribute('aria-expanded', 'false');
  await page.keyboard.press('ArrowRight');
  await expect(tree.getByRole('treeitem').nth(1)).toBeVisible();
  // Every recorded frame reads "function → value" or, still in it, "function (running)".
  for (const text of await tree.locator('.xs-sig').allTextContents()) expect(text).toMatch(/^\w+ (→ \S+|\(running\)|\(not called yet\))$/);
});

test('after "Go to selected exit" the exit gone to is in view: counted, summed up and listed as selected', async ({ page }) => {
  const lab = await Lab.open(page, WRITES);
  await lab.run();
  await lab.selectExit(0, 1);
  await lab.button('Go to selected exit').click();
  await expect(lab.position).toContainText(/^in operation 2 of 2/);
  // The data now ends at that very exit: the whole window holds both exits, the second at its last instant.
  await expect(lab.timeline.getByText(/^2 exits, /)).toBeVisible();
  await expect(lab.timeline.locator('.xs-tl-summary')).toContainText(/, 2 exits\. vCPU 0: 2 exits;/);
  await expect(await lab.selectedExit()).toHaveText(/^vCPU 0 exit #1: IO_INSTRUCTION at /);
});
