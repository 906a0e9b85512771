import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scenarioArb } from './arbitrary';
import { toDocument } from './document';
import { formatError, parseScenario, parseScenarioText, type ParseResult } from './parse';

const SPEC_EXAMPLE = `{
  "format": "exitscope/1",
  "title": "vCPU-scoped HLT disable",
  "kernel": "rfc-v4",
  "patches": 6,
  "host": { "mwait": true, "pcpus": 4, "halt_poll_ns": 200000 },
  "vm": { "irqchip": "kernel", "memory": "4M" },
  "guest": { "asm": "sti\\nhlt\\ncli\\nout 0x80, al\\n", "org": "0x10000" },
  "program": [
    { "op": "create_vcpu", "id": 0 },
    { "op": "create_vcpu", "id": 1 },
    { "op": "enable_cap", "fd": "vcpu1", "cap": "KVM_CAP_X86_DISABLE_EXITS", "args": ["HLT", "OVERRIDE"],
      "expect": { "ret": 0 } },
    { "op": "set_guest_debug", "fd": "vcpu0", "control": ["ENABLE", "EXIT_USERSPACE"] },
    { "op": "run", "fd": "vcpu0", "expect": { "run": { "hw_exit_reason": 12 } } }
  ]
}`;

const minimal = (extra: Record<string, unknown> = {}) => ({ format: 'exitscope/1', guest: { asm: 'hlt' }, ...extra });
const errorsOf = (r: ParseResult) => (r.ok ? [] : r.errors.map(formatError));
const messages = (r: ParseResult) => (r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`));

describe('parseScenario', () => {
  it('reads the format document’s own example', () => {
    const r = parseScenarioText(SPEC_EXAMPLE);
    if (!r.ok) throw new Error(errorsOf(r).join('\n'));
    const s = r.scenario;
    expect(s.kernel).toBe('rfc-v4');
    expect(s.vm.memory).toBe(4 << 20);
    expect(s.guest).toEqual({ asm: 'sti\nhlt\ncli\nout 0x80, al\n', org: 0x10000, entry: 0x10000 });
    expect(s.program[2]).toEqual({
      op: 'enable_cap', fd: 'vcpu1', cap: 143, args: (1n << 63n) | 2n, args_more: [], flags: 0, expect: { ret: 0 },
    });
    expect(s.program[3]).toEqual({ op: 'set_guest_debug', fd: 'vcpu0', control: 0x5 });
    expect(s.program[4]).toEqual({ op: 'run', fd: 'vcpu0', timeout_ns: 1e9, expect: { run: { hw_exit_reason: 12 } } });
  });

  it('reads io_data / mmio_data (an extension) as the bytes userspace writes: a number is a little-endian u64', () => {
    const r = parseScenario(minimal({
      program: [{ op: 'create_vcpu', id: 0 }, { op: 'run', fd: 'vcpu0', io_data: '0xbeef' }, { op: 'run', fd: 'vcpu0', mmio_data: [1, 2, 3] }],
    }));
    if (!r.ok) throw new Error(errorsOf(r).join('\n'));
    expect(r.scenario.program[1]).toMatchObject({ io_data: [0xef, 0xbe, 0, 0, 0, 0, 0, 0] });
    expect(r.scenario.program[2]).toMatchObject({ mmio_data: [1, 2, 3] });
    expect((toDocument(r.scenario).program as unknown[])[2]).toEqual({ op: 'run', fd: 'vcpu0', mmio_data: [1, 2, 3] });
  });

  it('fills in exactly the defaults of the format’s table', () => {
    const r = parseScenario({ format: 'exitscope/1', guest: { hex: 'F4' } });
    expect(r).toEqual({
      ok: true,
      scenario: {
        format: 'exitscope/1', title: '', kernel: 'rfc-v4', patches: 6,
        host: { vendor: 'intel', mwait: true, smt_rsb: false, pcpus: 4, ghz: 3, exit_cycles: 1100, halt_poll_ns: 200000 },
        vm: { irqchip: 'kernel', memory: 4 << 20 },
        guest: { hex: 'f4', org: 0x10000, entry: 0x10000 },
        program: [],
      },
    });
  });

  it('takes constant names with or without their prefix, in any case', () => {
    const r = parseScenario(minimal({
      program: [
        { op: 'create_vcpu', id: 0 },
        { op: 'enable_cap', fd: 'vm', cap: 'X86_DISABLE_EXITS', args: ['KVM_X86_DISABLE_EXITS_HLT', 'pause'] },
        { op: 'enable_cap', fd: 'vm', cap: 143, args: '0x800000000000000f' },
        { op: 'set_guest_debug', fd: 'vcpu0', control: ['KVM_GUESTDBG_ENABLE', 'SINGLESTEP'] },
        { op: 'check_extension', cap: 'KVM_CAP_SET_GUEST_DEBUG2' },
      ],
    }));
    if (!r.ok) throw new Error(errorsOf(r).join('\n'));
    expect(r.scenario.program.map((o) => ('args' in o ? o.args : 'control' in o ? o.control : 'cap' in o ? o.cap : null)))
      .toEqual([null, 6n, 0x800000000000000fn, 3, 195]);
  });

  it('names every problem with its JSON path and line, all at once', () => {
    const r = parseScenarioText(`{
  "format": "exitscope/1",
  "kernel": "mainline", "patches": 3,
  "host": { "ghz": 0, "halt_pol_ns": 1 },
  "vm": { "memory": "65M" },
  "guest": { "asm": "hlt" },
  "program": [
    { "op": "create_vcpu", "id": 0 },
    { "op": "enable_cap", "fd": "vcpu0", "cap": "KVM_CAP_X86_DISABLE_EXITS", "args": ["HLT", "HTL"] },
    { "op": "run", "fd": "vcpu7" }
  ]
}`);
    expect(errorsOf(r)).toEqual([
      'line 3, column 36: patches: patches apply only to kernel "rfc-v4" (this document\'s kernel is "mainline")',
      'line 4, column 20: host.ghz: expected a positive number',
      'line 4, column 38: host.halt_pol_ns: unknown field "halt_pol_ns" (did you mean halt_poll_ns?)',
      'line 5, column 21: vm.memory: expected 4 KiB to 64 MiB, got 68157440 bytes',
      'line 9, column 94: program[1].args[1]: unknown exit "HTL" (did you mean HLT?)',
      'line 10, column 26: program[2].fd: no vcpu7 was created (created so far: vcpu0)',
    ]);
  });

  it.each([
    [{ guest: { asm: 'hlt', hex: 'f4' } }, 'guest: give the guest code as exactly one of "asm" (assembly) or "hex" (bytes)'],
    [{ guest: {} }, 'guest: give the guest code as exactly one of "asm" (assembly) or "hex" (bytes)'],
    [{ guest: { hex: 'f4f' } }, 'guest.hex: expected pairs of hex digits, e.g. "f4" for hlt'],
    [{ guest: { hex: 'f4', entry: 'start' } }, 'guest.entry: a label needs the code as "asm"'],
    [{ guest: { asm: 'hlt', org: '0x400000' } }, 'guest.org: 0x400000 is outside guest RAM (4 MiB from 0)'],
    [{ vm: { memory: 5000 } }, 'vm.memory: expected a multiple of 4 KiB, got 5000 bytes'],
    [{ vm: { memory: '128M' } }, 'vm.memory: expected 4 KiB to 64 MiB, got 134217728 bytes'],
    [{ patches: 7 }, 'patches: expected an integer from 0 to 6'],
    [{ kernel: 'v6.2' }, 'kernel: expected one of "v5.19", "rfc-v4", "rfc-v6", "mainline", got "v6.2"'],
    [{ format: 'exitscope/2' }, 'format: expected "exitscope/1", got "exitscope/2"'],
    [{ host: { vendor: 'amd' } }, 'host.vendor: only "intel" (VMX) is modelled'],
    [{ host: { ghz: '3' } }, 'host.ghz: expected a positive number'],
    [{ titel: 'x' }, 'titel: unknown field "titel" (did you mean title?)'],
    [{ program: {} }, 'program: expected an array of operations'],
  ])('rejects %j', (extra, message) => {
    expect(messages(parseScenario(minimal(extra)))).toContain(message);
  });

  it.each([
    [{ op: 'crate_vcpu', id: 1 }, 'program[1].op: unknown op "crate_vcpu" (did you mean create_vcpu?)'],
    [{ op: 'create_vcpu', id: 16 }, 'program[1].id: expected an integer from 0 to 15'],
    [{ op: 'create_vcpu' }, 'program[1].id: missing (expected an integer from 0 to 15)'],
    [{ op: 'run', fd: 'vm' }, 'program[1].fd: KVM_RUN is a vCPU ioctl: expected "vcpuN"'],
    [{ op: 'run', fd: 'cpu0' }, 'program[1].fd: expected "vm" or "vcpuN"'],
    [{ op: 'run', fd: 'vcpu0', expect: { rn: {} } }, 'program[1].expect.rn: not a field of the run result (did you mean run?)'],
    [{ op: 'enable_cap', fd: 'vm', cap: 'X86_DISABLE_EXIT', args: 2 }, 'program[1].cap: unknown capability "X86_DISABLE_EXIT" (did you mean X86_DISABLE_EXITS?)'],
    [{ op: 'enable_cap', fd: 'vm', cap: 143 }, 'program[1].args: missing (expected a non-negative integer or a "0x…" string)'],
    [{ op: 'enable_cap', fd: 'vm', cap: 143, args: 2 ** 60 }, 'program[1].args: this number is beyond 2^53, where JSON numbers lose precision: write it as a "0x…" string'],
    [{ op: 'enable_cap', fd: 'vm', cap: 'SET_GUEST_DEBUG', args: ['HLT'] }, 'program[1].args[0]: no cap argument names are known here: give a number or "0x…"'],
    [{ op: 'enable_cap', fd: 'vm', cap: 143, args: 1, args_more: [1, 2, 3, 4] }, 'program[1].args_more: args_more holds args[1..3]: at most 3 numbers'],
    [{ op: 'set_guest_debug', fd: 'vcpu0', control: ['ENABLE', 'SINGLESTPE'] }, 'program[1].control[1]: unknown guest-debug flag "SINGLESTPE" (did you mean SINGLESTEP?)'],
    [{ op: 'set_regs', fd: 'vcpu0', regs: { rpi: 1 } }, 'program[1].regs.rpi: unknown field "rpi" (did you mean rip?)'],
    [{ op: 'set_regs', fd: 'vcpu0', regs: { rax: '0x10000000000000000' } }, 'program[1].regs.rax: "0x10000000000000000" does not fit in 64 bits'],
    [{ op: 'run_threads', fds: ['vcpu0', 'vcpu0'], for_ns: 10 }, 'program[1].fds[1]: "vcpu0" is listed twice: one thread per vCPU'],
    [{ op: 'run_threads', fds: [], for_ns: 10 }, 'program[1].fds: name at least one vCPU'],
    [{ op: 'interrupt', fd: 'vcpu0', vector: 256 }, 'program[1].vector: expected an integer from 0 to 255'],
    [{ op: 'run', fd: 'vcpu0', timeout_ns: -5 }, 'program[1].timeout_ns: expected a positive number'],
    [{ op: 'run', fd: 'vcpu0', io_data: 'ab' }, 'program[1].io_data: expected a non-negative integer or a "0x…" string, got "ab"'],
    [{ op: 'run', fd: 'vcpu0', io_data: [1, 256] }, 'program[1].io_data[1]: expected a byte (0 to 255), got 256'],
    [{ op: 'run', fd: 'vcpu0', mmio_data: [1, 2, 3, 4, 5, 6, 7, 8, 9] }, 'program[1].mmio_data: expected 1 to 8 byte values, got 9'],
    [{ op: 'run', fd: 'vcpu0', mmio_data: [] }, 'program[1].mmio_data: expected 1 to 8 byte values, got 0'],
    [7, 'program[1]: expected an operation object, got 7'],
  ])('rejects the op %j', (op, message) => {
    expect(messages(parseScenario(minimal({ program: [{ op: 'create_vcpu', id: 0 }, op] })))).toContain(message);
  });

  it('counts a vCPU as created only from its create_vcpu on', () => {
    const r = parseScenario(minimal({ program: [{ op: 'get_regs', fd: 'vcpu0' }, { op: 'create_vcpu', id: 0 }, { op: 'get_regs', fd: 'vcpu0' }] }));
    expect(messages(r)).toEqual(['program[0].fd: no vcpu0 was created (no create_vcpu before this op)']);
  });

  it('gives JSON syntax errors with their line and column', () => {
    expect(errorsOf(parseScenarioText('{\n  "format": "exitscope/1",\n}'))).toEqual([
      'line 3, column 1: document: not valid JSON: expected a property name in double quotes, found \'}\'',
    ]);
    expect(errorsOf(parseScenarioText('[1, 2'))).toEqual(['line 1, column 6: document: not valid JSON: expected \',\' or \']\' after an array element, found end of input']);
    expect(errorsOf(parseScenarioText('"x"'))).toEqual(['line 1, column 1: document: expected a JSON object (an exitscope/1 document), got "x"']);
  });

  it('never throws, whatever the input', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => { parseScenario(v); }), { numRuns: 300 });
    fc.assert(fc.property(fc.string(), (t) => { parseScenarioText(t); }), { numRuns: 300 });
    fc.assert(
      fc.property(scenarioArb, fc.nat(), fc.jsonValue(), (s, k, junk) => {
        // Damage one field of a valid document: the result is a scenario or a list of errors, never a crash.
        const doc = toDocument(s) as Record<string, unknown>;
        const keys = Object.keys(doc);
        parseScenario({ ...doc, [keys[k % keys.length]]: junk });
      }),
      { numRuns: 200 },
    );
  });
});
