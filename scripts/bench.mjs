#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --json]`: every benchmark the project has, then one summary.
//   1. the core beside native code        npx tsx scripts/bench/core.ts --json
//   2. the whole model                    npx exitscope bench --json
//   3. the page in Chromium               a fresh build, then playwright.bench.config.ts (step to
//      paint, frames while running, JavaScript before the first paint, panning the timeline)
// Benchmarks, not tests: a missed target is reported, not failed; the exit status is nonzero only
// when a benchmark could not run. --quick: shorter runs, for a smoke check of the machinery.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const asJson = args.includes('--json');
const RESULTS = 'reports/bench';
const problems = [];

/** Runs a command; its standard output when it succeeded, else null (and the failure is noted). */
function run(what, cmd, cmdArgs, { capture = false, env = {} } = {}) {
  if (!asJson) console.error(`\n▶ ${what}: ${[cmd, ...cmdArgs].join(' ')}`);
  const r = spawnSync(cmd, cmdArgs, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : ['ignore', asJson ? 'ignore' : 'inherit', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    problems.push(`${what} failed (${r.error?.message ?? `exit status ${r.status}`})`);
    return null;
  }
  return capture ? r.stdout : '';
}

function json(what, text) {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    problems.push(`${what} printed no JSON`);
    return null;
  }
}

const core = json('core', run('core', 'npx', ['tsx', 'scripts/bench/core.ts', '--json', ...(quick ? ['--runs', '2'] : [])], { capture: true }));
const model = json('exitscope bench', run('exitscope bench', 'npx', ['exitscope', 'bench', '--json', ...(quick ? ['--quick'] : [])], { capture: true }));

// The browser benchmarks measure the built page: build it (the core, then the bundle; no typecheck,
// which is `npm test`'s job), then run them with their figures going to reports/bench/.
rmSync(RESULTS, { recursive: true, force: true });
const built = run('build the core', 'npm', ['run', '--silent', 'build:wasm']) !== null && run('build the page', 'npx', ['vite', 'build', '--logLevel', 'warn']) !== null;
if (built) run('browser benchmarks', 'npx', ['playwright', 'test', '-c', 'playwright.bench.config.ts', '--reporter=line'], { env: quick ? { BENCH_QUICK: '1' } : {} });
const browser = {};
if (existsSync(RESULTS)) for (const f of readdirSync(RESULTS)) browser[f.replace(/\.json$/, '')] = JSON.parse(readFileSync(join(RESULTS, f), 'utf8'));

if (asJson) {
  console.log(JSON.stringify({ machine: machine(), quick, core, model, browser, problems }, null, 2));
} else {
  console.log(summary());
}
process.exitCode = problems.length ? 1 : 0;

function machine() {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version };
}

function summary() {
  const m = machine();
  const out = [`\nexitscope benchmarks — ${m.cpu}, ${m.cores} cores, Node ${m.node}${quick ? ' (--quick: short runs)' : ''}`];
  const row = (label, value, note = '') => out.push(`  ${label.padEnd(44)} ${String(value).padStart(13)}  ${note}`.trimEnd());
  const n = (x, d = 0) => (typeof x === 'number' ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—');
  const mark = (ok) => (ok ? '✓' : '✗');

  if (core) {
    out.push(`\nThe core (scripts/bench/core.ts: CPU time, median of ${core.runs} runs)`);
    row('native ALU loop (gcc -O2)', `${n(core.native.mips.median)} MIPS`);
    for (const g of core.guests) row(`core, ${g.guest} loop`, `${n(g.mips.median)} MIPS`, g.description);
    for (const g of core.interpreterOnly) row(`interpreter only, ${g.guest} loop`, `${n(g.mips.median)} MIPS`, 'loop compiler off');
    const frac = core.aluFractionOfNative.median;
    row('ALU loop against native', `1/${n(1 / frac, 1)}`, `${mark(frac >= 1 / 8)} target: 1/8 or better`);
    row('exit round trip (OUT → TS → run)', `${n(core.exitRoundTrip.nsPerExit.median, 1)} ns`);
  }
  if (model) {
    out.push('\nThe whole model (exitscope bench: wall clock)');
    row('guest code, ALU loop', `${n(model.guest_mips, 1)} MIPS`);
    row('HLT exit round trips, EOI by WRMSR', `${n(model.exits_per_sec)} /s`, `${n(model.measured.exits.with_frames_per_sec)} /s with frames recorded; 2 exits a round trip`);
    const pv = (frames) => model.measured.exits.pv_eoi_configs?.find((c) => c.frames === frames && c.events);
    if (pv(false)) row('HLT exit round trips, PV EOI guest', `${n(pv(false).per_sec.median)} /s`, `${n(pv(true)?.per_sec.median)} /s with frames recorded; ${n(pv(false).exits_per_round_trip, 2)} exits a round trip`);
  }

  out.push('\nThe page in Chromium (built, 1280×800)');
  const step = browser['step-latency'];
  if (step) {
    for (const [name, s] of Object.entries(step.ms)) {
      row(`${name}, ${step.vcpus} vCPUs`, `${n(s.median, 1)} ms`, `${mark(s.median < 50)} median (target < 50 ms); p95 ${n(s.p95, 1)}, max ${n(s.max, 1)}, n = ${s.n}`);
    }
  }
  for (const [key, label] of [['frames-exits', 'running, exits'], ['frames-guest-only', 'running, guest code only']]) {
    const f = browser[key];
    if (!f) continue;
    row(`frame gaps while ${label}`, `${n(f.gap_ms.max, 1)} ms max`, `${mark(f.gaps_over_50ms === 0)} ${f.gaps_over_50ms} gaps over 50 ms (target none); median ${n(f.gap_ms.median, 1)} ms, ${n(f.exits)} exits in ${n(f.wall_ms)} ms`);
  }
  for (const [key, label] of [['pause-exits', 'exits'], ['pause-guest-only', 'guest code only']]) {
    const p = browser[key];
    if (!p) continue;
    const a = p.click_to_worker_answer_ms, f = p.click_to_paused_frame_ms;
    row(`Pause while running, ${label}`, `${n(a.median, 1)} ms`, `${mark(a.median < 50)} worker answers, median (target within 50 ms); p95 ${n(a.p95, 1)}, max ${n(a.max, 1)}; paused frame median ${n(f.median, 1)}, p95 ${n(f.p95, 1)}, n = ${a.n}`);
  }
  const js = browser['first-paint-js'];
  if (js) {
    row('JavaScript before the first paint', `${n(js.required_gzip_kb, 1)} KB gz`, `${mark(js.required_gzip_kb < 250)} target < 250 KB: ${js.required_for_first_paint.map((f) => f.file).join(', ')}`);
    row('  being fetched by then', `${n(js.fetched_gzip_kb, 1)} KB gz`, js.fetched_before_first_paint.map((f) => f.file).join(', '));
    row('  fetched after it', `${n(js.later_gzip_kb, 1)} KB gz`, js.later.map((f) => f.file).join(', '));
  }
  for (const [key, what] of [['timeline-dpr1', 'dpr 1'], ['timeline-dpr2', 'dpr 2'], ['timeline-model-dpr1', 'model run, dpr 1'], ['timeline-model-dpr2', 'model run, dpr 2']]) {
    const t = browser[key];
    if (!t) continue;
    for (const [phase, g] of Object.entries(t).filter(([, v]) => v && typeof v === 'object' && 'fps' in v)) {
      row(`timeline, ${what}: ${phase.replace(', zoomed in 10x further', ' (zoomed in)')}`, `${n(g.fps, 1)} fps`, `${mark(g.fps >= 58)} target 60 (${n(t.exits)} exits); gaps p95 ${n(g.gaps.p95, 1)} ms, max ${n(g.gaps.max, 1)}; drawing ${n(g.draw.median, 1)} ms/frame`);
    }
  }
  if (!Object.keys(browser).length) out.push('  (no figures: see the problems below)');
  if (problems.length) out.push('\nProblems:', ...problems.map((p) => `  ${p}`));
  return out.join('\n');
}
