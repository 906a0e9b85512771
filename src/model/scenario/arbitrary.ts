// fast-check generators of valid normalised scenarios, for the property tests of the parser, the
// document writer and the URL codec (test support only: nothing in the app imports this).
import fc from 'fast-check';
import { MAX_RAM, MAX_VCPUS } from '../../../wasm/src/abi';
import { REG_NAMES } from './types';
import { KERNELS, type Fd, type Op, type Scenario } from './types';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const regs = fc.dictionary(fc.constantFrom(...REG_NAMES), u64, { maxKeys: 4 });
const expect = fc.option(
  fc.oneof(fc.record({ ret: fc.integer({ min: -1, max: 3 }) }), fc.record({ errno: fc.constantFrom('EINVAL', 'EEXIST') })),
  { nil: undefined },
);

function opFor(fds: Fd[]): fc.Arbitrary<Op> {
  const fd = fc.constantFrom(...fds);
  const withExpect = <T extends Op>(a: fc.Arbitrary<T>) =>
    fc.tuple(a, expect).map(([op, e]) => (e && op.op !== 'run_threads' ? { ...op, expect: e } : op));
  return withExpect(
    fc.oneof(
      fc.record({ op: fc.constant('check_extension' as const), cap: fc.constantFrom(143, 195, 0, 9999) }),
      fc.record({
        op: fc.constant('enable_cap' as const), fd: fc.constantFrom<Fd>('vm', ...fds), cap: fc.constantFrom(143, 77),
        args: u64, args_more: fc.array(u64, { maxLength: 3 }), flags: fc.integer({ min: 0, max: 3 }),
      }),
      fc.record({ op: fc.constant('set_guest_debug' as const), fd, control: fc.integer({ min: 0, max: 0xffffffff }) }),
      fc.record(
        {
          op: fc.constant('run' as const), fd, timeout_ns: fc.oneof(fc.constant(1e9), fc.integer({ min: 1, max: 1e12 })),
          io_data: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }),
          mmio_data: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }),
        },
        { requiredKeys: ['op', 'fd', 'timeout_ns'] },
      ),
      fc.record({ op: fc.constant('run_threads' as const), fds: fc.shuffledSubarray(fds, { minLength: 1 }), for_ns: fc.integer({ min: 1, max: 1e9 }) }),
      fc.record({ op: fc.constantFrom('get_regs' as const, 'get_mp_state' as const, 'stats' as const), fd }),
      fc.record({ op: fc.constant('set_regs' as const), fd, regs }),
      fc.record({ op: fc.constant('interrupt' as const), fd, vector: fc.integer({ min: 0, max: 255 }) }),
    ) as fc.Arbitrary<Op>,
  );
}

const program: fc.Arbitrary<Op[]> = fc
  .uniqueArray(fc.integer({ min: 0, max: MAX_VCPUS - 1 }), { minLength: 1, maxLength: 4 })
  .chain((ids) =>
    fc.tuple(
      fc.tuple(...ids.map((id) => fc.option(regs, { nil: undefined }).map((r): Op => (r ? { op: 'create_vcpu', id, regs: r } : { op: 'create_vcpu', id })))),
      fc.array(opFor(ids.map((id) => `vcpu${id}` as Fd)), { maxLength: 6 }),
    ),
  )
  .map(([creates, rest]) => [...creates, ...rest]);

export const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    title: fc.string({ maxLength: 20 }),
    description: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    kernel: fc.constantFrom(...KERNELS),
    patches: fc.integer({ min: 0, max: 6 }),
    host: fc.record({
      vendor: fc.constant('intel' as const), mwait: fc.boolean(), smt_rsb: fc.boolean(), pcpus: fc.integer({ min: 1, max: 64 }),
      ghz: fc.double({ min: 0.01, max: 10, noNaN: true }), exit_cycles: fc.nat(5000), halt_poll_ns: fc.nat(1e6),
    }),
    vm: fc.record({ irqchip: fc.constantFrom('kernel' as const, 'userspace' as const), memory: fc.integer({ min: 1, max: MAX_RAM / 4096 }).map((p) => p * 4096) }),
    code: fc.oneof(
      fc.record({ asm: fc.constantFrom('hlt', 'sti\nhlt\n', 'start:\n  pause\n  jmp start\n') }),
      fc.record({ hex: fc.uint8Array({ minLength: 1, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex')) }),
    ),
    orgFrac: fc.double({ min: 0, max: 0.99, noNaN: true }),
    entry: fc.constantFrom('org', 'addr', 'label'),
    program,
  })
  .map(({ code, orgFrac, entry, patches, description, ...s }) => {
    const org = Math.floor((s.vm.memory - 16) * orgFrac);
    const label = 'asm' in code && code.asm.startsWith('start:');
    return {
      format: 'exitscope/1' as const,
      ...s,
      ...(description !== undefined && { description }),
      patches: s.kernel === 'rfc-v4' ? patches : 0,
      guest: { ...code, org, entry: entry === 'label' && label ? 'start' : entry === 'addr' ? org + 1 : org },
    };
  });
