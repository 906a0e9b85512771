// KVM's userspace ABI: the names and numbers of include/uapi/linux/kvm.h and the x86 asm/kvm.h,
// as listed in spec/kvm-semantics.md §1, both ways (name → number and number → name).
// Proposed-only values (OVERRIDE, EXIT_USERSPACE) are marked with the patch that proposed them.

/** A table of named constants with lookups both ways. */
export class ConstTable<V extends number | bigint = number> {
  readonly byName: ReadonlyMap<string, V>;
  constructor(readonly prefix: string, entries: Record<string, V>) {
    this.byName = new Map(Object.entries(entries));
  }
  /** Accepts the name with or without the prefix (`"HLT"` or `"KVM_X86_DISABLE_EXITS_HLT"`). */
  value(name: string): V | undefined {
    const short = name.startsWith(this.prefix) ? name.slice(this.prefix.length) : name;
    return this.byName.get(short);
  }
  /** The full kernel name of a value, or undefined. */
  name(v: V): string | undefined {
    for (const [k, x] of this.byName) if (x === v) return this.prefix + k;
    return undefined;
  }
  /** Names of the set bits of a flag mask (full kernel names); unknown bits as hex. */
  flagNames(mask: V): string[] {
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
  SET_GUEST_DEBUG: 23,
  IMMEDIATE_EXIT: 136,
  X86_DISABLE_EXITS: 143,
  SET_GUEST_DEBUG2: 195,
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
