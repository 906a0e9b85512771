// KVM_CAP_X86_DISABLE_EXITS, kernel by kernel and patch by patch (spec/kvm-semantics.md §2): what
// KVM_CHECK_EXTENSION offers, which KVM_ENABLE_CAP calls return 0 or -EINVAL, and what a vCPU then
// does on HLT. With a userspace irqchip a HLT that still exits returns KVM_EXIT_HLT at once, and
// one that no longer exits halts inside the guest, so KVM_RUN does not return: the two outcomes
// are easy to tell apart.
import { einval, entry, exitTo, ok, op, stillInKvm, type GalleryEntry } from './build';

const HLT = 'hlt\n';
const USERSPACE_IRQCHIP = { irqchip: 'userspace' };
const NO_MWAIT = { mwait: false };
const OUT_OF_RANGE = '0x10'; // bit 4: APERFMPERF, valid only in mainline ≥ v6.17
const exitsOnHlt = exitTo('KVM_EXIT_HLT');
const MWAIT_THEN_OUT = [
  '    mov eax, 0x30000                  ; MONITOR the cache line at 0x30000',
  '    xor ecx, ecx',
  '    xor edx, edx',
  '    monitor',
  '    mwait',
  '    out 0x80, al                      ; reached only if MWAIT did not wait',
  '',
].join('\n');

// Experiments run unchanged on more than one kernel.
/** HLT, then PAUSE, at VM scope: the second call cannot clear HLT, so the vCPU halts in the guest. */
const STICKY_OR = [
  op.disable('vm', ['HLT'], ok),
  op.disable('vm', ['PAUSE'], ok),
  op.create(0),
  op.run('vcpu0', stillInKvm, 2_000_000),
];
/** A vCPU-scope HLT disable that returns 0 and changes nothing (on a host without MWAIT in guest). */
const VCPU_HLT_NOOP = [
  op.create(0),
  op.disable('vcpu0', ['HLT'], ok),
  op.run('vcpu0', exitsOnHlt),
];

export const CAP_SCENARIOS: GalleryEntry[] = [
  // ---- 2.a: v5.19, before the series ----
  entry({
    id: 'v519-check-extension',
    covers: ['2.a check', '2.a vm-invalid', '2.a vcpu-fd'],
    title: 'v5.19: what the capability offers, and where it is refused',
    description:
      'KVM_CHECK_EXTENSION returns the mask of exits that may be disabled, 0xf on a host that can MWAIT in a guest. Bits outside it give -EINVAL, and so does any call on a vCPU fd: kvm_vcpu_ioctl_enable_cap() has no case for this capability.',
    kernel: 'v5.19',
    asm: HLT,
    program: [
      op.check('KVM_CAP_X86_DISABLE_EXITS', { ret: 0xf }),
      op.disable('vm', OUT_OF_RANGE, einval),
      op.create(0),
      op.disable('vcpu0', ['HLT'], einval),
    ],
  }),
  entry({
    id: 'v519-mwait-ignored',
    covers: ['2.a check', '2.a vm-valid'],
    title: 'v5.19: MWAIT silently ignored on a host that cannot MWAIT in a guest',
    description:
      'Without kvm_can_mwait_in_guest() the offered mask is 0xe, yet asking for MWAIT still returns 0: the bit is dropped without a word. The vCPU keeps exiting on MWAIT, which KVM emulates as a NOP, so the guest runs straight on to its OUT.',
    kernel: 'v5.19',
    host: NO_MWAIT,
    asm: MWAIT_THEN_OUT,
    program: [
      op.check('KVM_CAP_X86_DISABLE_EXITS', { ret: 0xe }),
      op.disable('vm', ['MWAIT'], ok),
      op.create(0),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { port: 0x80 } })),
    ],
  }),
  entry({
    id: 'v519-sticky',
    covers: ['2.a vm-valid'],
    title: 'v5.19: disabled exits cannot be enabled again',
    description:
      'Each call ORs its bits into the VM\'s flags, so asking for PAUSE after HLT leaves HLT disabled: there is no way to say "exit again". The vCPU created afterwards halts inside the guest and KVM_RUN does not return.',
    kernel: 'v5.19',
    vm: USERSPACE_IRQCHIP,
    asm: HLT,
    program: STICKY_OR,
  }),
  entry({
    id: 'v519-after-create',
    covers: ['2.a vm-after-create'],
    title: 'v5.19: disabling after vCPU creation splits the VM',
    description:
      'Before the series nothing stops a VM-scope call after KVM_CREATE_VCPU: it returns 0, but the VMCS of vCPU 0 was set up at creation and keeps HLT exiting. vCPU 1, created afterwards, gets the new setting, which Sean called "broken and useless".',
    kernel: 'v5.19',
    vm: USERSPACE_IRQCHIP,
    asm: HLT,
    program: [
      op.create(0),
      op.disable('vm', ['HLT'], ok),
      op.create(1),
      op.run('vcpu0', exitsOnHlt),
      op.run('vcpu1', stillInKvm, 2_000_000),
    ],
  }),

  // ---- 2.b: RFC v4, patch by patch ----
  entry({
    id: 'v4-1-only-before-vcpus',
    covers: ['2.b 1/7 vm-invalid', '2.b 1/7 vm-before', '2.b 1/7 vm-after', '2.b 1/7 vcpu-fd'],
    title: 'RFC v4 1/7: the VM-scope cap only before any vCPU exists',
    description:
      'Patch 1/7 checks kvm->created_vcpus under kvm->lock and refuses with -EINVAL once a vCPU exists; invalid bits are still refused first. The refused call changes nothing, so vCPU 0 keeps exiting on HLT.',
    kernel: 'rfc-v4',
    patches: 1,
    vm: USERSPACE_IRQCHIP,
    asm: HLT,
    program: [
      op.disable('vm', OUT_OF_RANGE, einval),
      op.disable('vm', ['PAUSE'], ok),
      op.create(0),
      op.disable('vm', ['HLT'], einval),
      op.disable('vcpu0', ['HLT'], einval),
      op.run('vcpu0', exitsOnHlt),
    ],
  }),
  entry({
    id: 'v4-2-per-vcpu-copy',
    covers: ['2.b 2/7 no-abi-change'],
    title: 'RFC v4 2/7: each vCPU copies the VM\'s flags when it is created',
    description:
      'Patch 2/7 moves hlt_in_guest and its siblings into struct kvm_vcpu_arch, copied from the VM at kvm_arch_vcpu_create(), with no change to the ABI. A VM-scope HLT disable before creation therefore reaches every vCPU, and one after creation is still refused.',
    kernel: 'rfc-v4',
    patches: 2,
    vm: USERSPACE_IRQCHIP,
    asm: HLT,
    program: [
      op.disable('vm', ['HLT'], ok),
      op.create(0),
      op.create(1),
      op.disable('vm', ['PAUSE'], einval),
      op.run('vcpu1', stillInKvm, 2_000_000),
    ],
  }),
  entry({
    id: 'v4-3-reject-mwait',
    covers: ['2.b 3/7 vm-disallowed', '2.b 3/7 vm-before', '2.b 3/7 vm-after', '2.b 3/7 vcpu-fd'],
    title: 'RFC v4 3/7: MWAIT is refused where it cannot be honoured',
    description:
      'kvm_get_allowed_disable_exits() leaves MWAIT out on a host that cannot MWAIT in a guest, so asking for it now gives -EINVAL instead of being ignored. Allowed bits still work before vCPU creation and are still refused after it.',
    kernel: 'rfc-v4',
    patches: 3,
    host: NO_MWAIT,
    asm: HLT,
    program: [
      op.check('KVM_CAP_X86_DISABLE_EXITS', { ret: 0xe }),
      op.disable('vm', ['MWAIT'], einval),
      op.disable('vm', ['HLT'], ok),
      op.create(0),
      op.disable('vm', ['PAUSE'], einval),
      op.disable('vcpu0', ['HLT'], einval),
    ],
  }),
  entry({
    id: 'v4-4-override',
    covers: ['2.b 4/7 vm-invalid', '2.b 4/7 vm-or', '2.b 4/7 vm-override', '2.b 4/7 vm-after', '2.b 4/7 vcpu-fd'],
    title: 'RFC v4 4/7: OVERRIDE re-enables an exit',
    description:
      'Without KVM_X86_DISABLE_EXITS_OVERRIDE each bit still only disables; with it the flags are assigned from the mask, so a 0 bit turns the exit back on. Here HLT is disabled and then re-enabled, and the vCPU exits on HLT again (CHECK_EXTENSION does not advertise bit 63).',
    kernel: 'rfc-v4',
    patches: 4,
    vm: USERSPACE_IRQCHIP,
    asm: HLT,
    program: [
      op.check('KVM_CAP_X86_DISABLE_EXITS', { ret: 0xf }),
      op.disable('vm', OUT_OF_RANGE, einval),
      op.disable('vm', ['HLT', 'PAUSE'], ok),
      op.disable('vm', ['PAUSE', 'OVERRIDE'], ok),
      op.create(0),
      op.disable('vm', ['HLT', 'OVERRIDE'], einval),
      op.disable('vcpu0', ['HLT'], einval),
      op.run('vcpu0', exitsOnHlt),
    ],
  }),
  entry({
    id: 'v4-4-mwait-typo',
    covers: ['2.b 4/7 no-mwait-noop'],
    title: 'RFC v4 4/7: the `&= MWAIT` typo makes every call a no-op without MWAIT',
    description:
      'kvm_ioctl_disable_exits() means to drop MWAIT on hosts that cannot MWAIT in a guest but writes `mask &= KVM_X86_DISABLE_EXITS_MWAIT`, which keeps only that bit and so clears HLT too. The call returns 0 and the vCPU still exits on HLT; the typo survived through v6.',
    kernel: 'rfc-v4',
    patches: 4,
    host: NO_MWAIT,
    vm: USERSPACE_IRQCHIP,
    asm: HLT,
    program: [
      op.disable('vm', ['HLT'], ok),
      op.create(0),
      op.run('vcpu0', exitsOnHlt),
    ],
  }),
  entry({
    id: 'v4-5-vcpu-scope',
    covers: ['2.b 5/7 vcpu', '2.b 5/7 vm-before'],
    title: 'RFC v4 5/7: HLT exits disabled on one vCPU only',
    description:
      'Patch 5/7 accepts the capability on a vCPU fd, applies it to that vCPU\'s flags and queues KVM_REQ_DISABLE_EXITS, which rewrites its VMCS at the next entry. vCPU 0 keeps exiting on HLT while vCPU 1 halts inside the guest.',
    kernel: 'rfc-v4',
    patches: 5,
    vm: USERSPACE_IRQCHIP,
    asm: HLT,
    program: [
      op.disable('vm', ['PAUSE'], ok),
      op.create(0),
      op.create(1),
      op.disable('vcpu1', ['HLT'], ok),
      op.run('vcpu0', exitsOnHlt),
      op.run('vcpu1', stillInKvm, 2_000_000),
    ],
  }),
  entry({
    id: 'v4-5-reenable-needs-override',
    covers: ['2.b 5/7 vcpu'],
    title: 'RFC v4 5/7: only OVERRIDE turns a vCPU\'s exit back on',
    description:
      'Both vCPUs disable HLT exits on their own fds. A second call without OVERRIDE changes nothing on vCPU 0, while OVERRIDE with a clear HLT bit makes vCPU 1 exit on HLT again.',
    kernel: 'rfc-v4',
    patches: 5,
    vm: USERSPACE_IRQCHIP,
    asm: HLT,
    program: [
      op.create(0),
      op.create(1),
      op.disable('vcpu0', ['HLT'], ok),
      op.disable('vcpu1', ['HLT'], ok),
      op.disable('vcpu0', [], ok),
      op.disable('vcpu1', ['OVERRIDE'], ok),
      op.run('vcpu1', exitsOnHlt),
      op.run('vcpu0', stillInKvm, 2_000_000),
    ],
  }),
  entry({
    id: 'v4-5-vm-after-create',
    covers: ['2.b 5/7 vm-after'],
    title: 'RFC v4 5/7: a VM-scope call after creation reaches every vCPU',
    description:
      'Patch 5/7 drops the check from 1/7: the VM-scope call applies the mask to each existing vCPU, queues KVM_REQ_DISABLE_EXITS on it and then updates the VM\'s template for later vCPUs. Both vCPUs halt inside the guest; Sean later retracted the request and brought the check back.',
    kernel: 'rfc-v4',
    patches: 5,
    vm: USERSPACE_IRQCHIP,
    asm: HLT,
    program: [
      op.create(0),
      op.disable('vm', ['HLT'], ok),
      op.create(1),
      op.run('vcpu0', stillInKvm, 2_000_000),
      op.run('vcpu1', stillInKvm, 2_000_000),
    ],
  }),
  entry({
    id: 'v4-5-refusals',
    covers: ['2.b 5/7 vm-invalid', '2.b 5/7 vcpu-invalid', '2.b 5/7 flags'],
    title: 'RFC v4 5/7: what the vCPU-scope cap still refuses',
    description:
      'Bits outside kvm_get_allowed_disable_exits() give -EINVAL at either scope. Every KVM_ENABLE_CAP also insists on cap->flags being 0.',
    kernel: 'rfc-v4',
    patches: 5,
    asm: HLT,
    program: [
      op.disable('vm', OUT_OF_RANGE, einval),
      op.create(0),
      op.disable('vcpu0', OUT_OF_RANGE, einval),
      { op: 'enable_cap', fd: 'vcpu0', cap: 'KVM_CAP_X86_DISABLE_EXITS', args: ['HLT'], flags: 1, expect: einval },
      { op: 'enable_cap', fd: 'vm', cap: 'KVM_CAP_X86_DISABLE_EXITS', args: ['HLT'], flags: 1, expect: einval },
    ],
  }),
  entry({
    id: 'v4-5-mwait-typo-vcpu',
    covers: ['2.b 5/7 no-mwait-noop'],
    title: 'RFC v4 5/7: the MWAIT typo hits the vCPU scope too',
    description:
      'The vCPU path uses the same kvm_ioctl_disable_exits() macro, so on a host that cannot MWAIT in a guest it also clears the whole mask. The call returns 0 and the vCPU exits on HLT as before.',
    kernel: 'rfc-v4',
    patches: 5,
    host: NO_MWAIT,
    vm: USERSPACE_IRQCHIP,
    asm: HLT,
    program: VCPU_HLT_NOOP,
  }),
  entry({
    id: 'v4-6-needs-enable',
    covers: ['2.b 6/7 needs-enable'],
    title: 'RFC v4 6/7: EXIT_USERSPACE does nothing without ENABLE',
    description:
      'kvm_arch_vcpu_ioctl_set_guest_debug() stores the control word only when KVM_GUESTDBG_ENABLE is set, and zeroes it otherwise; no bit is validated. So the ioctl succeeds, the flag is gone, and the HLT sleeps inside KVM_RUN as in H1.',
    kernel: 'rfc-v4',
    patches: 6,
    asm: HLT,
    program: [
      op.create(0),
      op.debug('vcpu0', ['EXIT_USERSPACE'], ok),
      op.run('vcpu0', stillInKvm, 2_000_000),
    ],
  }),

  // ---- 2.c: RFC v5/v6 ----
  entry({
    id: 'v6-vcpu-scope',
    covers: ['2.c vm-after', '2.c vcpu'],
    title: 'RFC v6: vCPU scope without a request, VM scope before creation only',
    description:
      'v6 keeps patch 1\'s rule, so the VM-scope call after KVM_CREATE_VCPU is refused again, and the vCPU-scope call updates that vCPU\'s VMCS at once (vCPU ioctls run with the vCPU loaded). vCPU 1 stops exiting on HLT, vCPU 0 does not.',
    kernel: 'rfc-v6',
    vm: USERSPACE_IRQCHIP,
    asm: HLT,
    program: [
      op.create(0),
      op.create(1),
      op.disable('vm', ['HLT'], einval),
      op.disable('vcpu1', ['HLT'], ok),
      op.run('vcpu0', exitsOnHlt),
      op.run('vcpu1', stillInKvm, 2_000_000),
    ],
  }),
  entry({
    id: 'v6-mwait-typo',
    covers: ['2.c typo'],
    title: 'RFC v6: the MWAIT typo is still there',
    description:
      'Review pointed at the `&= MWAIT` line (Chao Gao asked for it to go or become a WARN_ON_ONCE), but v6 still has it. On a host that cannot MWAIT in a guest the vCPU-scope HLT disable returns 0 and changes nothing.',
    kernel: 'rfc-v6',
    host: NO_MWAIT,
    vm: USERSPACE_IRQCHIP,
    asm: HLT,
    program: VCPU_HLT_NOOP,
  }),
  entry({
    id: 'v6-no-exit-userspace',
    covers: ['2.c no-guestdbg'],
    title: 'RFC v6: the guest-debug exit flag is gone',
    description:
      'Sean asked for 6/7 to be dropped, and v5/v6 have no KVM_GUESTDBG_EXIT_USERSPACE. x86 does not validate guest-debug bits, so setting 0x4 still returns 0, but nothing reads it: the HLT sleeps inside KVM_RUN.',
    kernel: 'rfc-v6',
    asm: HLT,
    program: [
      op.create(0),
      op.debug('vcpu0', ['ENABLE', 'EXIT_USERSPACE'], ok),
      op.run('vcpu0', stillInKvm, 2_000_000),
    ],
  }),

  // ---- 2.d: mainline ----
  entry({
    id: 'mainline-check-extension',
    covers: ['2.d check', '2.d vm-invalid', '2.d vm-after', '2.d vcpu-fd'],
    title: 'Mainline: the allowed set, and no per-vCPU control',
    description:
      'Today KVM_CHECK_EXTENSION returns kvm_get_allowed_disable_exits(), 0x1f with APERFMPERF (v6.17). OVERRIDE was never merged and is refused like any unknown bit; the VM-scope call is refused after vCPU creation (v6.14) and the vCPU fd still gives -EINVAL.',
    kernel: 'mainline',
    asm: HLT,
    program: [
      op.check('KVM_CAP_X86_DISABLE_EXITS', { ret: 0x1f }),
      op.disable('vm', ['HLT', 'OVERRIDE'], einval),
      op.create(0),
      op.disable('vm', ['HLT'], einval),
      op.disable('vcpu0', ['HLT'], einval),
    ],
  }),
  entry({
    id: 'mainline-mwait-not-allowed',
    covers: ['2.d check', '2.d vm-invalid'],
    title: 'Mainline: MWAIT refused on a host that cannot MWAIT in a guest',
    description:
      'Sean\'s c829ccd4d9dc (v6.14) is the merged form of RFC 3/7: the offered mask drops MWAIT, 0x1e here, and asking for it gives -EINVAL. The rest of the mask is still accepted.',
    kernel: 'mainline',
    host: NO_MWAIT,
    asm: HLT,
    program: [
      op.check('KVM_CAP_X86_DISABLE_EXITS', { ret: 0x1e }),
      op.disable('vm', ['MWAIT'], einval),
      op.disable('vm', ['HLT', 'PAUSE'], ok),
    ],
  }),
  entry({
    id: 'mainline-before-vcpus',
    covers: ['2.d vm-before'],
    title: 'Mainline: before vCPU creation, still a sticky OR',
    description:
      'Each accepted call ORs its bits into kvm->arch.disabled_exits; there is no OVERRIDE, so nothing can be re-enabled. The vCPU created afterwards halts inside the guest.',
    kernel: 'mainline',
    vm: USERSPACE_IRQCHIP,
    asm: HLT,
    program: STICKY_OR,
  }),
  entry({
    id: 'mainline-smt-rsb',
    covers: ['2.d smt_rsb'],
    title: 'Mainline: mitigate_smt_rsb leaves only PAUSE (and APERFMPERF)',
    description:
      'With the mitigate_smt_rsb module parameter set (6f0f2d5ef895, v6.2), a guest that halts or MWAITs natively could leave a sibling thread\'s return predictions exposed, so only PAUSE and APERFMPERF may be disabled. HLT is refused with -EINVAL, PAUSE accepted.',
    kernel: 'mainline',
    host: { smt_rsb: true },
    asm: HLT,
    program: [
      op.check('KVM_CAP_X86_DISABLE_EXITS', { ret: 0x14 }),
      op.disable('vm', ['HLT'], einval),
      op.disable('vm', ['PAUSE'], ok),
    ],
  }),
  entry({
    id: 'mainline-aperfmperf',
    covers: ['2.d aperfmperf'],
    title: 'Mainline: APERFMPERF lets the guest read APERF without an exit',
    description:
      'KVM_X86_DISABLE_EXITS_APERFMPERF (a7cec20845a6, v6.17) clears the read intercepts of MSR_IA32_APERF and MSR_IA32_MPERF at vCPU creation. The guest\'s RDMSR then reads the counter directly, and only its OUT exits.',
    kernel: 'mainline',
    asm: [
      '    mov ecx, 0xe8                     ; MSR_IA32_APERF',
      '    rdmsr',
      '    out 0x80, al',
      '',
    ].join('\n'),
    program: [
      op.disable('vm', ['APERFMPERF'], ok),
      op.create(0),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { port: 0x80 } })),
      op.stats('vcpu0', { stats: { exits: 1 } }),
    ],
  }),
];
