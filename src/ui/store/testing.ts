// Views for the store's tests: the shape the worker sends, with made-up values where a test does
// not look (the page's logic is under test here, not the model).
import type { ExitFlags, LabView, VcpuView } from '../../model/worker/view';

export const NO_EXITS_DISABLED: ExitFlags = { mwait: false, hlt: false, pause: false, cstate: false };

export function vcpuView(id: number, over: Partial<VcpuView> = {}): VcpuView {
  return {
    id, fd: `vcpu${id}`, disabled: NO_EXITS_DISABLED, scope: 'vcpu', requests: [], requestNotes: [], guestDebug: 0, guestDebugNames: [],
    mpState: 'KVM_MP_STATE_RUNNABLE', activity: 'userspace', inKvmRun: false, regs: {}, stats: {}, vmcs: [], pleWindow: 0,
    haltPollNs: 0, exits: 0, clockNs: 0, apic: null, disasm: [],
    ...over,
  };
}

export function labView(over: Partial<LabView> = {}): LabView {
  return {
    title: 'test', kernel: 'rfc-v4', patches: 6, variantLabel: 'rfc-v4 (patches 1-6)', next: 0, inProgress: null, total: 2, done: false,
    vm: {
      disabled: NO_EXITS_DISABLED, createdVcpus: 1, irqchip: 'kernel', allowedExits: [], override: true, vcpuCap: true, exitUserspace: true,
      disabledQuirks: [], maxHaltPollNs: 200000,
    },
    vcpus: [vcpuView(0)], results: [], frames: null, now: 0,
    ...over,
  };
}
