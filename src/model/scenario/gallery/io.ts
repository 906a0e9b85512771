// Port IO for comparison with HLT (spec/kvm-semantics.md §3.7): handle_io → kvm_fast_pio, whose
// skip happens now for an in-kernel device and only on the next KVM_RUN for a userspace one.
// Port 0x21 is the master PIC's data port, emulated in the kernel with KVM_CREATE_IRQCHIP; port
// 0x80 has no device in the kernel, so it goes to userspace.
import { entry, exitTo, ok, op, stillInKvm, type GalleryEntry } from './build';

export const IO_SCENARIOS: GalleryEntry[] = [
  entry({
    id: 'io-i1-in-kernel-device',
    covers: ['I1'],
    title: 'I1: an OUT to an in-kernel device never leaves the kernel',
    description:
      'The write to the PIC exits to KVM, kvm_fast_pio() finds the device on the PIO bus, skips the instruction and returns 1, and the guest re-enters at once. Only the following OUT to port 0x80 comes back to userspace, although both were IO_INSTRUCTION exits.',
    kernel: 'rfc-v4',
    asm: [
      '    mov al, 0xff',
      '    out 0x21, al                      ; PIC: mask every IRQ line, emulated in the kernel',
      '    out 0x80, al                      ; no device in the kernel: userspace',
      '',
    ].join('\n'),
    program: [
      op.create(0),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { direction: 1, size: 1, port: 0x80, count: 1 } })),
      op.stats('vcpu0', { stats: { io_exits: 2 } }),
    ],
  }),
  entry({
    id: 'io-i2-userspace-device',
    covers: ['I2', 'I2 next'],
    title: 'I2: an OUT to userspace completes on the next KVM_RUN',
    description:
      'KVM fills run->io (direction 1 = out, size, port, count, data_offset) and returns 0 without skipping, so RIP still points at the OUT when userspace looks. complete_fast_pio_out() runs at the start of the next KVM_RUN, skips the OUT, and the guest goes on to its HLT.',
    kernel: 'rfc-v4',
    vm: { irqchip: 'userspace' },
    asm: ['    out 0x80, al', '    hlt', ''].join('\n'),
    program: [
      op.create(0),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { direction: 1, size: 1, port: 0x80, count: 1 }, rip: '0x10000' })),
      op.run('vcpu0', exitTo('KVM_EXIT_HLT', { rip: '0x10003' })),
    ],
  }),
  entry({
    id: 'io-i3-in-merges',
    covers: ['I3'],
    title: 'I3: an IN from userspace merges the byte into RAX',
    description:
      'For IN the data comes back through the kvm_run page: complete_fast_pio_in() copies it into RAX on the next KVM_RUN and then skips. A 1-byte IN replaces only AL, so the upper bytes of RAX survive (the page holds 0 here, as no VMM wrote it).',
    kernel: 'rfc-v4',
    vm: { irqchip: 'userspace' },
    asm: ['    mov eax, 0x12345678', '    in al, 0x80', '    hlt', ''].join('\n'),
    program: [
      op.create(0),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { direction: 0, size: 1, port: 0x80, count: 1 } })),
      op.run('vcpu0', exitTo('KVM_EXIT_HLT')),
      op.regs('vcpu0', { regs: { rax: '0x12345600' } }),
    ],
  }),
  entry({
    id: 'io-i4-port-7e-quirk',
    covers: ['I4'],
    title: 'I4: OUT to port 0x7e is skipped before userspace sees it',
    description:
      'KVM_X86_QUIRK_OUT_7E_INC_RIP (on by default) keeps an old behaviour: for port 0x7e RIP is advanced before the exit, and the completion only clears the count. Userspace therefore sees RIP already past the OUT.',
    kernel: 'rfc-v4',
    vm: { irqchip: 'userspace' },
    asm: ['    out 0x7e, al', '    hlt', ''].join('\n'),
    program: [
      op.create(0),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { port: 0x7e }, rip: '0x10002' })),
      op.run('vcpu0', exitTo('KVM_EXIT_HLT', { rip: '0x10003' })),
    ],
  }),
  entry({
    id: 'io-i5-exit-userspace-in-kernel',
    covers: ['I5'],
    title: 'I5: EXIT_USERSPACE stops even an IO the kernel handled',
    description:
      'The PIC write is complete, but with RFC v4 6/7\'s flag kvm_fast_pio() returns the skip\'s 0, so KVM_RUN returns 0 without filling anything. exit_reason is stale (KVM_EXIT_UNKNOWN on a new vCPU) and hw.hardware_exit_reason says 30, IO_INSTRUCTION.',
    kernel: 'rfc-v4',
    patches: 6,
    asm: ['    mov al, 0xff', '    out 0x21, al', '    hlt', ''].join('\n'),
    program: [
      op.create(0),
      op.debug('vcpu0', ['ENABLE', 'EXIT_USERSPACE'], ok),
      op.run('vcpu0', exitTo('KVM_EXIT_UNKNOWN', { hw_exit_reason: 30 })),
    ],
  }),
  entry({
    id: 'io-i6-exit-userspace-twice',
    covers: ['I6'],
    title: 'I6: EXIT_USERSPACE returns twice for one OUT to userspace',
    description:
      'The first KVM_RUN returns a normal KVM_EXIT_IO. On the next one complete_fast_pio_out() skips the OUT, the skip returns 0, and KVM_RUN returns 0 again before the guest ever runs, with exit_reason still KVM_EXIT_IO: a VMM that trusts it handles the OUT twice, the "consistent, robust ABI" problem Sean raised.',
    kernel: 'rfc-v4',
    patches: 6,
    asm: ['    out 0x80, al', '    hlt', ''].join('\n'),
    program: [
      op.create(0),
      op.debug('vcpu0', ['ENABLE', 'EXIT_USERSPACE'], ok),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { port: 0x80 }, rip: '0x10000' })),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { rip: '0x10002' })),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { hw_exit_reason: 12 })),
      op.run('vcpu0', stillInKvm, 2_000_000),
    ],
  }),
  entry({
    id: 'io-userspace-data',
    covers: ['I3'],
    title: 'Userspace completes an IN and an MMIO read with its own data',
    description:
      'The VMM answers the IN by writing 0xbeef at run->io.data_offset and the MMIO read by writing 0xcafef00d into run->mmio.data before the next KVM_RUN (the run fields io_data and mmio_data), and complete_fast_pio_in() and complete_emulated_mmio() put them into the guest\'s registers. The guest writes both values straight back out, so each OUT shows what userspace supplied.',
    kernel: 'rfc-v4',
    asm: [
      '    in ax, 0x60                       ; no device in the kernel: KVM_EXIT_IO, direction 0 (in)',
      '    out 0x61, ax                      ; the value userspace put in the PIO page',
      '    mov rbx, 0xd0000000               ; no memslot here: MMIO',
      '    mov eax, [rbx]                    ; KVM_EXIT_MMIO, a 4-byte read',
      '    out 0x62, eax                     ; the value userspace put in run->mmio.data',
      '    hlt',
      '',
    ].join('\n'),
    program: [
      op.create(0),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { direction: 0, size: 2, port: 0x60, count: 1 } })),
      { ...op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { direction: 1, size: 2, port: 0x61, data: ['0xbeef'] } })), io_data: '0xbeef' },
      op.run('vcpu0', exitTo('KVM_EXIT_MMIO', { mmio: { phys_addr: '0xd0000000', len: 4, is_write: 0 } })),
      { ...op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { direction: 1, size: 4, port: 0x62, data: ['0xcafef00d'] } })), mmio_data: '0xcafef00d' },
    ],
  }),
];
