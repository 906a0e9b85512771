// Reads an exitscope/1 document into the normalised Scenario, or lists every problem with it, each
// named by its JSON path ("program[3].fd: no vcpu7 was created") and, for text input, its line.
import { z } from 'zod';
import { MAX_RAM } from '../../../wasm/src/abi';
import { formatPath, JsonSyntaxError, parseJson, type JsonPath, type Pos } from './json';
import { capArgs, COMMON_RESULTS, IOCTL, OPS, opSchemas, TOP_LEVEL, type OpName } from './schema';
import { didYouMean } from './suggest';
import { RFC_V4_PATCHES, type Op, type Scenario } from './types';
import { show } from './values';

export const FORMAT = 'exitscope/1';

export interface ScenarioError {
  path: string; // "program[3].fd"; "" for the document itself
  message: string;
  pos?: Pos; // where the offending value starts, when the input was text
}

export type ParseResult = { ok: true; scenario: Scenario } | { ok: false; errors: ScenarioError[] };

/** `program[3].fd: no vcpu7 was created`, with `line 14, column 12: ` in front when known. */
export function formatError(e: ScenarioError): string {
  const where = e.pos ? `line ${e.pos.line}, column ${e.pos.col}: ` : '';
  return `${where}${e.path || 'document'}: ${e.message}`;
}

/** Parses JSON text; syntax errors come back as an error at the document with their line and column. */
export function parseScenarioText(text: string): ParseResult {
  try {
    const json = parseJson(text);
    return parseScenario(json.value, json.at);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    return { ok: false, errors: [{ path: '', message: `not valid JSON: ${e.reason}`, pos: e.pos }] };
  }
}

// Messages for the issues whose schema did not word its own.
const errorMap = (iss: z.core.$ZodRawIssue): string | undefined => {
  if (iss.code === 'invalid_type') return iss.input === undefined ? `missing (expected ${iss.expected})` : `expected ${iss.expected}, got ${show(iss.input)}`;
  if (iss.code === 'invalid_value') {
    const values = iss.values.map(String);
    const got = typeof iss.input === 'string' ? `${show(iss.input)}${didYouMean(iss.input, values)}` : show(iss.input);
    return `expected ${values.length > 1 ? 'one of ' : ''}${values.map((v) => JSON.stringify(v)).join(', ')}, got ${got}`;
  }
  if (iss.code === 'invalid_format' && iss.format === 'regex') return `expected a label or an address, got ${show(iss.input)}`;
  return undefined;
};

/** Validates a document already parsed from JSON; `at` maps a JSON path to its place in the text. */
export function parseScenario(doc: unknown, at: (path: JsonPath) => Pos | undefined = () => undefined): ParseResult {
  const errors: ScenarioError[] = [];
  const report = (path: JsonPath, message: string) => errors.push({ path: formatPath(path), message, pos: at(path) ?? nearest(path, at) });
  const check = <T>(schema: z.ZodType<T>, value: unknown, base: JsonPath): T | undefined => {
    const r = schema.safeParse(value, { error: errorMap });
    if (r.success) return r.data;
    for (const iss of r.error.issues) report([...base, ...(iss.path as (string | number)[])], iss.message);
    return undefined;
  };

  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    report([], `expected a JSON object (an ${FORMAT} document), got ${show(doc)}`);
    return { ok: false, errors };
  }
  const raw = doc as Record<string, unknown>;
  for (const k of Object.keys(raw))
    if (!Object.hasOwn(TOP_LEVEL, k)) report([k], `unknown field "${k}"${didYouMean(k, Object.keys(TOP_LEVEL))}`);
  // Each field on its own, so that every problem is reported in one pass.
  const field = <K extends keyof typeof TOP_LEVEL>(k: K) => check(TOP_LEVEL[k] as unknown as z.ZodType<z.output<(typeof TOP_LEVEL)[K]>>, raw[k], [k]);
  const format = field('format');
  const [title, description, kernel, patches] = [field('title'), field('description'), field('kernel'), field('patches')];
  const [host, vm, guest] = [field('host'), field('vm'), field('guest')];
  if (format !== undefined && format !== FORMAT) report(['format'], `expected "${FORMAT}", got ${show(format)}`);
  if (raw.patches !== undefined && kernel !== undefined && kernel !== 'rfc-v4')
    report(['patches'], `patches apply only to kernel "rfc-v4" (this document's kernel is "${kernel}")`);
  if (vm) checkMemory(vm.memory, report);
  if (guest) checkGuest(guest, vm?.memory, report);
  const program = Array.isArray(raw.program) ? parseProgram(raw.program, check, report) : (field('program'), []);

  if (errors.length) return { ok: false, errors: sortByPosition(errors) };
  const { asm, hex, org, entry } = guest!;
  return {
    ok: true,
    scenario: {
      format: FORMAT,
      title: title!,
      ...(description !== undefined && { description }),
      kernel: kernel!,
      patches: kernel === 'rfc-v4' ? (patches ?? RFC_V4_PATCHES) : 0,
      host: host!,
      vm: vm!,
      guest: { ...(asm !== undefined ? { asm } : { hex: compactHex(hex!) }), org, entry: entry ?? org },
      program,
    },
  };
}

type Report = (path: JsonPath, message: string) => void;

const mib = (bytes: number) => `${bytes / (1 << 20)} MiB`;
const hex = (n: number) => `0x${n.toString(16)}`;
const compactHex = (s: string) => s.replace(/\s+/g, '').toLowerCase();

function checkMemory(ram: number, report: Report) {
  if (ram === 0 || ram > MAX_RAM) report(['vm', 'memory'], `expected 4 KiB to ${mib(MAX_RAM)}, got ${ram} bytes`);
  else if (ram % 4096) report(['vm', 'memory'], `expected a multiple of 4 KiB, got ${ram} bytes`);
}

function checkGuest(guest: z.output<typeof TOP_LEVEL.guest>, ram: number | undefined, report: Report) {
  if ((guest.asm === undefined) === (guest.hex === undefined)) {
    report(['guest'], 'give the guest code as exactly one of "asm" (assembly) or "hex" (bytes)');
    return;
  }
  const outside = (what: 'org' | 'entry', gpa: number) =>
    ram !== undefined && gpa >= ram && report(['guest', what], `${hex(gpa)} is outside guest RAM (${mib(ram)} from 0)`);
  outside('org', guest.org);
  if (typeof guest.entry === 'number') outside('entry', guest.entry);
  if (guest.hex !== undefined) {
    const bytes = compactHex(guest.hex);
    if (!/^([0-9a-f]{2})+$/.test(bytes)) report(['guest', 'hex'], 'expected pairs of hex digits, e.g. "f4" for hlt');
    else if (ram !== undefined && guest.org < ram && guest.org + bytes.length / 2 > ram)
      report(['guest', 'hex'], `${bytes.length / 2} bytes at ${hex(guest.org)} run past the end of guest RAM (${mib(ram)})`);
    if (typeof guest.entry === 'string') report(['guest', 'entry'], 'a label needs the code as "asm"');
  } else if (!guest.asm!.trim()) report(['guest', 'asm'], 'no guest code');
}

type Check = <T>(schema: z.ZodType<T>, value: unknown, base: JsonPath) => T | undefined;


/** Each op on its own, then the checks that follow the program's order: a vCPU fd must name a vCPU created earlier. */
function parseProgram(program: unknown[], check: Check, report: Report): Op[] {
  const created = new Set<number>();
  const ops: Op[] = [];
  program.forEach((raw, i) => {
    const base = ['program', i];
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return report(base, `expected an operation object, got ${show(raw)}`);
    const r = raw as Record<string, unknown>;
    if (typeof r.op !== 'string' || !Object.hasOwn(OPS, r.op)) {
      const known = Object.keys(OPS);
      const what = typeof r.op === 'string' ? `unknown op ${show(r.op)}${didYouMean(r.op, known)}` : `missing (expected one of ${known.join(', ')})`;
      return report([...base, 'op'], what);
    }
    const name = r.op as OpName;
    const op = check(opSchemas[name], r, base) as Record<string, unknown> | undefined;

    const fdOk = (fd: unknown, path: JsonPath, vmAllowed: boolean) => {
      if (typeof fd !== 'string') return;
      if (fd === 'vm') {
        if (!vmAllowed) report(path, `${IOCTL[name]} is a vCPU ioctl: expected "vcpuN"`);
        return;
      }
      const m = /^vcpu(\d+)$/.exec(fd);
      if (m && !created.has(Number(m[1]))) {
        const so_far = [...created].map((id) => `vcpu${id}`).join(', ');
        report(path, `no ${fd} was created${so_far ? ` (created so far: ${so_far})` : ' (no create_vcpu before this op)'}`);
      }
    };
    if (name === 'run_threads' && Array.isArray(r.fds)) {
      const fds: unknown[] = r.fds;
      fds.forEach((fd, j) => {
        fdOk(fd, [...base, 'fds', j], false);
        if (fds.indexOf(fd) !== j) report([...base, 'fds', j], `${show(fd)} is listed twice: one thread per vCPU`);
      });
    } else if (name !== 'check_extension' && name !== 'create_vcpu') fdOk(r.fd, [...base, 'fd'], name === 'enable_cap');

    if (name === 'create_vcpu' && Number.isInteger(r.id)) created.add(r.id as number);
    if (r.expect && typeof r.expect === 'object' && !Array.isArray(r.expect)) {
      const fields = [...COMMON_RESULTS, ...OPS[name].results];
      for (const k of Object.keys(r.expect))
        if (!fields.includes(k)) report([...base, 'expect', k], `not a field of the ${name} result${didYouMean(k, fields) || ` (its fields: ${fields.join(', ')})`}`);
    }

    let args: bigint | undefined;
    if (name === 'enable_cap' && op && typeof op.cap === 'number') {
      const cap = op.cap;
      args = check(capArgs(cap), r.args, [...base, 'args']);
    }
    if (op && (name !== 'enable_cap' || args !== undefined)) ops.push((name === 'enable_cap' ? { ...op, args } : op) as unknown as Op);
  });
  return ops;
}

/** A missing field has no place in the text: point at the object that should hold it. */
function nearest(path: JsonPath, at: (path: JsonPath) => Pos | undefined): Pos | undefined {
  for (let n = path.length - 1; n >= 0; n--) {
    const p = at(path.slice(0, n));
    if (p) return p;
  }
  return undefined;
}

function sortByPosition(errors: ScenarioError[]): ScenarioError[] {
  const key = (e: ScenarioError) => (e.pos ? e.pos.line * 1e6 + e.pos.col : Infinity);
  return errors.map((e, i) => ({ e, i })).sort((a, b) => key(a.e) - key(b.e) || a.i - b.i).map(({ e }) => e);
}
