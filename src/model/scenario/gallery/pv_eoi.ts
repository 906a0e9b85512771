// KVM's paravirtual EOI (kvm/pv_eoi.ts): the same timer ticks acknowledged first by the x2APIC EOI
// WRMSR, then as a Linux guest on KVM does once KVM_FEATURE_PV_EOI is on, with the exits counted.
import { EOI, entry, exitTo, idt, lapicTimer, op, type GalleryEntry } from './build';

/** Ticks per half: 200 µs apart (kvm.min_timer_period_us). */
const TICKS = 10;

export const PV_EOI_SCENARIOS: GalleryEntry[] = [
  entry({
    id: 'pv-eoi-timer-ticks',
    covers: ['PV-EOI'],
    title: 'PV EOI: timer ticks acknowledged without an EOI exit',
    description:
      `The guest takes ${TICKS} periodic timer ticks acknowledging each with an x2APIC EOI WRMSR (two exits a tick: HLT and WRMSR), then enables MSR_KVM_PV_EOI_EN and takes ${TICKS} more as Linux's kvm_guest_apic_eoi_write does: BTR clears the flag KVM set when it injected the tick, and the EOI MSR is written only if the flag was not set. KVM sees the cleared flag at the next HLT exit and does the EOI there (kvm_lapic_sync_from_vapic), so each of those ticks costs one exit.`,
    kernel: 'v5.19',
    asm: [
      'start:',
      idt({ 64: 'tick' }),
      '    xor r14, r14                      ; no PV EOI word yet: acknowledge by WRMSR',
      lapicTimer(64, 200000, true),
      '    sti',
      'by_msr:',
      '    hlt',
      `    cmp r15, ${TICKS}`,
      '    jb by_msr',
      '    out 0x80, al                      ; first half done: userspace reads the stats',
      '    mov r14, pv_eoi_word',
      '    mov ecx, 0x4b564d04               ; MSR_KVM_PV_EOI_EN: the word\'s GPA | KVM_MSR_ENABLED',
      '    mov eax, pv_eoi_word + 1',
      '    xor edx, edx',
      '    wrmsr',
      'by_pv:',
      '    hlt',
      `    cmp r15, ${2 * TICKS}`,
      '    jb by_pv',
      '    out 0x81, al',
      '    jmp $',
      'tick:',
      '    inc r15',
      '    test r14, r14',
      '    jz eoi_msr',
      '    btr dword [r14], 0                ; KVM set bit 0 at the injection: clearing it is the EOI',
      '    jc acked',
      'eoi_msr:',
      EOI,
      'acked:',
      '    iretq',
      'align 4',
      'pv_eoi_word:',
      '    dd 0',
      '',
    ].join('\n'),
    program: [
      op.create(0),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { port: 0x80 } })),
      // 6 exits of setup (RDMSR, 5 WRMSRs), 2 per tick, the OUT.
      op.stats('vcpu0', { stats: { halt_exits: TICKS, exits: 6 + 2 * TICKS + 1 } }),
      op.run('vcpu0', exitTo('KVM_EXIT_IO', { io: { port: 0x81 } })),
      // The enabling WRMSR, 1 per tick, the OUT.
      op.stats('vcpu0', { stats: { halt_exits: 2 * TICKS, exits: 6 + 2 * TICKS + 1 + 1 + TICKS + 1 } }),
    ],
  }),
];
