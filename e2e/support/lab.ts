// What the demos share: the page specs' fixture (every test fails on a console error in the page or
// its worker, or an uncaught exception) plus a screenshot attached to the report, and a reader of
// the lab that finds everything by the accessible names a person (or a screen reader) uses.
import type { FrameLocator, Locator, Page } from '@playwright/test';
import type { ScenarioDocument } from '../../src/model/scenario/document';
import { entry, op, type ScenarioText } from '../../src/model/scenario/gallery/build';
import { kernelVariant, variantLabel } from '../../src/model/kvm/variant';
import type { KernelName } from '../../src/model/scenario/types';
import { encodeState, type ViewState } from '../../src/model/scenario/url';
import { test as pageTest, expect, ready } from '../page-support';

export { expect, op };

export const test = pageTest.extend<{ shot: (name: string, target?: Locator) => Promise<void> }>({
  /** Attaches a screenshot of the page (or of one region) to the test's report. */
  shot: async ({ page }, use, testInfo) => {
    await use(async (name, target) => {
      const body = await (target ?? page).screenshot({ animations: 'disabled' });
      await testInfo.attach(name, { body, contentType: 'image/png' });
    });
  },
});


/** A demo's scenario, written with the gallery's builders (`op.create(0)`, `op.disable('vm', ['HLT'])`, …). */
export function scenario(s: Omit<ScenarioText, 'id' | 'covers' | 'description'> & { description?: string }): ScenarioDocument {
  return entry({ id: 'demo', covers: [], description: '', ...s }).doc;
}

/**
 * One vCPU whose guest is a single HLT, on RFC v4 with `patches` applied. KVM_RUN gives up after 2 ms
 * of virtual time when the HLT does not bring it back. With the interrupt controller in userspace a
 * HLT that exits returns KVM_EXIT_HLT at once, and one that does not exit never returns.
 */
export function oneHalt(title: string, patches: number, irqchip: 'kernel' | 'userspace' = 'kernel'): ScenarioDocument {
  return scenario({ title, kernel: 'rfc-v4', patches, vm: { irqchip }, asm: 'hlt\n', program: [op.create(0), op.run('vcpu0', undefined, 2_000_000)] });
}

/** The address that opens `doc` in the lab (what "Copy link" would give for it). */
export function linkTo(doc: ScenarioDocument, view: ViewState = {}): string {
  return `/#${encodeState({ doc, view })}`;
}

type Root = Page | FrameLocator;

/** The lab as a person reads it: its regions, controls and the answers the model gave. */
export class Lab {
  constructor(readonly root: Root) {}

  /** Opens a scenario from a link and waits until the worker shows its start (with the program's results in view). */
  static async open(page: Page, doc: ScenarioDocument, view?: ViewState): Promise<Lab> {
    await page.goto(linkTo(doc, view));
    const lab = new Lab(page);
    await lab.ready();
    await expect(page.getByRole('heading', { name: String(doc.title), exact: true })).toBeVisible();
    await lab.showProgram();
    return lab;
  }

  /** The full page keeps the program and its results in the editors' dock: opens that tab. */
  async showProgram(): Promise<void> {
    const tab = this.root.getByRole('tablist', { name: 'Editors' }).getByRole('tab', { name: 'Userspace program', exact: true });
    if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
  }

  /** Opens a built-in scenario from the gallery, the way a visitor would. */
  static async fromGallery(page: Page, title: RegExp): Promise<Lab> {
    await page.goto('/');
    const lab = new Lab(page);
    await lab.ready();
    await page.getByRole('button', { name: 'Gallery', exact: true }).click();
    await page.getByRole('dialog', { name: 'Gallery' }).getByRole('button', { name: title }).click();
    await expect(page.getByRole('heading', { name: title, level: 2 })).toBeVisible();
    await expect(lab.position).toContainText('next: operation 1 of');
    await lab.showProgram();
    return lab;
  }

  ready(): Promise<void> {
    return ready(this.root);
  }

  region(name: string): Locator {
    return this.root.getByRole('region', { name, exact: true });
  }

  get vm(): Locator {
    return this.region('VM');
  }

  vcpu(id: number): Locator {
    return this.region(`vCPU ${id}`);
  }

  /** An exit checkbox (MWAIT, HLT, PAUSE, CSTATE) or a guest-debug one (ENABLE, …) of a VM or vCPU region. */
  box(scope: Locator, name: string): Locator {
    return scope.getByRole('checkbox', { name, exact: true });
  }

  /** What the kernel answered to the last KVM_ENABLE_CAP on this fd ("… → -1 EINVAL: why"). */
  outcome(scope: Locator): Locator {
    return scope.getByRole('group', { name: /^Exits disabled on/ }).locator('p', { hasText: 'KVM_ENABLE_CAP(' });
  }

  /** One bit of the VMCS execution controls as a vCPU panel lists it ("CPU_BASED_HLT_EXITING 0 (changed)"). */
  vmcsBit(vcpu: Locator, name: string): Locator {
    return vcpu.getByRole('listitem').filter({ has: this.root.getByText(name, { exact: true }) });
  }

  /** Waits until that bit reads `value`; `changed`: whether the panel marks it as changed by the last step. */
  async expectBit(vcpu: Locator, name: string, value: 0 | 1, changed?: boolean): Promise<void> {
    const mark = changed === undefined ? '( \\(changed\\))?' : changed ? ' \\(changed\\)' : '';
    await expect(this.vmcsBit(vcpu, name)).toHaveText(new RegExp(`^${name} ${value}${mark}$`));
  }

  /** A collapsible section of a vCPU panel ("Registers", "Stats"), opened. */
  async section(vcpu: Locator, summary: string): Promise<Locator> {
    const details = vcpu.locator('details').filter({ has: this.root.getByText(summary, { exact: true }) });
    if ((await details.getAttribute('open')) === null) await details.getByText(summary, { exact: true }).click();
    return details;
  }

  /** A binary stat of a vCPU, by its kernel name. */
  async stat(vcpu: Locator, name: string): Promise<Locator> {
    return (await this.section(vcpu, 'Stats')).getByRole('row', { name: new RegExp(`^${name} `) }).getByRole('cell');
  }

  get toolbar(): Locator {
    return this.root.getByRole('toolbar', { name: 'Stepping' });
  }

  /** "next: operation 3 of 6 · t = …", "in operation 2 of 3: …" or "program finished · …". */
  get position(): Locator {
    return this.toolbar.locator('.position');
  }

  button(name: string): Locator {
    return this.root.getByRole('button', { name, exact: true });
  }

  /** The program's results, one list item per operation that has run. */
  get results(): Locator {
    return this.root.getByRole('list', { name: 'Result of each operation' });
  }

  /** The result of program operation `n` (1-based, as the page numbers them). */
  result(n: number): Locator {
    return this.results.getByRole('listitem').nth(n - 1);
  }

  /** The ioctls issued from the page (ticked boxes), in order. */
  get issued(): Locator {
    return this.region('Userspace program').locator('h3:text-is("Issued from the page") + ol').getByRole('listitem');
  }

  /** The latest row of the ioctl log ("7 1.2 µs vcpu0 KVM_RUN exit_reason …, hw_exit_reason 12 0"). */
  get lastIoctl(): Locator {
    return this.region('ioctl log').getByRole('row').last();
  }

  get narration(): Locator {
    return this.root.getByRole('status', { name: 'Exit narration' });
  }

  get callChain(): Locator {
    return this.region('Call chain').getByRole('tree');
  }

  /** A frame of the call chain, read as "function → return value". */
  frame(fn: string): Locator {
    return this.callChain.getByRole('treeitem', { name: new RegExp(`^(→ )?${fn} (→|\\()`) });
  }

  get timeline(): Locator {
    return this.region('Timeline');
  }

  /** The timeline's list of the exits in view, opened. */
  async exitList(): Promise<Locator> {
    const list = this.timeline.locator('details').filter({ has: this.root.getByText(/^Exits in view/) });
    if ((await list.getAttribute('open')) === null) await list.getByText(/^Exits in view/).click();
    return list;
  }

  /** The exit the timeline has selected, as its list of exits in view names it ("vCPU 1 exit #7: …"). */
  async selectedExit(): Promise<Locator> {
    return (await this.exitList()).getByRole('button', { pressed: true });
  }

  /** Selects exit #`n` of a vCPU in the timeline's list of exits in view. */
  async selectExit(vcpu: number, n: number): Promise<void> {
    await (await this.exitList()).getByRole('button', { name: new RegExp(`^vCPU ${vcpu} exit #${n}:`) }).click();
    await expect(await this.selectedExit()).toHaveText(new RegExp(`^vCPU ${vcpu} exit #${n}:`));
  }

  /** Issues the next program operation and waits until the page shows the one after it. */
  async stepOps(n = 1): Promise<void> {
    for (let i = 0; i < n; i++) {
      const before = await this.position.textContent();
      await this.button('Step operation').click();
      await expect(this.position).not.toHaveText(before!);
      await expect(this.position).toContainText(/^(next: operation|program finished)/);
    }
  }

  /** Runs the rest of the program. */
  async run(): Promise<void> {
    await this.button('Run').click();
    await expect(this.position).toContainText('program finished', { timeout: 30_000 });
  }

  /** Ticks or clears a box, and waits for the ioctl the page issued for it to be logged. */
  async toggle(box: Locator): Promise<void> {
    const log = this.region('ioctl log').locator('tbody tr');
    const before = await log.count();
    await box.click();
    await expect(log).toHaveCount(before + 1);
  }

  /** Back at the start of the program, if anything was done. */
  async reset(): Promise<void> {
    if (!(await this.button('Reset').isEnabled())) return;
    await this.button('Reset').click();
    await expect(this.position).toContainText('next: operation 1 of');
    await expect(this.button('Reset')).toBeDisabled();
  }

  /**
   * Switches to `kernel` (with `patches` of RFC v4): the page reloads the scenario and replays what was
   * done. Waits until the VM panel names the kernel the model now runs.
   */
  async variant(kernel: KernelName, patches = 6): Promise<void> {
    await this.root.getByRole('combobox', { name: 'Kernel', exact: true }).selectOption(kernel);
    if (kernel === 'rfc-v4') await this.root.getByRole('combobox', { name: 'Patches applied', exact: true }).selectOption(String(patches));
    await expect(this.vm.locator('dt:text-is("kernel") + dd')).toHaveText(variantLabel(kernelVariant(kernel, patches)));
  }
}
