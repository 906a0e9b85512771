// Demo 8: the lab embedded in someone's documentation (`?embed=1` in an iframe on another origin):
// compact, without the page's chrome, never rewriting its own address, and driven by the parent
// page's own buttons through the postMessage API (load a scenario, step it), which
// shows what the lab answers. "Open in exitscope" leads to the full page at the same state.
import { serveDocsSite } from './support/docs-site';
import { expect, Lab, op, scenario, test } from './support/lab';

const DOC = scenario({
  title: 'EXIT_USERSPACE, embedded',
  kernel: 'rfc-v4',
  patches: 6,
  asm: 'hlt\n',
  program: [op.create(0), op.debug('vcpu0', ['ENABLE', 'EXIT_USERSPACE']), op.run('vcpu0', undefined, 2_000_000)],
});

test('the embed view: compact, its URL kept, driven from a real parent page', async ({ page, baseURL, shot }) => {
  const labSrc = new URL('/?embed=1', baseURL).href;
  const site = await serveDocsSite(labSrc, DOC);
  try {
    await page.goto(site.url);
    const lab = new Lab(page.frameLocator('#lab'));
    const frame = lab.root;
    await lab.ready();
    const labUrl = () => page.frame({ url: /[?&]embed=1/ })!.url();

    // Compact: the machine, the views and the stepping controls; no header, scenario bar or editors.
    await expect(frame.getByRole('heading', { level: 1 })).toHaveCount(0);
    for (const name of ['Kernel', 'Patches applied']) await expect(frame.getByRole('combobox', { name })).toHaveCount(0);
    await expect(frame.getByRole('textbox', { name: 'Guest code' })).toHaveCount(0);
    for (const name of ['Gallery', 'Copy link', 'Copy embed code']) await expect(lab.button(name)).toHaveCount(0);
    for (const name of ['VM', 'Call chain', 'Timeline', 'ioctl log']) await expect(lab.region(name)).toBeVisible();
    await expect(lab.button('Step to next exit')).toBeVisible();

    // The parent loads a scenario and steps it; the lab tells it where it stands.
    const heard = page.getByRole('list', { name: 'Messages from the lab' }).getByRole('listitem');
    await page.getByRole('button', { name: 'Load the example' }).click()
    await expect(frame.getByRole('heading', { name: DOC.title as string })).toBeVisible();
    await expect(heard.last()).toHaveText('state: EXIT_USERSPACE, embedded, next 0 of 3, exits , last none');
    for (const n of [1, 2]) {
      await page.getByRole('button', { name: 'Next operation' }).click();
      await expect(heard.last()).toHaveText(new RegExp(`^state: EXIT_USERSPACE, embedded, next ${n} of 3, `));
    }
    await expect(lab.box(lab.vcpu(0), 'EXIT_USERSPACE')).toBeChecked();
    await page.getByRole('button', { name: 'Next exit' }).click(); // into KVM_RUN, to the HLT exit
    await expect(lab.vcpu(0).getByTitle('VM exits of this vCPU so far')).toHaveText(/^1 exits?$/);
    await expect(heard.last()).toHaveText(/^state: EXIT_USERSPACE, embedded, next 3 of 3, exits vCPU 0: 1, last vcpu0 KVM_SET_GUEST_DEBUG/); // KVM_RUN under way
    await page.getByRole('button', { name: 'Next exit' }).click(); // handled: back to userspace
    // fd and ioctl (no arguments), what KVM_RUN returned with (once the model logs it), ret 0, no errno.
    await expect(lab.lastIoctl).toHaveText(/vcpu0 KVM_RUN( exit_reason KVM_EXIT_UNKNOWN, hw_exit_reason 12)?0$/);
    await expect(lab.narration).toContainText('KVM_RUN returned to userspace with exit_reason KVM_EXIT_UNKNOWN');
    await expect(heard.last()).toHaveText('state: EXIT_USERSPACE, embedded, next 3 of 3, exits vCPU 0: 1, last vcpu0 KVM_RUN = 0');
    await expect(heard.filter({ hasText: /^error/ })).toHaveCount(0);
    expect(labUrl()).toBe(labSrc); // an embedded lab never rewrites its own address
    await shot('a documentation page driving the embedded lab');

    // "Open in exitscope": the full page, at the same state.
    const [full] = await Promise.all([page.waitForEvent('popup'), frame.getByRole('link', { name: 'Open in exitscope' }).click()]);
    const opened = new Lab(full);
    await opened.ready();
    await opened.showProgram();
    await expect(full.getByRole('heading', { name: DOC.title as string })).toBeVisible();
    await expect(full.getByRole('combobox', { name: 'Kernel' })).toHaveValue('rfc-v4');
    await expect(opened.position).toContainText('program finished');
    await expect(opened.result(3)).toContainText(/vcpu0 KVM_RUN → 0\s*KVM_EXIT_UNKNOWN/);
    await full.close();
  } finally {
    await site.close();
  }
});
