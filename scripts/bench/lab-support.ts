// What the lab's benchmarks share: their scenarios (four vCPUs, busy with exits or spinning in the
// guest) and a probe that times a click to the frame that shows what it changed.
import type { Page } from '@playwright/test';
import { op, scenario } from '../../e2e/support/lab';

export const VCPUS = [0, 1, 2, 3];
const FDS = VCPUS.map((id) => `vcpu${id}`);

/** Four vCPUs, each looping over arithmetic and a write to the in-kernel PIC (an exit KVM handles itself). */
export const BUSY = (forNs: number) =>
  scenario({
    title: 'Four vCPUs writing to the PIC',
    kernel: 'rfc-v4',
    asm: ['loop:', '    inc rax', '    add rbx, rax', '    out 0x21, al', '    jmp loop', ''].join('\n'),
    program: [...VCPUS.map((id) => op.create(id)), op.threads(FDS, forNs)],
  });

/** Four vCPUs running guest code only: no exits at all. */
export const SPIN = (forNs: number) =>
  scenario({
    title: 'Four vCPUs spinning in the guest',
    kernel: 'rfc-v4',
    asm: ['spin:', '    inc rax', '    add rbx, rax', '    jmp spin', ''].join('\n'),
    program: [...VCPUS.map((id) => op.create(id)), op.threads(FDS, forNs)],
  });

/**
 * Times, in the page, from a click to the frame that shows what it changed: every batch of DOM
 * changes after the click (the live region aside, which speaks on its own schedule) schedules a
 * timestamp after the next frame; the last one, once the page is quiet, is when the step was shown.
 */
export async function installStepProbe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const probe = { t0: 0, last: 0, shown: 0 };
    Object.assign(window, { probe });
    document.addEventListener('click', () => Object.assign(probe, { t0: performance.now(), last: 0, shown: 0 }), true);
    const live = document.querySelector('[aria-label="Exit narration"]');
    new MutationObserver((records) => {
      if (!probe.t0 || records.every((r) => live?.contains(r.target))) return;
      const at = (probe.last = performance.now());
      requestAnimationFrame(() => setTimeout(() => at === probe.last && (probe.shown = performance.now())));
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

/** Clicks a control and returns the milliseconds until the page showed the result. */
export async function timedClick(page: Page, name: string): Promise<number> {
  await page.getByRole('button', { name, exact: true }).click();
  const quiet = 150; // ms without a DOM change: the step has been shown
  const handle = await page.waitForFunction(
    (q) => {
      const p = (window as unknown as { probe: { t0: number; last: number; shown: number } }).probe;
      return p.shown > p.last && performance.now() - p.last > q ? p.shown - p.t0 : null;
    },
    quiet,
    { polling: 20 },
  );
  return (await handle.jsonValue()) as number;
}
