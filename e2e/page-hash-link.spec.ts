// A link pasted into a tab where the lab is already open changes only the address's fragment (no
// page load): the lab opens it as a fresh load would, a damaged one gets the clear message while the
// lab keeps what it had, Back returns to what was there — and the embed never follows its address.
import type { Page } from '@playwright/test';
import { galleryEntry } from '../src/model/scenario/gallery';
import { linkTo } from './support/lab';
import { expect, position, ready, test } from './page-support';

const pause = galleryEntry('pause-ple')!;
const halves = galleryEntry('hlt-half-the-vcpus')!;

/** The scenario's title, as the scenario bar shows it. */
function title(page: Page, text: string) {
  return page.getByRole('heading', { name: text, exact: true });
}

test('a pasted link opens in the open tab; a damaged one is refused and the lab keeps what it had', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  await page.getByRole('button', { name: 'Step operation', exact: true }).click();
  await expect(position(page)).toContainText('next: operation 2 of');

  // A good link, pasted: only the fragment changes.
  const pasted = linkTo(pause.doc);
  await page.goto(pasted);
  await expect(title(page, String(pause.doc.title))).toBeVisible();
  await expect(position(page)).toContainText('next: operation 1 of');
  await expect(page.getByRole('alert')).toHaveCount(0);
  await page.getByRole('button', { name: 'Step operation', exact: true }).click();
  await expect(position(page)).toContainText('next: operation 2 of');
  await expect(page).not.toHaveURL(new URL(pasted, page.url()).href); // the address follows the lab again

  // A link cut short when copied: the message says why, in plain sentences, and nothing changes.
  const good = linkTo(halves.doc);
  const cut = good.slice(0, -10);
  await page.goto(cut);
  const alert = page.getByRole('alert');
  await expect(alert).toContainText(/This link could not be opened: the link is damaged \(.*\); it may have been cut short when copied\. The lab keeps what it had\./);
  await expect(alert).not.toContainText('?.');
  await expect(title(page, String(pause.doc.title))).toBeVisible();
  await expect(position(page)).toContainText('next: operation 2 of');
  expect(page.url()).toContain(cut.slice(1)); // left as it was, to be looked at

  // A foreign link: the same.
  await page.goto('/#g:eJxVj8');
  await expect(alert).toContainText('This link could not be opened: not an exitscope link');
  await expect(title(page, String(pause.doc.title))).toBeVisible();

  // The whole link, pasted again: it opens, and the stale message goes.
  await page.goto(good);
  await expect(title(page, String(halves.doc.title))).toBeVisible();
  await expect(alert).toHaveCount(0);
  await ready(page);
  await expect(position(page)).toContainText('next: operation 1 of');

  // Back through the history: the damaged links are refused again, then the pause link opens at its
  // step, then the bare address opens the first screen.
  await page.goBack(); // the foreign one
  await expect(alert).toContainText('not an exitscope link');
  await expect(title(page, String(halves.doc.title))).toBeVisible();
  await page.goBack(); // the cut one
  await page.goBack(); // the pause link, as the lab rewrote it after the step
  await expect(title(page, String(pause.doc.title))).toBeVisible();
  await expect(position(page)).toContainText('next: operation 2 of');
  await expect(alert).toHaveCount(0);
  await page.goBack();
  await expect(title(page, 'One vCPU exits on HLT, the other halts in the guest (RFC v4 5/7)')).toBeVisible();
  await expect(position(page)).toContainText('next: operation 1 of');
});

test('the embed layout never follows a new fragment', async ({ page }) => {
  await page.goto(`/?embed=1${linkTo(pause.doc).slice(1)}`);
  await ready(page);
  await expect(page.getByText(String(pause.doc.title), { exact: true }).first()).toBeVisible();
  await page.getByRole('button', { name: 'Step operation', exact: true }).click();
  await expect(position(page)).toContainText('next: operation 2 of');

  const other = `/?embed=1${linkTo(halves.doc).slice(1)}`;
  await page.goto(other);
  await page.goto('/?embed=1#es1.damaged');
  // Give a hashchange handler, if one were listening, the time to act before looking.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 300))));
  await expect(page.getByText(String(halves.doc.title), { exact: true })).toHaveCount(0);
  await expect(page.getByText(String(pause.doc.title), { exact: true }).first()).toBeVisible();
  await expect(position(page)).toContainText('next: operation 2 of');
  await expect(page.getByRole('alert')).toHaveCount(0);
  expect(page.url()).toContain('#es1.damaged');
});
