// A damaged or foreign link says why it cannot be read, and the page still opens.
import { expect, position, ready, test } from './page-support';

for (const [what, hash, reason] of [
  ['cut short', '#es1.eNpFT9FqAjEQ_JVjn694LaUP915', /This link could not be opened: the link is damaged/],
  ['foreign', '#g:eJxVj8', /This link could not be opened: not an exitscope link/],
  ['from a newer version', '#es9.eNpF', /This link could not be opened: this link was made by a newer exitscope/],
] as const) {
  test(`a ${what} link gets a clear message and the default scenario`, async ({ page }) => {
    await page.goto(`/${hash}`);
    await expect(page.getByRole('alert')).toContainText(reason);
    expect(page.url()).toContain(hash); // left as it was, to be looked at
    await ready(page);
    await expect(position(page)).toContainText('next: operation 1 of');
    await page.getByRole('button', { name: 'Dismiss message', exact: true }).click();
    await expect(page.getByRole('alert')).toHaveCount(0);
  });
}

test('a link whose moves are damaged opens its scenario at the start, saying so', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  const state = await page.evaluate(() => (window as unknown as { exitscope: { lab: { linkState(): object } } }).exitscope?.lab.linkState());
  expect(state).toBeUndefined(); // the debug handle exists only with ?debug=1
  await page.goto('/?debug=1');
  await ready(page);
  const link = await page.evaluate(() => {
    const { lab, encode } = (window as unknown as { exitscope: { lab: { linkState(): { doc: object; view: object } }; encode(s: object): string } }).exitscope;
    const s = lab.linkState();
    return encode({ ...s, view: { ...s.view, moves: [{ kind: 'step', unit: 'sideways' }] } });
  });
  await page.goto(`/#${link}`);
  await expect(page.getByRole('status').filter({ hasText: 'could not be read' })).toContainText('unknown step unit "sideways"');
  await ready(page);
  await expect(position(page)).toContainText('next: operation 1 of');
});
