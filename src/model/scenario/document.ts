// The way back: a normalised Scenario as the shortest readable exitscope/1 document, so that the
// lab can save and share what a person edited. Defaults are left out (the kernel is always written:
// it is what the document is about), constants are written by name, masks as arrays of names,
// registers as "0x…". parseScenario(toDocument(s)) gives s again.
import { KVM_CAP, KVM_GUESTDBG, KVM_X86_DISABLE_EXITS, type ConstTable } from '../kvm/uapi';
import { DEFAULT_HOST, DEFAULT_MEMORY, DEFAULT_ORG, DEFAULT_RUN_TIMEOUT_NS, REG_NAMES, RFC_V4_PATCHES, type Op, type Scenario } from './types';

/** A JSON value as the document holds it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type ScenarioDocument = { format: 'exitscope/1' } & { [key: string]: Json };

const hex = (n: bigint | number) => `0x${n.toString(16)}`;

export function toDocument(s: Scenario): ScenarioDocument {
  const doc: ScenarioDocument = { format: s.format };
  if (s.title) doc.title = s.title;
  if (s.description !== undefined) doc.description = s.description;
  doc.kernel = s.kernel;
  if (s.kernel === 'rfc-v4' && s.patches !== RFC_V4_PATCHES) doc.patches = s.patches;

  const host = changed(s.host, DEFAULT_HOST);
  if (host) doc.host = host;
  const vm = changed({ irqchip: s.vm.irqchip, memory: s.vm.memory }, { irqchip: 'kernel', memory: DEFAULT_MEMORY });
  if (vm) doc.vm = { ...vm, ...('memory' in vm && { memory: size(s.vm.memory) }) };

  const guest: Record<string, Json> = s.guest.asm !== undefined ? { asm: s.guest.asm } : { hex: s.guest.hex ?? '' };
  if (s.guest.org !== DEFAULT_ORG) guest.org = hex(s.guest.org);
  if (s.guest.entry !== s.guest.org) guest.entry = typeof s.guest.entry === 'string' ? s.guest.entry : hex(s.guest.entry);
  doc.guest = guest;

  doc.program = s.program.map(opDocument);
  return doc;
}

/** The fields of `value` that differ from `defaults`, or undefined when none do. */
function changed<T extends object>(value: T, defaults: T): { [key: string]: Json } | undefined {
  const out: { [key: string]: Json } = {};
  for (const k of Object.keys(value) as (keyof T & string)[]) if (value[k] !== defaults[k]) out[k] = value[k] as Json;
  return Object.keys(out).length ? out : undefined;
}

/** "4M" when a whole number of MiB, "512K" when of KiB (memory is always a multiple of 4 KiB). */
function size(bytes: number): string {
  return bytes % (1 << 20) === 0 ? `${bytes >> 20}M` : `${bytes >> 10}K`;
}

/** A mask as its names when every set bit has one (`["HLT", "OVERRIDE"]`), else as "0x…". */
function maskDoc(mask: bigint, table: ConstTable<number> | ConstTable<bigint>): Json {
  const names = (table as ConstTable<bigint>).flagNames(mask); // flagNames works in bigint for either table
  if (names.some((n) => n.startsWith('0x'))) return hex(mask);
  return names.map((n) => n.slice(table.prefix.length));
}

function opDocument(op: Op): Json {
  const out: Record<string, Json> = { op: op.op };
  switch (op.op) {
    case 'check_extension':
      out.cap = capName(op.cap);
      break;
    case 'create_vcpu':
      out.id = op.id;
      if (op.regs) out.regs = regsDoc(op.regs);
      break;
    case 'enable_cap':
      out.fd = op.fd;
      out.cap = capName(op.cap);
      out.args = op.cap === KVM_CAP.byName.get('X86_DISABLE_EXITS') ? maskDoc(op.args, KVM_X86_DISABLE_EXITS) : hex(op.args);
      if (op.args_more.length) out.args_more = op.args_more.map(hex);
      if (op.flags) out.flags = op.flags;
      break;
    case 'set_guest_debug':
      out.fd = op.fd;
      out.control = maskDoc(BigInt(op.control), KVM_GUESTDBG);
      break;
    case 'run':
      out.fd = op.fd;
      if (op.timeout_ns !== DEFAULT_RUN_TIMEOUT_NS) out.timeout_ns = op.timeout_ns;
      if (op.io_data) out.io_data = op.io_data;
      if (op.mmio_data) out.mmio_data = op.mmio_data;
      break;
    case 'run_threads':
      out.fds = op.fds;
      out.for_ns = op.for_ns;
      break;
    case 'set_regs':
      out.fd = op.fd;
      out.regs = regsDoc(op.regs);
      break;
    case 'interrupt':
      out.fd = op.fd;
      out.vector = op.vector;
      break;
    default:
      out.fd = op.fd;
  }
  if (op.expect) out.expect = op.expect as Json;
  return out;
}

const capName = (cap: number): Json => (KVM_CAP as ConstTable<number>).name(cap) ?? cap;

function regsDoc(regs: Partial<Record<string, bigint>>): Json {
  const out: Record<string, Json> = {};
  for (const r of REG_NAMES) if (regs[r] !== undefined) out[r] = hex(regs[r]);
  return out;
}

/**
 * JSON text for people: two-space indentation, but any object or array that fits on its line is
 * written on one line (`{ "op": "create_vcpu", "id": 0 }`), as one would write it by hand.
 */
export function stringifyDocument(value: Json, width = 100): string {
  const inline = (v: Json): string => {
    if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
    if (v !== null && typeof v === 'object') {
      const body = Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${inline(x)}`).join(', ');
      return body ? `{ ${body} }` : '{}';
    }
    return JSON.stringify(v);
  };
  const block = (v: Json, indent: string, prefix: string): string => {
    const one = inline(v);
    if (indent.length + prefix.length + one.length <= width || v === null || typeof v !== 'object') return prefix + one;
    const inner = indent + '  ';
    const items = Array.isArray(v)
      ? v.map((x) => block(x, inner, ''))
      : Object.entries(v).map(([k, x]) => block(x, inner, `${JSON.stringify(k)}: `));
    const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
    return `${prefix}${open}\n${items.map((s) => inner + s).join(',\n')}\n${indent}${close}`;
  };
  return block(value, '', '') + '\n';
}
