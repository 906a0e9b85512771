// The scenario document (spec/scenario-format.md, "exitscope/1") after parsing, validation and
// defaults: every field present, every name resolved to its number, every size in bytes.
// The raw JSON shape is the spec's; this is what the Simulator consumes.
import { GPR_NAMES, type RegName } from '../cpu/core';

export const KERNELS = ['v5.19', 'rfc-v4', 'rfc-v6', 'mainline'] as const;
export type KernelName = (typeof KERNELS)[number];

/** `"vm"`, or `"vcpuN"` for the vCPU created with id N. */
export type Fd = 'vm' | `vcpu${number}`;

export interface Host {
  vendor: 'intel';
  mwait: boolean; // kvm_can_mwait_in_guest()
  smt_rsb: boolean; // mitigate_smt_rsb module parameter (mainline)
  pcpus: number;
  ghz: number; // guest instructions retired per ns; the clock for cycle costs
  exit_cycles: number; // one VM-exit plus VM-entry
  halt_poll_ns: number;
}

export interface Vm {
  irqchip: 'kernel' | 'userspace';
  memory: number; // bytes, multiple of 4 KiB, ≤ 64 MiB
}

export interface Guest {
  asm?: string; // Intel syntax, NASM style
  hex?: string; // or raw bytes
  org: number; // GPA where the code is loaded
  entry: string | number; // label or address; defaults to org
}

/** What an operation's result must contain (partial match). Kept as the user wrote it. */
export type Expect = Record<string, unknown>;

interface OpBase { expect?: Expect }
export type Op =
  | (OpBase & { op: 'check_extension'; cap: number })
  | (OpBase & { op: 'create_vcpu'; id: number; regs?: Partial<Record<RegName, bigint>> })
  | (OpBase & { op: 'enable_cap'; fd: Fd; cap: number; args: bigint; args_more: bigint[]; flags: number })
  | (OpBase & { op: 'set_guest_debug'; fd: Fd; control: number })
  | (OpBase & {
    op: 'run'; fd: Fd; timeout_ns: number;
    /** Bytes the program writes at run->io.data_offset before this KVM_RUN (the data of a pending IN). */
    io_data?: number[];
    /** Bytes the program writes into run->mmio.data before this KVM_RUN (the data of a pending MMIO read). */
    mmio_data?: number[];
  })
  | (OpBase & { op: 'run_threads'; fds: Fd[]; for_ns: number })
  | (OpBase & { op: 'get_regs'; fd: Fd })
  | (OpBase & { op: 'set_regs'; fd: Fd; regs: Partial<Record<RegName, bigint>> })
  | (OpBase & { op: 'get_mp_state'; fd: Fd })
  | (OpBase & { op: 'interrupt'; fd: Fd; vector: number })
  | (OpBase & { op: 'stats'; fd: Fd });
export type OpName = Op['op'];

export interface Scenario {
  format: 'exitscope/1';
  title: string;
  description?: string; // optional extension: shown by the lab and the gallery
  kernel: KernelName;
  patches: number; // rfc-v4 only: patches 1..N applied, 0..6
  host: Host;
  vm: Vm;
  guest: Guest;
  program: Op[];
}

export const DEFAULT_HOST: Host = {
  vendor: 'intel', mwait: true, smt_rsb: false, pcpus: 4, ghz: 3, exit_cycles: 1100, halt_poll_ns: 200000,
};
export const DEFAULT_RUN_TIMEOUT_NS = 1e9;
export const DEFAULT_MEMORY = 4 << 20;
export const DEFAULT_ORG = 0x10000;
/** With rfc-v4: the series has 7 patches, and the 7th is the selftest, so 6 change the kernel. */
export const RFC_V4_PATCHES = 6;
export const REG_NAMES: readonly RegName[] = [...GPR_NAMES, 'rip', 'rflags'];
