// The exitscope/1 document (spec/scenario-format.md) as zod schemas. Each schema validates one
// part and yields its normalised form (names resolved, sizes in bytes, defaults filled in); the
// checks that need the whole document (does vcpu7 exist yet? patches with this kernel?) are in
// parse.ts. The defaults here are exactly the format's table.
import { z } from 'zod';
import { MAX_VCPUS } from '../../../wasm/src/abi';
import type { RegName } from '../cpu/core';
import { KVM_CAP, KVM_GUESTDBG, KVM_X86_DISABLE_EXITS, PAGE_SIZE } from '../kvm/uapi';
import { DEFAULT_HOST, DEFAULT_MEMORY, DEFAULT_ORG, DEFAULT_RUN_TIMEOUT_NS, KERNELS, REG_NAMES, RFC_V4_PATCHES, type Fd } from './types';
import { didYouMean } from './suggest';
import { bytes, err, intIn, mask, named, posNumber, safeU64, size, u64, uint } from './values';


/** An object that names every unknown field (with a suggestion) while still checking the known ones. */
export function strict<S extends z.ZodRawShape>(shape: S) {
  return z.looseObject(shape).check(
    z.superRefine(
      (v: Record<string, unknown>, ctx) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
        for (const k of Object.keys(v)) {
          if (!Object.hasOwn(shape, k))
            ctx.issues.push({ code: 'custom', input: v[k], path: [k], message: `unknown field "${k}"${didYouMean(k, Object.keys(shape))}` });
        }
      },
      { when: () => true },
    ),
  ) as unknown as z.ZodObject<S>;
}

const bool = z.boolean({ error: 'expected true or false' });

export const hostSchema = strict({
  vendor: z.literal('intel', { error: 'only "intel" (VMX) is modelled' }).default('intel'),
  mwait: bool.default(DEFAULT_HOST.mwait),
  smt_rsb: bool.default(DEFAULT_HOST.smt_rsb),
  pcpus: intIn(1, 4096).default(DEFAULT_HOST.pcpus),
  ghz: posNumber.default(DEFAULT_HOST.ghz),
  exit_cycles: uint().default(DEFAULT_HOST.exit_cycles),
  halt_poll_ns: uint().default(DEFAULT_HOST.halt_poll_ns),
}).prefault({});

export const vmSchema = strict({
  irqchip: z.enum(['kernel', 'userspace']).default('kernel'),
  memory: size.default(DEFAULT_MEMORY),
}).prefault({});

export const guestSchema = strict({
  asm: z.string({ error: 'expected the guest code as a string' }).optional(),
  hex: z.string({ error: 'expected the guest code as a string of hex bytes' }).optional(),
  org: safeU64.default(DEFAULT_ORG),
  entry: z.union([z.string().regex(/^[A-Za-z_.$][\w.$]*$/), safeU64], { error: 'expected a label or an address' }).optional(),
});

/** The document's top-level fields; `program` is read op by op in parse.ts, so one bad op hides no other. */
export const TOP_LEVEL = {
  format: z.string(err('expected "exitscope/1"')),
  title: z.string({ error: 'expected a string' }).default(''),
  description: z.string({ error: 'expected a string' }).optional(),
  kernel: z.enum(KERNELS).default('rfc-v4'),
  patches: intIn(0, RFC_V4_PATCHES).optional(),
  host: hostSchema,
  vm: vmSchema,
  guest: guestSchema,
  program: z.array(z.unknown(), { error: 'expected an array of operations' }).default([]),
};

const fd = z.string().regex(/^(vm|vcpu(0|[1-9]\d*))$/, { error: 'expected "vm" or "vcpuN"' }).transform((s) => s as Fd);
const expect = z.record(z.string(), z.unknown(), { error: 'expected an object to match against the result' }).optional();
const regs = strict(Object.fromEntries(REG_NAMES.map((r) => [r, u64.optional()])) as Record<RegName, z.ZodOptional<typeof u64>>)
  .transform((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Partial<Record<RegName, bigint>>);

/** The fields every op's result has (src/model/sim/result.ts), besides the op's own below. */
export const COMMON_RESULTS = ['index', 'op', 'fd', 't_ns', 'ret', 'errno', 'reason', 'frames', 'blocked'];

/** Each op's fields (its `op` and `expect` included) and the fields of its own result that `expect` may name. */
export const OPS = {
  check_extension: { fields: { cap: named(KVM_CAP, 'capability') }, results: [] },
  create_vcpu: { fields: { id: intIn(0, MAX_VCPUS - 1), regs: regs.optional() }, results: [] },
  enable_cap: {
    fields: {
      fd,
      cap: named(KVM_CAP, 'capability'),
      args: z.unknown().optional(), // checked in parse.ts: which names it takes depends on the cap
      args_more: z.array(u64, { error: 'expected an array of up to 3 numbers' }).max(3, { error: 'args_more holds args[1..3]: at most 3 numbers' }).default([]),
      flags: intIn(0, 0xffffffff).default(0),
    },
    results: [],
  },
  set_guest_debug: { fields: { fd, control: mask(KVM_GUESTDBG, 'guest-debug flag').transform(Number) }, results: [] },
  run: {
    fields: {
      fd, timeout_ns: posNumber.default(DEFAULT_RUN_TIMEOUT_NS),
      // Extension (docs/scenario-format-extensions.md): what the program writes into kvm_run first.
      io_data: bytes(PAGE_SIZE).optional(),
      mmio_data: bytes(8).optional(),
    },
    results: ['run'],
  },
  run_threads: {
    fields: { fds: z.array(fd, { error: 'expected an array of vCPU fds' }).min(1, { error: 'name at least one vCPU' }), for_ns: posNumber },
    results: ['threads', 'in_kvm_run'],
  },
  get_regs: { fields: { fd }, results: ['regs'] },
  set_regs: { fields: { fd, regs }, results: ['regs'] },
  get_mp_state: { fields: { fd }, results: ['mp_state'] },
  interrupt: { fields: { fd, vector: intIn(0, 255) }, results: [] },
  stats: { fields: { fd }, results: ['stats'] },
} as const;
export type OpName = keyof typeof OPS;

/** The ioctl each op issues, by its kernel name. */
export const IOCTL: Record<OpName, string> = {
  check_extension: 'KVM_CHECK_EXTENSION', create_vcpu: 'KVM_CREATE_VCPU', enable_cap: 'KVM_ENABLE_CAP',
  set_guest_debug: 'KVM_SET_GUEST_DEBUG', run: 'KVM_RUN', run_threads: 'KVM_RUN', get_regs: 'KVM_GET_REGS',
  set_regs: 'KVM_SET_REGS', get_mp_state: 'KVM_GET_MP_STATE', interrupt: 'KVM_INTERRUPT', stats: 'KVM_GET_STATS_FD',
};

export const opSchemas = Object.fromEntries(
  Object.entries(OPS).map(([name, { fields }]) => [name, strict({ op: z.literal(name), expect, ...fields })]),
) as unknown as { [K in OpName]: z.ZodType };

/** args[0] of KVM_ENABLE_CAP: exit names for KVM_CAP_X86_DISABLE_EXITS, numbers for any other cap. */
export const capArgs = (cap: number) =>
  cap === KVM_CAP.byName.get('X86_DISABLE_EXITS') ? mask(KVM_X86_DISABLE_EXITS, 'exit') : mask(undefined, 'cap argument');
