// The guest code editor: an assembler error is shown on its own line (lint range, gutter marker, and
// the problems list naming the line), the last program that assembled keeps running, fixing the line
// clears the error, and nothing typed is lost. Before CodeMirror has loaded the editor is a plain
// textarea; what is typed there carries over, caret and focus too.
import type { Locator, Page } from '@playwright/test';
import { editorTab, expect, position, ready, test } from './page-support';

/** The guest code editor once CodeMirror has taken the textarea's place. */
async function codeMirror(page: Page): Promise<{ panel: Locator; lines: Locator }> {
  const panel = await editorTab(page, 'Guest code');
  await expect(panel.locator('.cm-editor')).toBeVisible({ timeout: 15_000 });
  return { panel, lines: panel.locator('.cm-content .cm-line') };
}

/** The vertical middle of a box, to say which line a gutter marker sits beside. */
async function middle(l: Locator): Promise<number> {
  const box = (await l.boundingBox())!;
  return box.y + box.height / 2;
}

test('an assembler error is shown on its line, the last good program runs on, and fixing it clears it', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  const { panel, lines } = await codeMirror(page);
  const line2 = await lines.nth(1).textContent();
  const line3 = await lines.nth(2).textContent();

  // A new line 3 with a misspelt mnemonic.
  await lines.nth(2).click();
  await page.keyboard.press('Home');
  await page.keyboard.type('movv eax, 1\n');
  await expect(lines.nth(2)).toHaveText('movv eax, 1');

  const problems = panel.getByRole('list', { name: 'Problems in Guest code' });
  await expect(problems.getByRole('listitem')).toHaveCount(1);
  await expect(problems.getByRole('listitem')).toContainText(/^line 3, column \d+: unknown instruction 'movv'/);
  // CodeMirror marks the range on line 3 and puts an error marker in the gutter beside it.
  await expect(lines.nth(2).locator('.cm-lintRange-error')).toHaveCount(1);
  await expect(panel.locator('.cm-lintRange-error')).toHaveCount(1);
  const marker = panel.locator('.cm-gutter-lint .cm-lint-marker-error');
  await expect(marker).toHaveCount(1);
  expect(Math.abs((await middle(marker)) - (await middle(lines.nth(2))))).toBeLessThan(4);

  // The last program that assembled is still the one loaded: it runs to its end as before.
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(position(page)).toContainText('program finished', { timeout: 30_000 });
  await expect(page.getByRole('region', { name: 'Timeline' })).toContainText(/vCPU 1: \d+ exits; halted in the guest/);
  // Nothing typed was lost: the editor still holds the bad line, between the old lines 2 and 3.
  await expect(lines.nth(1)).toHaveText(line2!);
  await expect(lines.nth(2)).toHaveText('movv eax, 1');
  await expect(lines.nth(3)).toHaveText(line3!);

  // Fixing the mnemonic clears the error, and the fixed program loads (the page starts it afresh).
  await lines.nth(2).click();
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Delete');
  await expect(lines.nth(2)).toHaveText('mvv eax, 1');
  await expect(problems.getByRole('listitem')).toContainText(/^line 3, column \d+: unknown instruction 'mvv'/);
  await page.keyboard.press('Delete');
  await page.keyboard.type('o');
  await expect(lines.nth(2)).toHaveText('mov eax, 1');
  await expect(problems).toHaveCount(0);
  await expect(panel.locator('.cm-lintRange-error, .cm-lint-marker-error')).toHaveCount(0);
  await expect(position(page)).toContainText('next: operation 1 of');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(position(page)).toContainText('program finished', { timeout: 30_000 });
  await expect(lines.nth(2)).toHaveText('mov eax, 1');
});

test('before CodeMirror loads the editor is a textarea, and what is typed there carries over', async ({ page }) => {
  // Hold the CodeMirror chunk back until the person has typed.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  await page.route(/\/assets\/codemirror-[^/]*\.js$/, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/');
  await ready(page);
  const panel = await editorTab(page, 'Guest code');
  const plain = panel.locator('textarea');
  await expect(plain).toHaveAccessibleName('Guest code');
  await plain.click();
  await page.keyboard.press('ControlOrMeta+End');
  await page.keyboard.type('; typed into the textarea');
  await expect(plain).toHaveValue(/; typed into the textarea$/);

  release();
  const { lines } = await codeMirror(page);
  await expect(plain).toHaveCount(0);
  await expect(lines.last()).toHaveText('; typed into the textarea');
  // The caret and the focus came along: typing goes on where it was.
  await page.keyboard.type(' and on');
  await expect(lines.last()).toHaveText('; typed into the textarea and on');
});
