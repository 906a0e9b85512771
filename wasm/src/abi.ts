// The contract between the core (AssemblyScript, this folder) and the TypeScript model.
//
// This file is compiled by both: asc imports it into the core, and src/model/cpu/core.ts imports it
// as plain TypeScript. Keep it to `export const NAME = <integer literal or expression of them>;` so
// both compilers read it the same way. asc infers i32 for literals below 2^31 and i64 above
// (MSR_EFER, APIC_BASE_GPA): cast those where the core uses them. `1 << 31` is negative in both.
//
// Everything lives at fixed offsets in the core's linear memory, so the model reads registers and
// exit information with a DataView, without copies and without a call per field.
//
//   0x0000_0000  reserved (null page)
//   STATE_BASE   one STATE_STRIDE block per vCPU: registers, VMCS fields, exit information
//   MSRBM_BASE   one 4 KiB VMX MSR bitmap per vCPU (SDM layout, see below)
//   (internal)   the core's own tables and decode cache, after MSRBM
//   RAM_BASE     guest-physical address 0; guest RAM continues for the size given to init()

export const MAX_VCPUS = 16;
export const STATE_BASE = 0x1000;
export const STATE_STRIDE = 0x400;
export const MSRBM_BASE = 0x8000; // STATE_BASE + MAX_VCPUS * STATE_STRIDE rounded up
export const MSRBM_STRIDE = 0x1000;
export const RAM_BASE = 0x100_0000; // 16 MiB: room for the core's tables below it
export const MAX_RAM = 0x400_0000; // 64 MiB

// ---- Per-vCPU state block: offsets from STATE_BASE + vcpu * STATE_STRIDE ----

// General registers, u64 each, in the SDM's encoding order: RAX RCX RDX RBX RSP RBP RSI RDI R8..R15.
export const S_GPR = 0x000;
export const S_RIP = 0x080; // u64
export const S_RFLAGS = 0x088; // u64, always materialised when run()/emulate() return; read on entry
export const S_TSC = 0x090; // u64: the pCPU's time-stamp counter (virtual cycles). The model sets it
//                              before an entry; the core adds each instruction's cost.
export const S_INSNS = 0x098; // u64: instructions retired by this vCPU (REP iterations count once each)
export const S_IDTR_BASE = 0x0a0; // u64
export const S_IDTR_LIMIT = 0x0a8; // u32 (16 bits used)
export const S_ACTIVITY = 0x0ac; // u32: guest activity state, VMCS encoding (ACTIVITY_*)
export const S_INTERRUPTIBILITY = 0x0b0; // u32: guest interruptibility state, VMCS encoding (INTR_BLOCK_*)
export const S_DR6 = 0x0b8; // u64
export const S_DR7 = 0x0c0; // u64
export const S_CR0 = 0x0c8; // u64 (fixed: PE|PG|ET|NE; reported, not used)
export const S_CR3 = 0x0d0; // u64 (reported, not used: identity mapping)
export const S_CR4 = 0x0d8; // u64
export const S_CS = 0x0e0; // u16 selector (0x08, 64-bit code); S_SS = 0x0e2 (0x10)
export const S_SS = 0x0e2;
// u16 selectors of the data segments (MOV Sreg loads and stores them; descriptors are not modelled,
// and FS.base/GS.base stay those of the MSRs).
export const S_DS = 0x0e4;
export const S_ES = 0x0e6;
export const S_FS = 0x0e8;
export const S_GS = 0x0ea;
export const S_CR2 = 0x0f0; // u64 (MOV CR2; the core has no page faults)
export const S_CR8 = 0x0f8; // u64 TPR as MOV CR8 sees it when CR8 accesses do not exit

// MSRs that the core implements itself (used when the MSR bitmap does not intercept them).
export const S_MSR_EFER = 0x100; // u64
export const S_MSR_APIC_BASE = 0x108; // u64 (the value only; the APIC is the model's)
export const S_MSR_TSC_AUX = 0x110; // u64, read by RDTSCP into ECX
export const S_MSR_MISC_ENABLE = 0x118; // u64
export const S_MSR_C1_RES = 0x120; // u64 MSR_CORE_C1_RES: cycles this pCPU spent halted
export const S_MSR_C3_RES = 0x128; // u64 MSR_CORE_C3_RESIDENCY
export const S_MSR_C6_RES = 0x130; // u64 MSR_CORE_C6_RESIDENCY
export const S_MSR_C7_RES = 0x138; // u64 MSR_CORE_C7_RESIDENCY
export const S_MSR_APERF = 0x140; // u64: advances with cycles while active
export const S_MSR_MPERF = 0x148; // u64: advances with cycles while active
export const S_MSR_KERNEL_GS_BASE = 0x150; // u64
export const S_MSR_FS_BASE = 0x158; // u64
export const S_MSR_GS_BASE = 0x160; // u64

// VMCS control fields written by the model (SDM names; bit values below).
export const S_PIN_CONTROLS = 0x180; // u32 pin-based VM-execution controls
export const S_PROC_CONTROLS = 0x184; // u32 primary processor-based controls
export const S_PROC_CONTROLS2 = 0x188; // u32 secondary processor-based controls
export const S_EXCEPTION_BITMAP = 0x18c; // u32: bit n set = exception n causes an EXCEPTION_NMI exit
export const S_PLE_GAP = 0x190; // u32, in TSC cycles
export const S_PLE_WINDOW = 0x194; // u32, in TSC cycles
export const S_TSC_OFFSET = 0x198; // u64, added to RDTSC/RDTSCP when USE_TSC_OFFSETTING
export const S_ENTRY_INTR_INFO = 0x1a0; // u32 VM-entry interruption-information (INTR_INFO_* layout)
export const S_ENTRY_EXC_ERR = 0x1a4; // u32 VM-entry exception error code
export const S_ENTRY_INSN_LEN = 0x1a8; // u32 VM-entry instruction length (software interrupts/exceptions)

// Lines into the CPU, set by the model between run() calls.
export const S_HOST_IRQ = 0x1b0; // u32: nonzero = a host external interrupt is asserted (vector in 7:0).
//                                  With PIN_EXT_INTR_EXITING it causes an EXTERNAL_INTERRUPT exit at the
//                                  next instruction boundary, also from the HLT state. The core clears it.
export const S_VIRQ = 0x1b4; // u32: a guest interrupt posted by the host, INTR_INFO_VALID | vector.
//                              Taken at an instruction boundary when RFLAGS.IF = 1 and no STI/MOV-SS
//                              shadow, without a VM exit (the posted-interrupt path); wakes HLT/MWAIT.
//                              The core clears it when delivered.

// VM-exit information fields, written by the core when run() returns RUN_EXIT.
export const S_EXIT_REASON = 0x1c0; // u32 full exit reason; basic reason in bits 15:0
export const S_EXIT_INSN_LEN = 0x1c4; // u32 VM-exit instruction length
export const S_EXIT_QUAL = 0x1c8; // u64 exit qualification
export const S_EXIT_GPA = 0x1d0; // u64 guest-physical address (EPT violation, APIC access)
export const S_EXIT_GLA = 0x1d8; // u64 guest-linear address (same value: identity mapping)
export const S_EXIT_INTR_INFO = 0x1e0; // u32 VM-exit interruption information (EXCEPTION_NMI, EXTERNAL_INTERRUPT)
export const S_EXIT_INTR_ERR = 0x1e4; // u32 VM-exit interruption error code
export const S_IDT_VECTORING_INFO = 0x1e8; // u32: the event being delivered when the exit happened
export const S_IDT_VECTORING_ERR = 0x1ec; // u32
export const S_EXIT_INSN_INFO = 0x1f0; // u32 VM-exit instruction information (INS/OUTS: address size 9:7)

// A memory access that left RAM (EPT violation / APIC access exit, or MMIO_NEEDED from emulate()).
export const S_ACCESS_SIZE = 0x200; // u32 bytes (1, 2, 4, 8)
export const S_ACCESS_WRITE = 0x204; // u32: 1 = write
export const S_ACCESS_DATA = 0x208; // u64: the value being written

// MMIO fragments that complete an instruction the core could not finish on its own, as KVM's
// emulator replays them. The n-th access outside RAM made while re-executing the instruction at RIP
// is served by fragment n (a read returns its data; a write is considered done). emulate() clears
// the count when the instruction completes.
export const S_MMIO_COUNT = 0x210; // u32
export const S_MMIO_FRAGS = 0x218; // MMIO_MAX_FRAGS entries of MMIO_FRAG_SIZE bytes
export const MMIO_MAX_FRAGS = 4;
export const MMIO_FRAG_SIZE = 0x18; // {u64 gpa; u32 size; u32 write; u64 data}
export const F_GPA = 0x00;
export const F_SIZE = 0x08;
export const F_WRITE = 0x0c;
export const F_DATA = 0x10;

// MONITOR/MWAIT executed natively (exiting disabled).
export const S_MONITOR_ADDR = 0x280; // u64 armed line (64-byte aligned), valid when S_MONITOR_ARMED
export const S_MONITOR_ARMED = 0x288; // u32
export const S_MWAIT_ECX = 0x28c; // u32: ECX of the MWAIT being waited in (bit 0: interrupts wake it even when IF = 0)
// PAUSE-loop detection state (hardware-internal; the model may read it for display).
export const S_PLE_FIRST = 0x290; // u64 TSC of the first PAUSE of the current loop
export const S_PLE_LAST = 0x298; // u64 TSC of the last PAUSE
export const S_PLE_ACTIVE = 0x2a0; // u32 nonzero once a PAUSE has been seen

// Informational: the last instruction's start, for the UI to mark. Written on every run() return.
export const S_LAST_RIP = 0x2a8; // u64
// Debug address registers (MOV DR when MOV_DR_EXITING is clear; the core sets no breakpoints from them).
export const S_DR0 = 0x2b0; // u64; S_DR1..S_DR3 follow
export const S_DR1 = 0x2b8;
export const S_DR2 = 0x2c0;
export const S_DR3 = 0x2c8;
export const S_XCR0 = 0x2d0; // u64 read by XGETBV (XSETBV always exits; the model keeps it); 1 at reset

// ---- Fields shared by all vCPUs (absolute addresses, between the state blocks and the MSR bitmaps) ----
export const DECODE_MNEMONIC = 0x5000; // u32 written by decode(): index into wasm/src/mnemonics.ts (0 = INVALID)

// ---- Values ----

// run() results.
export const RUN_BUDGET = 0; // the cycle budget was spent; no exit (the model may resume at once)
export const RUN_EXIT = 1; // a VM exit: S_EXIT_* are valid
export const RUN_HALTED = 2; // the CPU is in the HLT or MWAIT wait state and nothing wakes it: no cycles used

// emulate() results: one instruction at RIP, executed the way KVM's emulator would.
export const EMUL_DONE = 0; // completed: RIP advanced, MMIO fragments consumed
export const EMUL_MMIO = 1; // needs another MMIO fragment: S_EXIT_GPA and S_ACCESS_* describe it
export const EMUL_EXCEPTION = 2; // raised an exception: S_EXIT_INTR_INFO / S_EXIT_INTR_ERR describe it;
//                                   nothing was delivered and the state is as before the instruction
export const EMUL_UNHANDLED = 3; // not an instruction the emulator path handles (IO, HLT, ...): state unchanged

// Guest activity state (VMCS encoding), plus the core's MWAIT wait.
export const ACTIVITY_ACTIVE = 0;
export const ACTIVITY_HLT = 1;
export const ACTIVITY_SHUTDOWN = 2;
export const ACTIVITY_WAIT_SIPI = 3;
export const ACTIVITY_MWAIT = 0x100; // not a VMCS state: a native MWAIT waiting for its monitor or an IRQ

// Guest interruptibility state bits (VMCS encoding).
export const INTR_BLOCK_STI = 1 << 0;
export const INTR_BLOCK_MOV_SS = 1 << 1;
export const INTR_BLOCK_NMI = 1 << 3; // set by delivering an NMI, cleared by IRET

// Interruption-information fields (VM-entry, VM-exit, IDT-vectoring), SDM layout.
export const INTR_INFO_VECTOR_MASK = 0xff;
export const INTR_INFO_TYPE_SHIFT = 8;
export const INTR_TYPE_EXT_INTR = 0;
export const INTR_TYPE_NMI = 2;
export const INTR_TYPE_HARD_EXCEPTION = 3;
export const INTR_TYPE_SOFT_INTR = 4;
export const INTR_TYPE_PRIV_SW_EXCEPTION = 5;
export const INTR_TYPE_SOFT_EXCEPTION = 6;
export const INTR_INFO_DELIVER_CODE = 1 << 11;
export const INTR_INFO_VALID = 1 << 31;

// Exception vectors.
export const DE_VECTOR = 0;
export const DB_VECTOR = 1;
export const NMI_VECTOR = 2;
export const BP_VECTOR = 3;
export const OF_VECTOR = 4;
export const UD_VECTOR = 6;
export const DF_VECTOR = 8;
export const TS_VECTOR = 10;
export const NP_VECTOR = 11;
export const SS_VECTOR = 12;
export const GP_VECTOR = 13;
export const PF_VECTOR = 14;

export const DR6_BS = 1 << 14; // single-step
export const DR6_ACTIVE_LOW = 0xffff0ff0;
export const X86_EFLAGS_CF = 1 << 0;
export const X86_EFLAGS_PF = 1 << 2;
export const X86_EFLAGS_AF = 1 << 4;
export const X86_EFLAGS_ZF = 1 << 6;
export const X86_EFLAGS_SF = 1 << 7;
export const X86_EFLAGS_TF = 1 << 8;
export const X86_EFLAGS_IF = 1 << 9;
export const X86_EFLAGS_DF = 1 << 10;
export const X86_EFLAGS_OF = 1 << 11;
export const X86_EFLAGS_FIXED = 1 << 1;
export const X86_EFLAGS_IOPL = 3 << 12;
export const X86_EFLAGS_NT = 1 << 14;
export const X86_EFLAGS_RF = 1 << 16;
export const X86_EFLAGS_AC = 1 << 18;
export const X86_EFLAGS_ID = 1 << 21;

// Pin-based VM-execution controls (SDM 25.6.1).
export const PIN_EXT_INTR_EXITING = 1 << 0;
export const PIN_NMI_EXITING = 1 << 3;
export const PIN_VIRTUAL_NMIS = 1 << 5;
export const PIN_PREEMPTION_TIMER = 1 << 6;

// Primary processor-based VM-execution controls (SDM 25.6.2); Linux names without CPU_BASED_.
export const CPU_BASED_INTR_WINDOW_EXITING = 1 << 2;
export const CPU_BASED_USE_TSC_OFFSETTING = 1 << 3;
export const CPU_BASED_HLT_EXITING = 1 << 7;
export const CPU_BASED_INVLPG_EXITING = 1 << 9;
export const CPU_BASED_MWAIT_EXITING = 1 << 10;
export const CPU_BASED_RDPMC_EXITING = 1 << 11;
export const CPU_BASED_RDTSC_EXITING = 1 << 12;
export const CPU_BASED_CR3_LOAD_EXITING = 1 << 15;
export const CPU_BASED_CR3_STORE_EXITING = 1 << 16;
export const CPU_BASED_CR8_LOAD_EXITING = 1 << 19;
export const CPU_BASED_CR8_STORE_EXITING = 1 << 20;
export const CPU_BASED_TPR_SHADOW = 1 << 21;
export const CPU_BASED_NMI_WINDOW_EXITING = 1 << 22;
export const CPU_BASED_MOV_DR_EXITING = 1 << 23;
export const CPU_BASED_UNCOND_IO_EXITING = 1 << 24;
export const CPU_BASED_USE_IO_BITMAPS = 1 << 25;
export const CPU_BASED_MONITOR_TRAP_FLAG = 1 << 27;
export const CPU_BASED_USE_MSR_BITMAPS = 1 << 28;
export const CPU_BASED_MONITOR_EXITING = 1 << 29;
export const CPU_BASED_PAUSE_EXITING = 1 << 30;
export const CPU_BASED_ACTIVATE_SECONDARY_CONTROLS = 1 << 31;

// Secondary processor-based VM-execution controls (SDM 25.6.2).
export const SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES = 1 << 0;
export const SECONDARY_EXEC_ENABLE_EPT = 1 << 1;
export const SECONDARY_EXEC_DESC = 1 << 2;
export const SECONDARY_EXEC_ENABLE_RDTSCP = 1 << 3;
export const SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE = 1 << 4;
export const SECONDARY_EXEC_ENABLE_VPID = 1 << 5;
export const SECONDARY_EXEC_WBINVD_EXITING = 1 << 6;
export const SECONDARY_EXEC_UNRESTRICTED_GUEST = 1 << 7;
export const SECONDARY_EXEC_APIC_REGISTER_VIRT = 1 << 8;
export const SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY = 1 << 9;
export const SECONDARY_EXEC_PAUSE_LOOP_EXITING = 1 << 10;
export const SECONDARY_EXEC_RDRAND_EXITING = 1 << 11;
export const SECONDARY_EXEC_ENABLE_INVPCID = 1 << 12;

// Basic exit reasons (SDM Appendix C; Linux arch/x86/include/uapi/asm/vmx.h names).
export const EXIT_REASON_EXCEPTION_NMI = 0;
export const EXIT_REASON_EXTERNAL_INTERRUPT = 1;
export const EXIT_REASON_TRIPLE_FAULT = 2;
export const EXIT_REASON_INIT_SIGNAL = 3;
export const EXIT_REASON_SIPI_SIGNAL = 4;
export const EXIT_REASON_INTERRUPT_WINDOW = 7;
export const EXIT_REASON_NMI_WINDOW = 8;
export const EXIT_REASON_TASK_SWITCH = 9;
export const EXIT_REASON_CPUID = 10;
export const EXIT_REASON_HLT = 12;
export const EXIT_REASON_INVD = 13;
export const EXIT_REASON_INVLPG = 14;
export const EXIT_REASON_RDPMC = 15;
export const EXIT_REASON_RDTSC = 16;
export const EXIT_REASON_VMCALL = 18;
export const EXIT_REASON_CR_ACCESS = 28;
export const EXIT_REASON_DR_ACCESS = 29;
export const EXIT_REASON_IO_INSTRUCTION = 30;
export const EXIT_REASON_MSR_READ = 31;
export const EXIT_REASON_MSR_WRITE = 32;
export const EXIT_REASON_INVALID_STATE = 33;
export const EXIT_REASON_MSR_LOAD_FAIL = 34;
export const EXIT_REASON_MWAIT_INSTRUCTION = 36;
export const EXIT_REASON_MONITOR_TRAP_FLAG = 37;
export const EXIT_REASON_MONITOR_INSTRUCTION = 39;
export const EXIT_REASON_PAUSE_INSTRUCTION = 40;
export const EXIT_REASON_MCE_DURING_VMENTRY = 41;
export const EXIT_REASON_TPR_BELOW_THRESHOLD = 43;
export const EXIT_REASON_APIC_ACCESS = 44;
export const EXIT_REASON_EOI_INDUCED = 45;
export const EXIT_REASON_EPT_VIOLATION = 48;
export const EXIT_REASON_EPT_MISCONFIG = 49;
export const EXIT_REASON_RDTSCP = 51;
export const EXIT_REASON_PREEMPTION_TIMER = 52;
export const EXIT_REASON_WBINVD = 54;
export const EXIT_REASON_XSETBV = 55;
export const EXIT_REASON_APIC_WRITE = 56;
export const EXIT_REASON_PML_FULL = 62;
export const VMX_EXIT_REASONS_FAILED_VMENTRY = 1 << 31;

// Exit qualification for IO_INSTRUCTION (SDM Table 28-5).
export const IOQ_SIZE_MASK = 0x7; // size - 1
export const IOQ_IN = 1 << 3; // direction: 1 = IN
export const IOQ_STRING = 1 << 4;
export const IOQ_REP = 1 << 5;
export const IOQ_IMM = 1 << 6; // operand encoding: 1 = immediate port
export const IOQ_PORT_SHIFT = 16;

// Exit qualification for CR_ACCESS (SDM Table 28-3): CR number 3:0, access type 5:4, GPR 11:8.
export const CRQ_FROM_CR = 1 << 4; // access type 1: MOV from CR (0: MOV to CR)
export const CRQ_GPR_SHIFT = 8;

// Exit qualification for DR_ACCESS (SDM Table 28-4): DR number 2:0, direction, GPR 11:8.
export const DRQ_FROM_DR = 1 << 4; // MOV from DR (0: to DR)
export const DRQ_GPR_SHIFT = 8;

// Exit qualification for EPT_VIOLATION (SDM Table 28-7): the access that faulted.
export const EPTQ_READ = 1 << 0;
export const EPTQ_WRITE = 1 << 1;
export const EPTQ_FETCH = 1 << 2;
export const EPTQ_GLA_VALID = 1 << 7;
export const EPTQ_GLA_TRANSLATED = 1 << 8; // with GLA_VALID: the access was to the linear address itself

// Exit qualification for APIC_ACCESS (SDM Table 28-6): page offset 11:0, access type 15:12.
export const APICQ_OFFSET_MASK = 0xfff;
export const APICQ_TYPE_SHIFT = 12;
export const APIC_ACCESS_LINEAR_READ = 0;
export const APIC_ACCESS_LINEAR_WRITE = 1;
export const APIC_ACCESS_FETCH = 2;
export const APIC_BASE_GPA = 0xfee00000;

// VMX MSR bitmap (SDM 25.6.9): bit set = intercept. Four 1 KiB quarters.
export const MSRBM_READ_LOW = 0x000; // MSRs 0x00000000-0x00001fff
export const MSRBM_READ_HIGH = 0x400; // MSRs 0xc0000000-0xc0001fff
export const MSRBM_WRITE_LOW = 0x800;
export const MSRBM_WRITE_HIGH = 0xc00;

// MSR numbers the core implements (when not intercepted).
export const MSR_IA32_TSC = 0x10;
export const MSR_IA32_APICBASE = 0x1b;
export const MSR_IA32_MPERF = 0xe7;
export const MSR_IA32_APERF = 0xe8;
export const MSR_IA32_MISC_ENABLE = 0x1a0;
export const MSR_CORE_C3_RESIDENCY = 0x3fc;
export const MSR_CORE_C6_RESIDENCY = 0x3fd;
export const MSR_CORE_C7_RESIDENCY = 0x3fe;
export const MSR_CORE_C1_RES = 0x660;
export const MSR_IA32_TSC_DEADLINE = 0x6e0;
export const MSR_X2APIC_BASE = 0x800; // x2APIC registers 0x800-0x8ff (the model's LAPIC)
export const MSR_EFER = 0xc0000080;
export const MSR_FS_BASE = 0xc0000100;
export const MSR_GS_BASE = 0xc0000101;
export const MSR_KERNEL_GS_BASE = 0xc0000102;
export const MSR_TSC_AUX = 0xc0000103;
