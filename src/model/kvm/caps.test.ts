// Spec §2: KVM_CAP_X86_DISABLE_EXITS in every variant — KVM_CHECK_EXTENSION, VM and vCPU scope,
// sticky OR versus OVERRIDE, the 4/7 `&= MWAIT` typo, v4 5/7's request versus v6's direct update, the
// v5.19 inconsistency after a late VM-scope enable, the PAUSE toggle that leaves PLE alone — plus
// KVM_SET_GUEST_DEBUG's unchecked control word. Driven through scenarios.
import { describe, expect, test } from 'vitest';
import * as abi from '../../../wasm/src/abi';
import { runDoc, type Doc } from './test-scenario';

const GUEST = { asm: 'sti\nhlt\ncli\nout 0x80, al\n' };
const HLT_EXITING = abi.CPU_BASED_HLT_EXITING;

type V = { kernel: string; patches?: number; label: string };
const VARIANTS: V[] = [
  { kernel: 'v5.19', label: 'v5.19' },
  ...[0, 1, 2, 3, 4, 5, 6].map((p) => ({ kernel: 'rfc-v4', patches: p, label: `rfc-v4 p${p}` })),
  { kernel: 'rfc-v6', label: 'rfc-v6' },
  { kernel: 'mainline', label: 'mainline' },
];
const v4 = (v: V, from: number, to = 6) => v.kernel === 'rfc-v4' && v.patches! >= from && v.patches! <= to;
// The spec's tables, written out per variant (independently of variant.ts).
const rejectsAfterCreate = (v: V) => v4(v, 1, 4) || v.kernel === 'rfc-v6' || v.kernel === 'mainline';
const propagates = (v: V) => v4(v, 5);
const hasOverride = (v: V) => v4(v, 4) || v.kernel === 'rfc-v6';
const hasVcpuCap = (v: V) => v4(v, 5) || v.kernel === 'rfc-v6';
const rejectsMwait = (v: V) => v4(v, 3) || v.kernel === 'rfc-v6' || v.kernel === 'mainline';

function doc(v: V, program: unknown[], host: Record<string, unknown> = {}): Doc {
  return { kernel: v.kernel, ...(v.patches !== undefined ? { patches: v.patches } : {}), host, guest: GUEST, program };
}
const enableVm = (args: unknown, expect?: unknown) => ({ op: 'enable_cap', fd: 'vm', cap: 'KVM_CAP_X86_DISABLE_EXITS', args, ...(expect ? { expect } : {}) });
const enableVcpu = (id: number, args: unknown) => ({ op: 'enable_cap', fd: `vcpu${id}`, cap: 'KVM_CAP_X86_DISABLE_EXITS', args });
const primary = (vmcs: { primary: string }) => Number(vmcs.primary);

describe.each(VARIANTS)('$label', (v) => {
  test.each([true, false])('KVM_CHECK_EXTENSION with mwait=%s', async (mwait) => {
    const { steps } = await runDoc(doc(v, [{ op: 'check_extension', cap: 'KVM_CAP_X86_DISABLE_EXITS' }], { mwait }));
    // 0xF/0xE; mainline adds APERFMPERF (v6.17). OVERRIDE is never advertised (int truncation).
    const want = v.kernel === 'mainline' ? (mwait ? 0x1f : 0x1e) : mwait ? 0xf : 0xe;
    expect(steps[0].ret).toBe(want);
  });

  test('VM scope before vCPUs: accepted, sticky OR; a bit outside the valid set is -EINVAL', async () => {
    const { steps, doc: d } = await runDoc(doc(v, [
      enableVm(['HLT']), enableVm(['PAUSE']), enableVm('0x20'), { op: 'create_vcpu', id: 0 },
    ]));
    expect(steps.slice(0, 3).map((s) => s.errno)).toEqual([null, null, 'EINVAL']);
    expect(steps[2].ret).toBe(-1);
    expect(d.vm.disabled_exits).toMatchObject({ hlt: true, pause: true, mwait: false, cstate: false });
    // The vCPU created afterwards gets the controls from the flags.
    expect(primary(d.vcpus[0].vmcs) & HLT_EXITING).toBe(0);
    expect(Number(d.vcpus[0].vmcs.secondary) & abi.SECONDARY_EXEC_PAUSE_LOOP_EXITING).toBe(0);
  });

  test('cap->flags != 0 is -EINVAL on both fds', async () => {
    const { steps } = await runDoc(doc(v, [
      { ...enableVm(['HLT']), flags: 1 }, { op: 'create_vcpu', id: 0 }, { ...enableVcpu(0, ['HLT']), flags: 1 },
    ]));
    expect(steps[0].errno).toBe('EINVAL');
    expect(steps[2].errno).toBe('EINVAL');
  });

  test('VM scope after a vCPU exists', async () => {
    const { steps, doc: d, sim } = await runDoc(doc(v, [
      { op: 'create_vcpu', id: 0 },
      enableVm(hasOverride(v) ? ['HLT', 'OVERRIDE'] : ['HLT']),
    ]));
    const r = steps[1];
    const vcpu = sim.inspectVcpus()[0];
    if (rejectsAfterCreate(v)) {
      expect(r.errno).toBe('EINVAL');
      expect(r.reason).toMatch(/created_vcpus/);
      // The reason names where the rule comes from (independently of disable_exits.ts).
      expect(r.reason).toContain(v.kernel === 'rfc-v4' ? 'RFC v4 1/7' : v.kernel === 'rfc-v6' ? 'RFC v6 1/6' : 'commit 04cd8f8628d8');
      expect(d.vm.disabled_exits.hlt).toBe(false);
      expect(primary(d.vcpus[0].vmcs) & HLT_EXITING).toBe(HLT_EXITING);
    } else if (propagates(v)) {
      // v4 5/7: applied to the vCPU with a request; the VMCS changes at its next VM-entry.
      expect(r.ret).toBe(0);
      expect(d.vm.disabled_exits.hlt).toBe(true);
      expect(vcpu.disabled.hlt).toBe(true);
      expect(vcpu.requests).toContain('KVM_REQ_DISABLE_EXITS');
      expect(primary(d.vcpus[0].vmcs) & HLT_EXITING).toBe(HLT_EXITING);
    } else {
      // v5.19 (and p0): accepted, the flags change, the existing vCPU's VMCS does not.
      expect(r.ret).toBe(0);
      expect(d.vm.disabled_exits.hlt).toBe(true);
      expect(vcpu.scope).toBe('vm');
      expect(vcpu.disabled.hlt).toBe(true);
      expect(primary(d.vcpus[0].vmcs) & HLT_EXITING).toBe(HLT_EXITING);
    }
  });

  test('MWAIT on a host that cannot MWAIT in guest', async () => {
    const { steps, doc: d } = await runDoc(doc(v, [enableVm(['MWAIT'])], { mwait: false }));
    if (rejectsMwait(v)) expect(steps[0].errno).toBe('EINVAL');
    else {
      // Before 3/7 the bit is silently ignored.
      expect(steps[0].ret).toBe(0);
      expect(d.vm.disabled_exits.mwait).toBe(false);
    }
  });

  test('OVERRIDE re-enables an exit (4/7); elsewhere bit 63 is invalid', async () => {
    const { steps, doc: d } = await runDoc(doc(v, [enableVm(['HLT', 'PAUSE']), enableVm(['PAUSE', 'OVERRIDE'])]));
    if (hasOverride(v)) {
      expect(steps[1].ret).toBe(0);
      expect(d.vm.disabled_exits).toMatchObject({ hlt: false, pause: true });
    } else {
      expect(steps[1].errno).toBe('EINVAL');
      expect(d.vm.disabled_exits).toMatchObject({ hlt: true, pause: true });
    }
  });

  test('the 4/7 typo: on a host that cannot MWAIT, every accepted call changes nothing', async () => {
    const program = [enableVm(['HLT', 'OVERRIDE']), enableVm(['HLT']), { op: 'create_vcpu', id: 0 }];
    if (hasVcpuCap(v)) program.push(enableVcpu(0, ['PAUSE']));
    const { steps, doc: d } = await runDoc(doc(v, program, { mwait: false }));
    if (hasOverride(v)) {
      expect(steps[0].ret).toBe(0);
      expect(steps[1].ret).toBe(0);
      expect(d.vm.disabled_exits.hlt).toBe(false);
      if (hasVcpuCap(v)) {
        expect(steps[3].ret).toBe(0);
        expect(d.vcpus[0].disabled_exits.pause).toBe(false);
      }
      const macro = steps[1].frames!.flatMap((f) => f.calls).find((f) => f.fn === 'kvm_ioctl_disable_exits');
      expect(macro?.note).toMatch(/typo/);
    } else {
      expect(steps[0].errno).toBe('EINVAL');
      expect(steps[1].ret).toBe(0);
      expect(d.vm.disabled_exits.hlt).toBe(true);
    }
  });

  test('vCPU scope', async () => {
    const { steps, doc: d, sim } = await runDoc(doc(v, [
      { op: 'create_vcpu', id: 0 }, { op: 'create_vcpu', id: 1 },
      enableVcpu(1, hasOverride(v) ? ['HLT', 'OVERRIDE'] : ['HLT']),
      enableVcpu(1, '0x20'),
    ]));
    if (!hasVcpuCap(v)) {
      expect(steps[2].errno).toBe('EINVAL');
      expect(d.vcpus[1].disabled_exits.hlt).toBe(false);
      return;
    }
    expect(steps[2].ret).toBe(0);
    expect(steps[3].errno).toBe('EINVAL');
    expect(d.vcpus.map((x) => x.disabled_exits.hlt)).toEqual([false, true]);
    expect(d.vm.disabled_exits.hlt).toBe(false);
    const vcpu1 = sim.inspectVcpus()[1];
    if (v.kernel === 'rfc-v4') {
      // 5/7: KVM_REQ_DISABLE_EXITS; the VMCS still has HLT exiting until vcpu1 next enters.
      expect(vcpu1.requests).toContain('KVM_REQ_DISABLE_EXITS');
      expect(vcpu1.requestNotes.join()).toMatch(/next VM-entry/);
      expect(primary(d.vcpus[1].vmcs) & HLT_EXITING).toBe(HLT_EXITING);
    } else {
      // v6 5/6: the hook runs in the ioctl.
      expect(vcpu1.requests).not.toContain('KVM_REQ_DISABLE_EXITS');
      expect(primary(d.vcpus[1].vmcs) & HLT_EXITING).toBe(0);
      expect(vcpu1.vmcs[0].previous! & HLT_EXITING).toBe(HLT_EXITING);
    }
    expect(primary(d.vcpus[0].vmcs) & HLT_EXITING).toBe(HLT_EXITING);
  });

  test('KVM_SET_GUEST_DEBUG does not check the control word; without ENABLE it stores 0', async () => {
    const { steps, sim } = await runDoc(doc(v, [
      { op: 'check_extension', cap: 'KVM_CAP_SET_GUEST_DEBUG2' },
      { op: 'create_vcpu', id: 0 }, { op: 'create_vcpu', id: 1 },
      { op: 'set_guest_debug', fd: 'vcpu0', control: ['ENABLE', 'EXIT_USERSPACE'] },
      { op: 'set_guest_debug', fd: 'vcpu1', control: ['EXIT_USERSPACE'] },
    ]));
    expect(steps[0].ret).toBe(0x1f0003);
    expect(steps[3].ret).toBe(0);
    expect(steps[4].ret).toBe(0);
    expect(sim.inspectVcpus().map((x) => x.guestDebug)).toEqual([5, 0]);
  });
});

describe('v4 5/7 request and v6 5/6 direct update, at the next VM-entry', () => {
  test.each(['rfc-v4', 'rfc-v6'])('%s: the VMCS follows the vCPU flag once the vCPU runs', async (kernel) => {
    const { steps, doc: d } = await runDoc({
      kernel, guest: { asm: 'out 0x80, al\n' },
      program: [
        { op: 'create_vcpu', id: 0 },
        enableVcpu(0, ['HLT', 'MWAIT']),
        { op: 'run', fd: 'vcpu0' },
      ],
    });
    const frames = steps[2].frames!;
    const updates = JSON.stringify(frames).includes('vmx_update_disabled_exits');
    expect(updates).toBe(kernel === 'rfc-v4');
    const p = primary(d.vcpus[0].vmcs);
    expect(p & (HLT_EXITING | abi.CPU_BASED_MWAIT_EXITING | abi.CPU_BASED_MONITOR_EXITING)).toBe(0);
  });

  test('rfc-v4 p6: a VM-scope enable after creation reaches the vCPUs at their next entry, not before', async () => {
    const { steps, doc: d, sim } = await runDoc({
      kernel: 'rfc-v4', guest: { asm: 'out 0x80, al\nout 0x80, al\n' },
      program: [
        { op: 'create_vcpu', id: 0 }, { op: 'create_vcpu', id: 1 },
        enableVm(['HLT', 'OVERRIDE']),
        { op: 'run', fd: 'vcpu0' },
      ],
    });
    expect(steps[2].ret).toBe(0);
    expect(primary(d.vcpus[0].vmcs) & HLT_EXITING).toBe(0); // vcpu0 entered: updated
    expect(primary(d.vcpus[1].vmcs) & HLT_EXITING).toBe(HLT_EXITING); // vcpu1 has not run
    expect(sim.inspectVcpus()[0].requests).not.toContain('KVM_REQ_DISABLE_EXITS');
    expect(sim.inspectVcpus()[1].requests).toContain('KVM_REQ_DISABLE_EXITS');
  });
});

describe('PAUSE: the runtime toggle leaves SECONDARY_EXEC_PAUSE_LOOP_EXITING alone', () => {
  test.each(['rfc-v4', 'rfc-v6'])('%s', async (kernel) => {
    const { doc: d, sim } = await runDoc({
      kernel, guest: { asm: 'out 0x80, al\n' },
      program: [
        { op: 'create_vcpu', id: 0 },
        enableVcpu(0, ['PAUSE']),
        { op: 'run', fd: 'vcpu0' },
      ],
    });
    expect(d.vcpus[0].disabled_exits.pause).toBe(true);
    expect(Number(d.vcpus[0].vmcs.secondary) & abi.SECONDARY_EXEC_PAUSE_LOOP_EXITING).toBe(abi.SECONDARY_EXEC_PAUSE_LOOP_EXITING);
    expect(sim.inspectVcpus()[0].vmcs[1].bits.find((b) => b.name === 'SECONDARY_EXEC_PAUSE_LOOP_EXITING')).toMatchObject({ set: true, changed: false });
  });
});

describe('mainline', () => {
  test('mitigate_smt_rsb allows PAUSE only', async () => {
    const { steps } = await runDoc({
      kernel: 'mainline', host: { smt_rsb: true }, guest: GUEST,
      program: [{ op: 'check_extension', cap: 'X86_DISABLE_EXITS' }, enableVm(['HLT']), enableVm(['PAUSE'])],
    });
    expect(steps.map((s) => s.ret)).toEqual([0x14, -1, 0]);
  });

  test('APERFMPERF (v6.17): accepted, stored in disabled_exits, reads pass through for vCPUs created after', async () => {
    const { steps, doc: d } = await runDoc({
      kernel: 'mainline', guest: { asm: 'mov ecx, 0xe8\nrdmsr\nout 0x80, al\n' },
      program: [enableVm(['APERFMPERF']), { op: 'create_vcpu', id: 0 }, { op: 'run', fd: 'vcpu0' }],
    });
    expect(steps[0].ret).toBe(0);
    expect(d.vm.disabled_exits.aperfmperf).toBe(true);
    expect(steps[2].run?.exit_reason).toBe('KVM_EXIT_IO'); // RDMSR did not exit
    expect(d.vcpus[0].stats.exits).toBe(1);
  });
});
