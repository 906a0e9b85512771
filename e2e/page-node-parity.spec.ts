// The same document gives the same trace in the browser's worker as in Node (issue 3 §4). For a few
// gallery scenarios with several vCPUs and kinds of exit, the page runs the scenario to its end and
// what it shows is compared with what `exitscope run` prints for the same document, computed here in
// the test process:
// - the ioctl log, row for row: fd, ioctl, time, return value and errno (the CLI's --perfetto trace
//   has every ioctl as an instant event), and for each KVM_RUN the exit_reason it returned with (the
//   CLI's --trace has a kvm_userspace_exit line for each, on the vCPU's thread);
// - the exit statistics, byte for byte: "Copy as text" for each vCPU (and all vCPUs) against the
//   `perf kvm stat report` blocks of the CLI's report;
// - the timeline's exit count, in all and per vCPU, against the kvm_exit lines of --trace.
// The page does not show the frames of every KVM_RUN at once (only the selected one's), so frames
// are not compared here.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { galleryEntry } from '../src/model/scenario/gallery';
import { formatNs } from '../src/ui/views/common/format';
import { Lab } from './support/lab';
import { expect, runToEnd, test } from './page-support';

/** Four vCPUs in run_threads; IO to userspace under EXIT_USERSPACE; PLE; HLT under EXIT_USERSPACE;
 *  RFC v6 with a refused ioctl (EINVAL) in the log. */
const SCENARIOS = ['hlt-half-the-vcpus', 'io-i6-exit-userspace-twice', 'pause-ple', 'hlt-h4-exit-userspace', 'v6-vcpu-scope'];

interface Ioctl {
  fd: string;
  ioctl: string;
  /** The time as the page prints it (formatNs); from Node, the time in ns. */
  t: string | number;
  ret: string;
  /** KVM_RUN's run->exit_reason when it returned 0 or more. */
  exitReason?: string;
}

/** What Node's model says about a document: the CLI's outputs for it, read back into what the page shows. */
interface NodeRun {
  ioctls: Ioctl[];
  /** perf kvm stat text by scope ("all", "0", "1", …), as `exitscope run` prints each block. */
  stats: Map<string, string>;
  /** kvm_exit lines per vCPU. */
  exits: Map<number, number>;
}

/** `npx exitscope run FILE …`'s standard output; a failed expectation or bad input fails the test. */
function exitscope(file: string, ...flags: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('npx', ['exitscope', 'run', file, ...flags], { encoding: 'utf8', maxBuffer: 1 << 28 }, (error, stdout, stderr) =>
      error ? reject(new Error(`exitscope run ${flags.join(' ')}: ${error.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

async function nodeRun(doc: unknown): Promise<NodeRun> {
  const dir = mkdtempSync(join(tmpdir(), 'exitscope-parity-'));
  const file = join(dir, 'scenario.json');
  writeFileSync(file, JSON.stringify(doc));
  const perfetto = join(dir, 'trace.json');
  const [trace, report] = await Promise.all([exitscope(file, '--trace', '--perfetto', perfetto), exitscope(file)]);

  // kvm_userspace_exit and kvm_exit lines, by thread ("exitscope-4201") and vCPU.
  const reasonsByThread = new Map<number, string[]>();
  const exits = new Map<number, number>();
  for (const line of trace.split('\n')) {
    const u = /^\s*exitscope-(\d+)\s.*kvm_userspace_exit:\s+reason (\S+)/.exec(line);
    if (u) reasonsByThread.set(Number(u[1]), [...(reasonsByThread.get(Number(u[1])) ?? []), u[2]]);
    const x = /kvm_exit:\s+vcpu (\d+) /.exec(line);
    if (x) exits.set(Number(x[1]), (exits.get(Number(x[1])) ?? 0) + 1);
  }

  type Instant = { name: string; cat: string; ph: string; ts: number; tid: number; args: { fd: string; ret: number; errno?: string } };
  const chrome = JSON.parse(readFileSync(perfetto, 'utf8')) as { traceEvents: Instant[] } | Instant[];
  const events = Array.isArray(chrome) ? chrome : chrome.traceEvents;
  const ioctls = events
    .filter((e) => e.cat === 'ioctl' && e.ph === 'i')
    .map((e): Ioctl => {
      const io: Ioctl = { fd: e.args.fd, ioctl: e.name, t: e.ts * 1000, ret: e.args.errno ? `${e.args.ret} ${e.args.errno}` : String(e.args.ret) };
      if (e.name === 'KVM_RUN' && e.args.ret >= 0) io.exitReason = reasonsByThread.get(e.tid)?.shift();
      return io;
    });

  // The report's perf kvm stat blocks: a header line, the table, and a note of exits not counted.
  const stats = new Map<string, string>();
  const parts = report.split(/^perf kvm stat report --event=vmexit(?: --vcpu (\d+))?:\n/m);
  for (let i = 1; i < parts.length; i += 2) {
    stats.set(parts[i] ?? 'all', parts[i + 1].replace(/\n\(\d+ exits? not counted[^\n]*\n?/, '').trim());
  }
  return { ioctls, stats, exits };
}

/**
 * The page's time when it is `ns` as formatNs prints it, else `ns` printed. The CLI's Perfetto trace
 * rounds times to whole ns (1134.67 ns is 1135 there): a time the page prints to 0.01 µs next to a
 * rounding edge may fall either side of it.
 */
function sameTime(shown: string | number | undefined, ns: number): string {
  const near = [ns - 0.5, ns, ns + 0.5].map(formatNs);
  return typeof shown === 'string' && near.includes(shown) ? shown : formatNs(ns);
}

/** The ioctl log as the page shows it, every row (the log shows the latest 200 until asked). */
async function pageIoctls(page: Page): Promise<Ioctl[]> {
  const log = page.getByRole('region', { name: 'ioctl log', exact: true });
  const all = log.getByRole('button', { name: /^Show all \d+ ioctls/ });
  if (await all.count()) await all.click();
  const rows = await log.locator('tbody').getByRole('row').evaluateAll((trs) =>
    trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((c) => c.textContent ?? '')),
  );
  return rows.map(([, t, call, ret]) => {
    const [fd, ioctl] = call.trim().split(/\s+/);
    const io: Ioctl = { fd, ioctl, t, ret: ret.trim() };
    const answer = /exit_reason (\w+)/.exec(call);
    if (answer) io.exitReason = answer[1];
    return io;
  });
}

/** "Copy as text" of the exit statistics for one scope, read back from the clipboard. */
async function copiedStats(page: Page, scope: string): Promise<string> {
  const stats = page.getByRole('region', { name: 'Exit statistics', exact: true });
  const select = stats.getByRole('combobox', { name: 'Statistics for' });
  if (await select.count()) await select.selectOption(scope === 'all' ? 'all' : scope);
  await page.evaluate(() => navigator.clipboard.writeText(''));
  await stats.getByRole('button', { name: 'Copy as text', exact: true }).click();
  await expect(stats.getByRole('button', { name: 'Copied', exact: true })).toBeVisible();
  return page.evaluate(() => navigator.clipboard.readText());
}

for (const id of SCENARIOS) {
  test(`${id}: the page shows what Node's model produces for the same document`, async ({ page, context }) => {
    const entry = galleryEntry(id);
    expect(entry, `gallery scenario ${id}`).toBeDefined();
    const inNode = nodeRun(entry!.doc); // meanwhile, the page
    inNode.catch(() => {}); // awaited below; not "unhandled" should the page fail first
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await Lab.open(page, entry!.doc);
    await runToEnd(page);
    const node = await inNode;
    expect(node.exits.size, 'the scenario makes VM exits').toBeGreaterThan(0);

    // The ioctl log: the same calls, in the same order, at the same times, with the same answers.
    const shown = await pageIoctls(page);
    expect(shown).toEqual(node.ioctls.map((io, i) => ({ ...io, t: sameTime(shown[i]?.t, io.t as number) })));

    // perf kvm stat, byte for byte, for every scope the CLI prints.
    for (const [scope, text] of node.stats) expect(`${scope}:\n${(await copiedStats(page, scope)).trim()}`).toBe(`${scope}:\n${text}`);

    // The timeline: every exit, in all and per vCPU (the whole run in view).
    const timeline = page.getByRole('region', { name: 'Timeline', exact: true });
    await timeline.getByRole('button', { name: 'Reset zoom', exact: true }).click();
    const total = [...node.exits.values()].reduce((a, b) => a + b, 0);
    await expect(timeline.getByText(new RegExp(`^${total} exits?, `))).toBeVisible();
    for (const [vcpu, n] of node.exits) await expect(timeline).toContainText(`vCPU ${vcpu}: ${n} exit${n === 1 ? '' : 's'}`);
  });
}
