// `struct kvm_run` as the bytes userspace mmaps: the run structure in the first page and the PIO data
// page after it (KVM_PIO_PAGE_OFFSET). Kept as a byte buffer with typed accessors so the union
// members overlap as in the real layout: writing `io` overwrites `hw.hardware_exit_reason`.
import { KVM_PIO_PAGE_OFFSET, KVM_RUN as O, PAGE_SIZE } from './uapi';

/** The union member a handler filled last (what the result document reports next to exit_reason). */
export type RunUnionMember = 'hw' | 'io' | 'mmio' | 'debug' | 'internal' | 'fail_entry' | 'hypercall';

export class KvmRun {
  readonly bytes = new Uint8Array(PAGE_SIZE * (KVM_PIO_PAGE_OFFSET + 1));
  readonly dv = new DataView(this.bytes.buffer);
  /** Which union member the kernel wrote last; null while the page is still zero. */
  filled: RunUnionMember | null = null;

  get exit_reason(): number { return this.dv.getUint32(O.exit_reason, true); }
  set exit_reason(v: number) { this.dv.setUint32(O.exit_reason, v, true); }
  get immediate_exit(): number { return this.bytes[O.immediate_exit]; }
  set immediate_exit(v: number) { this.bytes[O.immediate_exit] = v; }
  get request_interrupt_window(): number { return this.bytes[O.request_interrupt_window]; }
  set request_interrupt_window(v: number) { this.bytes[O.request_interrupt_window] = v; }
  get flags(): number { return this.dv.getUint16(O.flags, true); }
  set flags(v: number) { this.dv.setUint16(O.flags, v, true); }

  u64(off: number): bigint { return this.dv.getBigUint64(off, true); }
  setU64(off: number, v: bigint | number): void { this.dv.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), true); }

  /** hw.hardware_exit_reason: the first 8 bytes of the exit union. */
  get hardware_exit_reason(): bigint { return this.u64(O.hw_hardware_exit_reason); }
  setHardwareExitReason(basic: number): void {
    this.dv.setUint32(O.hw_hardware_exit_reason, basic, true);
    this.dv.setUint32(O.hw_hardware_exit_reason + 4, 0, true);
    this.filled = 'hw';
  }

  /** Fills `io` (direction, size, port, count, data_offset into the PIO page). */
  setIo(direction: number, size: number, port: number, count: number): void {
    this.bytes[O.io_direction] = direction;
    this.bytes[O.io_size] = size;
    this.dv.setUint16(O.io_port, port, true);
    this.dv.setUint32(O.io_count, count, true);
    this.setU64(O.io_data_offset, KVM_PIO_PAGE_OFFSET * PAGE_SIZE);
    this.filled = 'io';
  }
  /** The PIO data page (what `io.data_offset` points at). */
  pioData(len: number): Uint8Array {
    return this.bytes.subarray(KVM_PIO_PAGE_OFFSET * PAGE_SIZE, KVM_PIO_PAGE_OFFSET * PAGE_SIZE + len);
  }

  setMmio(physAddr: number, len: number, isWrite: boolean, data: bigint): void {
    this.setU64(O.mmio_phys_addr, physAddr);
    this.setU64(O.mmio_data, data);
    this.dv.setUint32(O.mmio_len, len, true);
    this.bytes[O.mmio_is_write] = isWrite ? 1 : 0;
    this.filled = 'mmio';
  }
  /** run->mmio.data as userspace left it, the low `len` bytes. */
  mmioData(len: number): bigint {
    const v = this.u64(O.mmio_data);
    return len >= 8 ? v : v & ((1n << BigInt(len * 8)) - 1n);
  }

  setDebug(exception: number, pc: bigint, dr6: bigint, dr7: bigint): void {
    this.dv.setUint32(O.debug_exception, exception, true);
    this.dv.setUint32(O.debug_exception + 4, 0, true);
    this.setU64(O.debug_pc, pc);
    this.setU64(O.debug_dr6, dr6);
    this.setU64(O.debug_dr7, dr7);
    this.filled = 'debug';
  }

  setInternal(suberror: number, data: readonly bigint[]): void {
    this.dv.setUint32(O.internal_suberror, suberror, true);
    this.dv.setUint32(O.internal_ndata, data.length, true);
    data.forEach((d, i) => this.setU64(O.internal_data + 8 * i, d));
    this.filled = 'internal';
  }

  setFailEntry(reason: bigint, cpu: number): void {
    this.setU64(O.fail_entry_hardware_entry_failure_reason, reason);
    this.dv.setUint32(O.fail_entry_cpu, cpu, true);
    this.filled = 'fail_entry';
  }

  /** The post_kvm_run_save fields. */
  setPostRun(ifFlag: boolean, cr8: number, apicBase: bigint, readyForInjection: boolean): void {
    this.bytes[O.if_flag] = ifFlag ? 1 : 0;
    this.setU64(O.cr8, cr8);
    this.setU64(O.apic_base, apicBase);
    this.bytes[O.ready_for_interrupt_injection] = readyForInjection ? 1 : 0;
  }
}
