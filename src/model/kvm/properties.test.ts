// Properties over random ioctl sequences (create_vcpu, KVM_ENABLE_CAP on the VM and on vCPUs with any
// mask, OVERRIDE included, KVM_SET_GUEST_DEBUG, KVM_RUN), in every variant: each vCPU's VMCS controls
// agree with the flags the kernel reads for it — except where the kernel itself leaves them apart
// (v5.19's late VM-scope enable: the controls keep the values of creation; RFC v4's pending request;
// the PAUSE-loop bit, fixed at creation), which is asserted exactly too. And a scenario run twice gives
// the same document.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as abi from '../../../wasm/src/abi';
import { loadCore } from '../cpu/node';
import { Simulator } from '../sim';
import { scenarioOf } from './test-scenario';

const KERNELS: { kernel: string; patches?: number }[] = [
  { kernel: 'v5.19' }, ...[0, 1, 2, 3, 4, 5, 6].map((patches) => ({ kernel: 'rfc-v4', patches })),
  { kernel: 'rfc-v6' }, { kernel: 'mainline' },
];
const EXITS = ['MWAIT', 'HLT', 'PAUSE', 'CSTATE'];
const GUEST = { hex: 'e680ebfc' }; // out 0x80, al; jmp $-2

const mask = fc.record({
  exits: fc.subarray(EXITS),
  override: fc.boolean(),
  junk: fc.constantFrom(null, '0x20'),
}).map(({ exits, override, junk }) => (junk ? junk : [...exits, ...(override ? ['OVERRIDE'] : [])]));

type Raw = { kind: 'create' } | { kind: 'vm'; args: unknown } | { kind: 'vcpu' | 'debug' | 'run'; which: number; args?: unknown };
const raw: fc.Arbitrary<Raw> = fc.oneof(
  fc.constant<Raw>({ kind: 'create' }),
  mask.map((args): Raw => ({ kind: 'vm', args })),
  fc.record({ which: fc.nat(2), args: mask }).map((r): Raw => ({ kind: 'vcpu', ...r })),
  fc.record({ which: fc.nat(2), args: fc.subarray(['ENABLE', 'SINGLESTEP', 'EXIT_USERSPACE']) }).map((r): Raw => ({ kind: 'debug', ...r })),
  fc.nat(2).map((which): Raw => ({ kind: 'run', which })),
);

/** Turns raw choices into a valid program: vCPU ops name a vCPU already created (else create one). */
function program(raws: Raw[]): unknown[] {
  let n = 0;
  return raws.map((r) => {
    if (r.kind === 'create' || (r.kind !== 'vm' && n === 0)) return n < 3 ? { op: 'create_vcpu', id: n++ } : { op: 'check_extension', cap: 'X86_DISABLE_EXITS' };
    if (r.kind === 'vm') return { op: 'enable_cap', fd: 'vm', cap: 'X86_DISABLE_EXITS', args: r.args };
    const fd = `vcpu${r.which % n}`;
    if (r.kind === 'vcpu') return { op: 'enable_cap', fd, cap: 'X86_DISABLE_EXITS', args: r.args };
    if (r.kind === 'debug') return { op: 'set_guest_debug', fd, control: r.args };
    return { op: 'run', fd, timeout_ns: 1e5 };
  });
}

const bit = (word: number, b: number) => (word & b) !== 0;

describe('properties', () => {
  test('VMCS controls agree with the flags the kernel reads (or with creation time, where the kernel never updates them)', async () => {
    const core = await loadCore();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KERNELS), fc.boolean(), fc.array(raw, { minLength: 1, maxLength: 12 }), async (k, mwait, raws) => {
        const sim = await Simulator.create(core, scenarioOf({ ...k, host: { mwait }, guest: GUEST, program: program(raws) }), { frames: false, events: false });
        const updates = k.kernel === 'rfc-v6' || (k.kernel === 'rfc-v4' && k.patches! >= 5);
        const atCreation: Record<number, { hlt: boolean; mwait: boolean; pause: boolean; cstate: boolean }> = {};
        while (!sim.done) {
          sim.step();
          for (const v of sim.inspectVcpus()) {
            atCreation[v.id] ??= { ...v.disabled };
            const [primary, secondary] = v.vmcs.map((c) => c.value);
            // The PAUSE-loop bit is set at creation and nothing ever changes it (5/7's hook included).
            expect(bit(secondary, abi.SECONDARY_EXEC_PAUSE_LOOP_EXITING)).toBe(!atCreation[v.id].pause);
            const pending = v.requests.includes('KVM_REQ_DISABLE_EXITS');
            if (!updates) expect(pending).toBe(false);
            // With 5/7 and 6/5 the controls follow the vCPU's flags once no request is pending; before
            // 5/7 they keep what the flags were at creation, whatever the flags read now.
            const want = updates ? (pending ? null : v.disabled) : atCreation[v.id];
            if (!want) continue;
            expect(bit(primary, abi.CPU_BASED_HLT_EXITING)).toBe(!want.hlt);
            expect(bit(primary, abi.CPU_BASED_MWAIT_EXITING)).toBe(!want.mwait);
            expect(bit(primary, abi.CPU_BASED_MONITOR_EXITING)).toBe(!want.mwait);
            expect(sim.core.msrIntercepted(v.id, abi.MSR_CORE_C3_RESIDENCY, false)).toBe(!want.cstate);
          }
        }
      }),
      { numRuns: 120 },
    );
  });

  test('a scenario gives the same document twice', async () => {
    const core = await loadCore();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KERNELS), fc.array(raw, { minLength: 1, maxLength: 10 }), async (k, raws) => {
        const doc = { ...k, guest: GUEST, program: program(raws) };
        const once = async () => {
          const sim = await Simulator.create(core, scenarioOf(doc));
          sim.runAll();
          return JSON.stringify({ r: sim.result(), e: sim.events }, (_, v) => (typeof v === 'bigint' ? String(v) : v));
        };
        expect(await once()).toBe(await once());
      }),
      { numRuns: 30 },
    );
  });
});
