// PAUSE (Pause-Loop Exiting, spec/kvm-semantics.md §3.5) and MONITOR/MWAIT (§3.6): the other two
// exits the capability disables, and how differently they behave from HLT.
import { entry, exitTo, ok, op, stillInKvm, type GalleryEntry } from './build';

const SPIN = [
  '    mov ecx, 200000                   ; a spin-wait: PAUSE in a tight loop',
  'spin:',
  '    pause',
  '    dec ecx',
  '    jnz spin',
  '    out 0x80, al                      ; done spinning: tell userspace',
  '',
].join('\n');

const MONITOR_MWAIT = [
  '    mov eax, 0x30000                  ; MONITOR the cache line at 0x30000',
  '    xor ecx, ecx',
  '    xor edx, edx',
  '    monitor',
  '    mwait                             ; wait for a write to that line, or an interrupt',
  '    out 0x80, al',
  '',
].join('\n');

export const PAUSE_MWAIT_SCENARIOS: GalleryEntry[] = [
  entry({
    id: 'pause-ple',
    covers: ['PLE'],
    title: 'PLE: a long PAUSE loop exits to KVM, never to userspace',
    description:
      'KVM never sets PAUSE exiting; it enables Pause-Loop Exiting, so the CPU exits only after the guest has spun longer than PLE_WINDOW. handle_pause() doubles the window, yields to another vCPU and skips the PAUSE, so the exits stay in the kernel and only the final OUT reaches userspace.',
    kernel: 'rfc-v4',
    asm: SPIN,
    program: [
      op.create(0),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { port: 0x80 } })),
      // About 200000 x 140 cycles of spinning; windows of 4096, 8192, ... cycles add up to that
      // after 11 doublings, so 11 PLE exits and the OUT.
      op.stats('vcpu0', { stats: { exits: 12, io_exits: 1 } }),
    ],
  }),
  entry({
    id: 'pause-in-guest',
    covers: ['PLE'],
    title: 'PAUSE exits disabled: the same spin runs without a single PLE exit',
    description:
      'With KVM_X86_DISABLE_EXITS_PAUSE before vCPU creation, vmx_secondary_exec_control() leaves SECONDARY_EXEC_PAUSE_LOOP_EXITING clear, so the spin never exits. The only exit of the whole run is the OUT.',
    kernel: 'rfc-v4',
    asm: SPIN,
    program: [
      op.disable('vm', ['PAUSE'], ok),
      op.create(0),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { port: 0x80 } })),
      op.stats('vcpu0', { stats: { exits: 1 } }),
    ],
  }),
  entry({
    id: 'mwait-exits-nop',
    covers: ['MWAIT'],
    title: 'MWAIT exiting: emulated as a NOP, the guest never waits',
    description:
      'By default MONITOR and MWAIT both exit, and kvm_emulate_mwait() treats MWAIT as a NOP ("MWAIT instruction emulated as NOP!"): it skips it and re-enters. The guest falls straight through to its OUT, so an idle loop built on MWAIT busy-polls through exits.',
    kernel: 'rfc-v4',
    asm: MONITOR_MWAIT,
    program: [
      op.create(0),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { port: 0x80 } })),
      op.stats('vcpu0', { stats: { exits: 3 } }),
    ],
  }),
  entry({
    id: 'mwait-in-guest',
    covers: ['MWAIT'],
    title: 'MWAIT in the guest: the vCPU really waits, holding its pCPU',
    description:
      'With MWAIT exits disabled (the host can MWAIT in a guest) vmx_exec_control() clears both MWAIT and MONITOR exiting, and the guest waits natively for its monitored line. Nothing writes it and no interrupt comes, so the vCPU stays in the guest and KVM_RUN does not return.',
    kernel: 'rfc-v4',
    asm: MONITOR_MWAIT,
    program: [
      op.disable('vm', ['MWAIT'], ok),
      op.create(0),
      op.run('vcpu0', stillInKvm, 2_000_000),
      op.stats('vcpu0', { stats: { exits: 0 } }),
    ],
  }),
];
