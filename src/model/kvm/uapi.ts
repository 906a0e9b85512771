// KVM's userspace ABI: the names and numbers of include/uapi/linux/kvm.h and the x86 asm/kvm.h,
// as listed in spec/kvm-semantics.md §1, both ways (name → number and number → name).
// Proposed-only values (OVERRIDE, EXIT_USERSPACE) are marked with the patch that proposed them.
import * as abi from '../../../wasm/src/abi';

type Widen<V> = V extends number ? number : V extends bigint ? bigint : V;

/** A table of named constants with lookups both ways. */
export class ConstTable<V extends number | bigint = number> {
  readonly byName: ReadonlyMap<string, V>;
  private readonly byValue = new Map<V, string>();
  constructor(readonly prefix: string, entries: Record<string, V>) {
    this.byName = new Map(Object.entries(entries));
    for (const [k, x] of this.byName) if (!this.byValue.has(x)) this.byValue.set(x, prefix + k);
  }
  /** Accepts the name with or without the prefix (`"HLT"` or `"KVM_X86_DISABLE_EXITS_HLT"`). */
  value(name: string): V | undefined {
    const short = name.startsWith(this.prefix) ? name.slice(this.prefix.length) : name;
    return this.byName.get(short);
  }
  /** The full kernel name of a value, or undefined. */
  name(v: Widen<V>): string | undefined {
    return this.byValue.get(v as unknown as V);
  }
  /** Names of the set bits of a flag mask (full kernel names); unknown bits as hex. */
  flagNames(mask: Widen<V>): string[] {
    const out: string[] = [];
    let rest = BigInt(mask);
    for (const [k, x] of this.byName) {
      const b = BigInt(x);
      if (b !== 0n && (rest & b) === b) { out.push(this.prefix + k); rest &= ~b; }
    }
    if (rest !== 0n) out.push('0x' + rest.toString(16));
    return out;
  }
}

export const KVM_CAP = new ConstTable('KVM_CAP_', {
  IRQCHIP: 0,
  HLT: 1,
  USER_MEMORY: 3,
  NR_VCPUS: 9,
  SET_GUEST_DEBUG: 23,
  MAX_VCPUS: 66,
  DISABLE_QUIRKS: 116,
  MAX_VCPU_ID: 128,
  IMMEDIATE_EXIT: 136,
  X86_DISABLE_EXITS: 143,
  HALT_POLL: 182,
  ENFORCE_PV_FEATURE_CPUID: 190,
  SET_GUEST_DEBUG2: 195,
  DISABLE_QUIRKS2: 213,
});

/** args[0] of KVM_CAP_X86_DISABLE_EXITS. u64: OVERRIDE is bit 63. */
export const KVM_X86_DISABLE_EXITS = new ConstTable<bigint>('KVM_X86_DISABLE_EXITS_', {
  MWAIT: 1n << 0n,
  HLT: 1n << 1n,
  PAUSE: 1n << 2n,
  CSTATE: 1n << 3n,
  APERFMPERF: 1n << 4n, // mainline v6.17, commit a7cec20845a6
  OVERRIDE: 1n << 63n, // proposed by RFC v4 4/7, never merged
});
export const KVM_X86_DISABLE_EXITS_MWAIT = 1n << 0n;
export const KVM_X86_DISABLE_EXITS_HLT = 1n << 1n;
export const KVM_X86_DISABLE_EXITS_PAUSE = 1n << 2n;
export const KVM_X86_DISABLE_EXITS_CSTATE = 1n << 3n;
export const KVM_X86_DISABLE_EXITS_APERFMPERF = 1n << 4n;
export const KVM_X86_DISABLE_EXITS_OVERRIDE = 1n << 63n;
/** MWAIT|HLT|PAUSE|CSTATE; removed from the UAPI in v6.14 (commit af5366bea2cb). */
export const KVM_X86_DISABLE_VALID_EXITS = 0xfn;

export const KVM_GUESTDBG = new ConstTable('KVM_GUESTDBG_', {
  ENABLE: 0x00000001,
  SINGLESTEP: 0x00000002,
  EXIT_USERSPACE: 0x00000004, // proposed by RFC v4 6/7, dropped in v5
  USE_SW_BP: 0x00010000,
  USE_HW_BP: 0x00020000,
  INJECT_DB: 0x00040000,
  INJECT_BP: 0x00080000,
  BLOCKIRQ: 0x00100000,
});
export const KVM_GUESTDBG_ENABLE = 0x1;
export const KVM_GUESTDBG_SINGLESTEP = 0x2;
export const KVM_GUESTDBG_EXIT_USERSPACE = 0x4;
export const KVM_GUESTDBG_USE_SW_BP = 0x00010000;
export const KVM_GUESTDBG_USE_HW_BP = 0x00020000;
export const KVM_GUESTDBG_INJECT_DB = 0x00040000;
export const KVM_GUESTDBG_INJECT_BP = 0x00080000;
export const KVM_GUESTDBG_BLOCKIRQ = 0x00100000;
/** x86 kvm_host.h; only the KVM_CAP_SET_GUEST_DEBUG2 answer, never used to validate. */
export const KVM_GUESTDBG_VALID_MASK = 0x001f0003;

export const KVM_EXIT = new ConstTable('KVM_EXIT_', {
  UNKNOWN: 0, EXCEPTION: 1, IO: 2, HYPERCALL: 3, DEBUG: 4, HLT: 5, MMIO: 6, IRQ_WINDOW_OPEN: 7,
  SHUTDOWN: 8, FAIL_ENTRY: 9, INTR: 10, SET_TPR: 11, TPR_ACCESS: 12, NMI: 16, INTERNAL_ERROR: 17,
  SYSTEM_EVENT: 24, IOAPIC_EOI: 26, HYPERV: 27, X86_RDMSR: 29, X86_WRMSR: 30, DIRTY_RING_FULL: 31,
  AP_RESET_HOLD: 32, X86_BUS_LOCK: 33, XEN: 34, NOTIFY: 37, LOONGARCH_IOCSR: 38, MEMORY_FAULT: 39,
});

export const KVM_INTERNAL_ERROR = new ConstTable('KVM_INTERNAL_ERROR_', {
  EMULATION: 1, SIMUL_EX: 2, DELIVERY_EV: 3, UNEXPECTED_EXIT_REASON: 4,
});
export const KVM_EXIT_IO_IN = 0;
export const KVM_EXIT_IO_OUT = 1;

export const KVM_MP_STATE = new ConstTable('KVM_MP_STATE_', {
  RUNNABLE: 0, UNINITIALIZED: 1, INIT_RECEIVED: 2, HALTED: 3, SIPI_RECEIVED: 4, STOPPED: 5,
  CHECK_STOP: 6, OPERATING: 7, LOAD: 8, AP_RESET_HOLD: 9, SUSPENDED: 10,
});
export const KVM_MP_STATE_RUNNABLE = 0, KVM_MP_STATE_UNINITIALIZED = 1, KVM_MP_STATE_INIT_RECEIVED = 2,
  KVM_MP_STATE_HALTED = 3, KVM_MP_STATE_AP_RESET_HOLD = 9;

export const KVM_EXIT_UNKNOWN = 0, KVM_EXIT_EXCEPTION = 1, KVM_EXIT_IO = 2, KVM_EXIT_HYPERCALL = 3, KVM_EXIT_DEBUG = 4, KVM_EXIT_HLT = 5,
  KVM_EXIT_MMIO = 6, KVM_EXIT_IRQ_WINDOW_OPEN = 7, KVM_EXIT_SHUTDOWN = 8, KVM_EXIT_FAIL_ENTRY = 9, KVM_EXIT_INTR = 10,
  KVM_EXIT_SET_TPR = 11,
  KVM_EXIT_INTERNAL_ERROR = 17, KVM_EXIT_X86_BUS_LOCK = 33;
export const KVM_INTERNAL_ERROR_EMULATION = 1, KVM_INTERNAL_ERROR_SIMUL_EX = 2, KVM_INTERNAL_ERROR_DELIVERY_EV = 3,
  KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON = 4;

/** The errnos the model returns, with Linux's numbers (asm-generic/errno-base.h). */
export const ERRNO = new ConstTable('', {
  EPERM: 1, ENOENT: 2, EINTR: 4, ENXIO: 6, E2BIG: 7, EBADF: 9, EAGAIN: 11, ENOMEM: 12, EFAULT: 14,
  EBUSY: 16, EEXIST: 17, EINVAL: 22, ENOTTY: 25, ENOSPC: 28, EOPNOTSUPP: 95,
});
export const EPERM = 1, ENOENT = 2, EINTR = 4, ENXIO = 6, E2BIG = 7, EBADF = 9, EAGAIN = 11,
  ENOMEM = 12, EFAULT = 14, EBUSY = 16, EEXIST = 17, EINVAL = 22, ENOTTY = 25, ENOSPC = 28,
  EOPNOTSUPP = 95;

/** The `struct kvm_run` exit union starts here; hw.hardware_exit_reason, io, mmio, debug all begin at it. */
export const KVM_RUN_EXIT_UNION_OFFSET = 32;

/** Byte offsets in `struct kvm_run` (include/uapi/linux/kvm.h, x86-64 layout). */
export const KVM_RUN = {
  request_interrupt_window: 0, // u8
  immediate_exit: 1, // u8
  exit_reason: 8, // u32
  ready_for_interrupt_injection: 12, // u8
  if_flag: 13, // u8
  flags: 14, // u16
  cr8: 16, // u64
  apic_base: 24, // u64
  // The exit union (256 bytes); every member starts at KVM_RUN_EXIT_UNION_OFFSET.
  hw_hardware_exit_reason: 32, // u64
  fail_entry_hardware_entry_failure_reason: 32, // u64
  fail_entry_cpu: 40, // u32
  ex_exception: 32, // u32
  ex_error_code: 36, // u32
  io_direction: 32, // u8
  io_size: 33, // u8
  io_port: 34, // u16
  io_count: 36, // u32
  io_data_offset: 40, // u64: from the start of the mmap'd area
  debug_exception: 32, // u32 (struct kvm_debug_exit_arch)
  debug_pc: 40, // u64
  debug_dr6: 48, // u64
  debug_dr7: 56, // u64
  mmio_phys_addr: 32, // u64
  mmio_data: 40, // u8[8]
  mmio_len: 48, // u32
  mmio_is_write: 52, // u8
  hypercall_nr: 32, // u64
  hypercall_args: 40, // u64[6]
  hypercall_ret: 88, // u64
  internal_suberror: 32, // u32
  internal_ndata: 36, // u32
  internal_data: 40, // u64[16]
  kvm_valid_regs: 288, // u64
  kvm_dirty_regs: 296, // u64
  size: 2352, // through the 2048-byte `s` union
} as const;
/** KVM_PIO_PAGE_OFFSET: IO data lives in the second page of the vCPU mmap. */
export const KVM_PIO_PAGE_OFFSET = 1;
export const PAGE_SIZE = 4096;
/** run->flags bit set when a bus lock was detected. */
export const KVM_RUN_X86_BUS_LOCK = 1 << 1;

/** KVM_CAP_DISABLE_QUIRKS / KVM_CAP_DISABLE_QUIRKS2 args[0] bits (arch/x86/include/uapi/asm/kvm.h). */
export const KVM_X86_QUIRK = new ConstTable('KVM_X86_QUIRK_', {
  LINT0_REENABLED: 1 << 0,
  CD_NW_CLEARED: 1 << 1,
  LAPIC_MMIO_HOLE: 1 << 2,
  OUT_7E_INC_RIP: 1 << 3,
  MISC_ENABLE_NO_MWAIT: 1 << 4,
  FIX_HYPERCALL_INSN: 1 << 5,
  MWAIT_NEVER_UD_FAULTS: 1 << 6, // v6.0
});
export const KVM_X86_QUIRK_OUT_7E_INC_RIP = 1 << 3;
export const KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT = 1 << 4;
export const KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS = 1 << 6;

/** Hypercall numbers in RAX (include/uapi/linux/kvm_para.h) and their error returns. */
export const KVM_HC = new ConstTable<number>('KVM_HC_', {
  VAPIC_POLL_IRQ: 1, MMU_OP: 2, FEATURES: 3, PPC_MAP_MAGIC_PAGE: 4, KICK_CPU: 5, MIPS_GET_CLOCK_FREQ: 6,
  MIPS_EXIT_VM: 7, MIPS_CONSOLE_OUTPUT: 8, CLOCK_PAIRING: 9, SEND_IPI: 10, SCHED_YIELD: 11, MAP_GPA_RANGE: 12,
});
export const KVM_ENOSYS = 1000;

/** VMX basic exit reasons (SDM Appendix C), with Linux's EXIT_REASON_ names. */
export const VMX_EXIT_REASON = new ConstTable<number>('EXIT_REASON_', Object.fromEntries(
  Object.entries(abi).filter(([k]) => k.startsWith('EXIT_REASON_')).map(([k, v]) => [k.slice('EXIT_REASON_'.length), v as number]),
));
