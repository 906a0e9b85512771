// What the bare address opens: the series' point on one screen. Two vCPUs run the same idle loop,
// woken every millisecond by their local APIC timers (x2APIC, in-kernel irqchip); RFC v4 5/7 lets the
// VMM disable HLT exits on vCPU 1 alone. After Run the timeline shows vCPU 0 asleep in vcpu_block
// between ticks (its pCPU free) and vCPU 1 halted inside the guest (its pCPU held), and the exit
// statistics show where vCPU 0's time goes: HLT, few samples, most of the time.
import type { ScenarioDocument } from '../../model/scenario/document';
import { EOI, entry, idt, ok, op } from '../../model/scenario/gallery/build';

/** The timer period: long next to an exit, short enough that a run shows several ticks. */
const TICK_NS = 1_000_000;
/** How long both vCPU threads run: five ticks. */
const RUN_NS = 5 * TICK_NS;

/** WRMSR of a 32-bit value, for the x2APIC registers. */
const wrmsr = (msr: number, value: number, what: string) =>
  [`    mov ecx, 0x${msr.toString(16)}                   ; ${what}`, `    mov eax, 0x${value.toString(16)}`, '    xor edx, edx', '    wrmsr'].join('\n');

export const FIRST_SCREEN_ASM = [
  '; Both vCPUs run this idle loop: arm the local APIC timer (periodic), halt, count each tick.',
  'start:',
  idt({ 32: 'tick' }),
  '    mov ecx, 0x1b                     ; IA32_APIC_BASE: set EN and EXTD (x2APIC mode)',
  '    rdmsr',
  '    or eax, 0xc00',
  '    wrmsr',
  wrmsr(0x80f, 0x1ff, 'SVR: APIC software-enabled, spurious vector 0xff'),
  wrmsr(0x83e, 0xb, 'timer divide configuration: divide by 1'),
  wrmsr(0x832, 0x20020, 'LVT timer: periodic (bit 17), vector 32'),
  wrmsr(0x838, TICK_NS, `initial count: one tick every ${TICK_NS / 1e6} ms (1 GHz APIC bus)`),
  '    sti',
  'idle:',
  '    hlt                               ; vCPU 0: a HLT exit; vCPU 1: halts in the guest',
  '    jmp idle',
  'tick:',
  '    inc r15                           ; ticks seen',
  EOI,
  '    iretq',
  '',
].join('\n');

export const FIRST_SCREEN: ScenarioDocument = entry({
  id: 'first-screen',
  covers: [],
  title: 'One vCPU exits on HLT, the other halts in the guest (RFC v4 5/7)',
  description:
    'Two vCPUs idle in the same HLT loop, woken every millisecond by their x2APIC timers. KVM_CAP_X86_DISABLE_EXITS(HLT) on vCPU 1\'s fd (patch 5/7) clears CPU_BASED_HLT_EXITING for that vCPU alone: after Run, vCPU 0 sleeps in kvm_vcpu_block between ticks with its pCPU free, while vCPU 1 halts inside the guest and keeps its pCPU.',
  kernel: 'rfc-v4',
  patches: 6,
  asm: FIRST_SCREEN_ASM,
  program: [
    op.create(0),
    op.create(1),
    op.disable('vcpu1', ['HLT'], ok),
    op.threads(['vcpu0', 'vcpu1'], RUN_NS),
  ],
}).doc;
