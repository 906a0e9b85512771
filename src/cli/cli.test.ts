// The real command, spawned as a user runs it: node bin/exitscope.mjs.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { galleryEntry } from '../model/scenario/gallery';
import { HELP, main, type Io } from './main';

const BIN = fileURLToPath(new URL('../../bin/exitscope.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'exitscope-cli-'));

interface Ran { code: number; stdout: string; stderr: string }

function exitscope(args: string[], stdin?: string): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd: dir, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

/** main() in this process, for what needs no real process (argument handling). */
async function inProcess(args: string[]): Promise<Ran> {
  let stdout = '', stderr = '';
  const io: Io = {
    out: (t) => void (stdout += t), err: (t) => void (stderr += t),
    readFile: () => Promise.reject(new Error('no files here')), readStdin: async () => '', writeFile: async () => {},
  };
  return { code: await main(args, io), stdout, stderr };
}

const doc = (extra: object) => JSON.stringify({ format: 'exitscope/1', guest: { asm: 'hlt' }, ...extra }, null, 2);

describe('exitscope', () => {
  it('prints its usage for help, --help and no arguments', async () => {
    expect((await exitscope(['help'])).stdout).toContain('exitscope run FILE [--json] [--trace]');
    for (const args of [['--help'], [], ['run', '--help']]) expect(await inProcess(args)).toEqual({ code: 0, stdout: HELP, stderr: '' });
  });

  it('refuses an unknown command or option with exit status 2', async () => {
    const r = await exitscope(['runn', 'x.json']);
    expect([r.code, r.stderr]).toEqual([2, 'exitscope: unknown command "runn" (did you mean run?)\nRun `exitscope help` for usage.\n']);
    expect((await inProcess(['run', 'x.json', '--jsno'])).stderr).toContain('unknown option --jsno for run (did you mean --json?)');
    expect((await inProcess(['run'])).stderr).toContain('run needs a scenario file (or - for standard input)');
    expect((await inProcess(['gallery', 'a', 'b'])).stderr).toContain('unexpected argument "b"');
    expect((await inProcess(['run', 'x.json', '--perfetto'])).code).toBe(2);
  });

  it('exits 2 for a file it cannot read', async () => {
    const r = await exitscope(['run', 'missing.json']);
    expect([r.code, r.stderr]).toEqual([2, 'exitscope: cannot read missing.json: no such file\n']);
  });

  it('exits 2 for bad JSON, with the line and column', async () => {
    const r = await exitscope(['run', file('bad.json', '{\n  "format": "exitscope/1",\n  "guest": { "asm": "hlt" },\n}\n')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'exitscope: bad.json is not a valid exitscope/1 scenario:\n  bad.json:4:1: not valid JSON: expected a property name in double quotes, found \'}\'\n',
    );
  });

  it('exits 2 for an invalid document, naming every JSON path', async () => {
    const r = await exitscope(['run', file('invalid.json', doc({
      host: { ghz: -3 },
      program: [{ op: 'create_vcpu', id: 0 }, { op: 'enable_cap', fd: 'vcpu0', cap: 'KVM_CAP_X86_DISABLE_EXITS', args: ['HTL'] }, { op: 'run', fd: 'vcpu7' }],
    }))]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toEqual([
      'exitscope: invalid.json is not a valid exitscope/1 scenario:',
      '  invalid.json:7:12: host.ghz: expected a positive number',
      '  invalid.json:19:9: program[1].args[0]: unknown exit "HTL" (did you mean HLT?)',
      '  invalid.json:24:13: program[2].fd: no vcpu7 was created (created so far: vcpu0)',
      '',
    ]);
  });

  it('exits 2 for guest code that does not assemble, with its line', async () => {
    const r = await exitscope(['run', file('asm.json', doc({ guest: { asm: 'start:\n  mov eax, 1\n  hltt\n' } }))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^exitscope: asm\.json is not a valid exitscope\/1 scenario:\n {2}asm\.json: guest\.asm: line 3, col 3: .*hltt/);
  });

  it('exits 2 for an entry label the code does not have', async () => {
    const r = await exitscope(['run', '-'], doc({ guest: { asm: 'start:\n  hlt\n', entry: 'strat' } }));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('<stdin>: guest.entry: no label "strat" in guest.asm (did you mean start?)');
  });

  it('lists the gallery and prints one of its scenarios', async () => {
    const list = await exitscope(['gallery']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^hlt-h1-in-kernel-sleep +H1: /m);
    const one = await exitscope(['gallery', 'hlt-h3']);
    expect(JSON.parse(one.stdout).title).toMatch(/^H3: /);
  });
});

// The exitscope-result/1 document as spec/scenario-format.md shows it.
const hex = z.string().regex(/^0x[0-9a-f]+$/);
const flags = z.object({ mwait: z.boolean(), hlt: z.boolean(), pause: z.boolean(), cstate: z.boolean() });
interface FrameShape { fn: string; ret?: unknown; calls: FrameShape[] }
const frame: z.ZodType<FrameShape> = z.lazy(() => z.object({ fn: z.string(), calls: z.array(frame) }).loose()) as z.ZodType<FrameShape>;
const RESULT = z.object({
  format: z.literal('exitscope-result/1'),
  kernel: z.enum(['v5.19', 'rfc-v4', 'rfc-v6', 'mainline']),
  patches: z.number().int().min(0).max(6).optional(),
  steps: z.array(z.object({
    index: z.number().int().nonnegative(),
    op: z.string(),
    ret: z.number().int().nullable(),
    errno: z.string().regex(/^E[A-Z0-9]+$/).nullable(),
    run: z.object({
      exit_reason: z.string().regex(/^KVM_EXIT_/), exit_reason_code: z.number().int(), hw_exit_reason: z.number().int(),
      rip: hex, mp_state: z.string(),
    }).loose().optional(),
    frames: z.array(frame).optional(),
    expect: z.union([z.literal('met'), z.object({ mismatches: z.array(z.object({ path: z.string() }).loose()) })]).optional(),
  }).loose()),
  vm: z.object({ disabled_exits: flags }),
  vcpus: z.array(z.object({
    id: z.number().int(), disabled_exits: flags, vmcs: z.object({ primary: hex, secondary: hex }),
    regs: z.record(z.string(), hex), mp_state: z.string(), stats: z.record(z.string(), z.number()),
  })),
  expectations: z.object({ checked: z.number().int(), failed: z.number().int() }),
});

describe('exitscope run', () => {
  const h3 = JSON.stringify(galleryEntry('hlt-h3-userspace-irqchip')!.doc);

  it('reports each ioctl, the expectations and the exits, and exits 0 when all are met', async () => {
    const r = await exitscope(['run', file('h3.json', h3)]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain('[1] vcpu0 KVM_RUN\n    = 0; exit_reason KVM_EXIT_HLT (5), hw_exit_reason 12 (HLT)');
    expect(r.stdout).toContain('[3] vcpu0 KVM_INTERRUPT(vector 32)\n    = 0\n    expect: met');
    expect(r.stdout).toContain('Expectations: 5 checked, 0 failed.');
    expect(r.stdout).toContain('perf kvm stat report --event=vmexit --vcpu 0:\nAnalyze events for all VMs, VCPU 0:\n\n' +
      '             VM-EXIT    Samples  Samples%     Time%    Min Time    Max Time         Avg time \n');
    expect(r.stdout).toMatch(/^ {17}HLT {10}1 /m);
  });

  it('ends quietly when its reader closes the pipe early, as `| head` does', async () => {
    // About a megabyte of trace: far more than a pipe buffers, so the writer meets the closed pipe.
    const spin = doc({ guest: { asm: 'l: cpuid\njmp l' }, program: [{ op: 'create_vcpu', id: 0 }, { op: 'run', fd: 'vcpu0', timeout_ns: 3e6 }] });
    const child = spawn(process.execPath, [BIN, 'run', '-', '--trace'], { cwd: dir });
    child.stdin.end(spin);
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect([code, stderr]).toEqual([0, '']);
  });

  it('names the errno and what it means', async () => {
    const r = await exitscope(['run', '-'], JSON.stringify(galleryEntry('v4-5-refusals')!.doc));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('= -1, errno EINVAL (Invalid argument): cap->flags != 0');
  });

  it('exits 1 when an expectation fails, and says which', async () => {
    const doc = JSON.parse(h3);
    doc.program[1].expect = { run: { exit_reason: 'KVM_EXIT_IO' } };
    const r = await exitscope(['run', file('h3-wrong.json', JSON.stringify(doc))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('    expect: FAILED\n      run.exit_reason: expected "KVM_EXIT_IO", got "KVM_EXIT_HLT"');
    expect(r.stdout).toContain('Expectations: 5 checked, 1 failed (at [1]).');
    const json = await exitscope(['run', 'h3-wrong.json', '--json']);
    expect([json.code, json.stderr]).toEqual([1, 'exitscope: 1 of 5 expectations failed\n']);
  });

  it('prints the exitscope-result/1 document with --json', async () => {
    const r = await exitscope(['run', 'h3.json', '--json']);
    expect(r.code).toBe(0);
    const doc = RESULT.parse(JSON.parse(r.stdout));
    expect(doc.steps.map((s) => s.op)).toEqual(['create_vcpu', 'run', 'get_mp_state', 'interrupt', 'run', 'get_regs']);
    expect(doc.steps[1].frames?.[0].fn).toBe('kvm_arch_vcpu_ioctl_run');
    expect(doc.expectations).toEqual({ checked: 5, failed: 0 });
  });

  it('prints the trace-cmd report with --trace, and the Perfetto JSON with --perfetto', async () => {
    const r = await exitscope(['run', 'h3.json', '--trace', '--perfetto', 'h3.perfetto.json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('cpus=4');
    expect(lines.slice(1).every((l) => l === '' || /^ {7}exitscope-4201  \[000\] +\d+\.\d{6}: kvm_(entry|exit|userspace_exit): +/.test(l))).toBe(true);
    expect(r.stdout).toMatch(/kvm_userspace_exit: {3}reason KVM_EXIT_HLT \(5\)\n/);
    const trace = JSON.parse(readFileSync(join(dir, 'h3.perfetto.json'), 'utf8'));
    expect(trace.traceEvents.some((e: { name: string; ph: string }) => e.name === 'KVM_RUN' && e.ph === 'X')).toBe(true);
    const both = await exitscope(['run', 'h3.json', '--json', '--trace']);
    expect(JSON.parse(both.stdout).trace).toBe(r.stdout);
  });
});

describe('exitscope bench', () => {
  it('measures guest MIPS and HLT exit round trips, and says how', async () => {
    const r = await exitscope(['bench', '--json', '--quick']);
    expect(r.code).toBe(0);
    const doc = z.object({
      guest_mips: z.number().positive(),
      exits_per_sec: z.number().positive(),
      measured: z.object({ guest_mips: z.string(), exits_per_sec: z.string() }).loose(),
    }).parse(JSON.parse(r.stdout));
    expect(doc.measured.exits_per_sec).toContain('HLT exit');
    const spread = z.object({ min: z.number().positive(), median: z.number().positive(), max: z.number().positive() })
      .refine((s) => s.min <= s.median && s.median <= s.max, 'min ≤ median ≤ max');
    const configs = z.array(z.object({ frames: z.boolean(), events: z.boolean(), runs: z.literal(2), per_sec: spread, target: z.number() }).loose())
      .parse(JSON.parse(r.stdout).measured.exits.configs);
    expect(configs.map((c) => [c.frames, c.events, c.target])).toEqual([[false, true, 1e6], [false, false, 1e6], [true, true, 2e5], [true, false, 2e5]]);
    expect(configs[0].per_sec.median).toBe(doc.exits_per_sec);
    // The same guest acknowledging by PV EOI, frames off and on: one exit per round trip instead of two.
    const exits = JSON.parse(r.stdout).measured.exits;
    const withEoi = z.array(z.object({ frames: z.boolean(), events: z.boolean(), eoi: z.enum(['msr', 'pv']), exits_per_round_trip: z.number(), per_sec: spread }).loose());
    expect(withEoi.parse(exits.configs).map((c) => [c.eoi, c.exits_per_round_trip])).toEqual([['msr', 2], ['msr', 2], ['msr', 2], ['msr', 2]]);
    expect(withEoi.parse(exits.pv_eoi_configs).map((c) => [c.frames, c.events, c.eoi, c.exits_per_round_trip])).toEqual([[false, true, 'pv', 1], [true, true, 'pv', 1]]);
    expect(Object.keys(exits.guests)).toEqual(['msr', 'pv']);
    // The machine's load at both ends, and whether it was busy enough to make the figures low.
    z.object({ load_average_1min: z.number(), load_average_1min_end: z.number(), busy: z.boolean() }).loose()
      .parse(JSON.parse(r.stdout).measured.machine);
  });
});
