// The TypeScript face of the WebAssembly core: typed access to its exports and to the per-vCPU
// state blocks that wasm/src/abi.ts lays out in linear memory. No copies: every accessor reads or
// writes the wasm memory directly, so the model and the core always agree.
import * as abi from '../../../wasm/src/abi';
import * as mnemonics from '../../../wasm/src/mnemonics';

/** The raw exports of core.wasm (built from wasm/src/core.ts). */
export interface CoreExports {
  memory: WebAssembly.Memory;
  /** Sizes guest RAM (bytes, ≤ MAX_RAM), zeroes RAM and every state block, flushes the decode cache. */
  init(ramBytes: number, vcpus: number): void;
  /** Architectural state of a freshly created vCPU: 64-bit mode, flat segments, RFLAGS = 0x2. */
  resetVcpu(vcpu: number): void;
  /**
   * Runs the vCPU until a VM exit (RUN_EXIT: S_EXIT_* valid, RIP at the exiting instruction), the
   * HLT/MWAIT wait state (RUN_HALTED, at once and on every call until something wakes it, using no
   * cycles), or `budget` TSC cycles (RUN_BUDGET; at least one instruction or REP iteration runs, so 1
   * single-steps). Reads the registers, controls and event lines from the state block on entry.
   * Secondary controls count only with CPU_BASED_ACTIVATE_SECONDARY_CONTROLS set, as on VMX.
   */
  run(vcpu: number, budget: number): number;
  /**
   * Executes one instruction at RIP as KVM's emulator would (no VMX controls; the n-th access outside
   * RAM is served by MMIO fragment n, or it stops with EMUL_MMIO and nothing changed). A REP string
   * instruction does one iteration per call. EMUL_*.
   */
  emulate(vcpu: number): number;
  /** Must follow any write to guest RAM from outside the core (pre-decoded instructions are cached;
   *  a write to a line armed by MONITOR also wakes the vCPU waiting in MWAIT). */
  invalidateCode(gpa: number, len: number): void;
  flushCodeCache(): void;
  /** After how many iterations a hot loop (reached by a backward branch) is compiled to WebAssembly
   *  (default 64); 0 turns the compiler off. */
  setJitThreshold(n: number): void;
  /** Length of the instruction at gpa as the core decodes it, 0 when it would raise #UD (or #GP for
   *  more than 15 bytes, or runs out of RAM); the mnemonic's index goes to abi.DECODE_MNEMONIC. */
  decode(gpa: number): number;
}

/** Mnemonic names (iced-x86's spelling) by the index decode() writes to abi.DECODE_MNEMONIC. */
export const MNEMONIC_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, index] of Object.entries(mnemonics)) if (name !== 'MNEMONIC_COUNT') names[index] = name;
  return names;
})();

export const GPR_NAMES = [
  'rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
] as const;
export type GprName = (typeof GPR_NAMES)[number];
export type RegName = GprName | 'rip' | 'rflags';
export type Regs = Record<RegName, bigint>;

export async function instantiateCore(module: WebAssembly.Module): Promise<Core> {
  // The core compiles hot loops into small modules of their own (wasm/src/jit.ts): env.jit compiles
  // one and puts its function into the table the core calls through. They share the core's memory.
  const table = new WebAssembly.Table({ initial: 2, element: 'anyfunc' });
  const jit = { compiled: 0, errors: [] as string[] };
  let memory: WebAssembly.Memory | undefined;
  const instance = await WebAssembly.instantiate(module, {
    env: {
      table,
      abort(_msg: number, _file: number, line: number, col: number) {
        throw new Error(`core.wasm aborted at ${line}:${col}`);
      },
      jit(ptr: number, len: number, index: number): number {
        try {
          const m = new WebAssembly.Module(new Uint8Array(memory!.buffer, ptr, len));
          const f = new WebAssembly.Instance(m, { env: { memory: memory! } }).exports.f as () => number;
          if (index >= table.length) table.grow(index + 1 - table.length);
          table.set(index, f);
          jit.compiled++;
          return 1;
        } catch (err) {
          // The block stays interpreted; a test looks at jit.errors to catch a compiler bug.
          jit.errors.push(String(err));
          return 0;
        }
      },
    },
  });
  memory = instance.exports.memory as WebAssembly.Memory;
  const core = new Core(instance.exports as unknown as CoreExports);
  core.jit = jit;
  return core;
}

export class Core {
  private view: DataView;
  ramBytes = 0;
  vcpus = 0;
  /** Loops compiled to WebAssembly so far, and modules the host could not compile (a compiler bug). */
  jit = { compiled: 0, errors: [] as string[] };

  constructor(readonly x: CoreExports) {
    this.view = new DataView(x.memory.buffer);
  }

  /** DataView over the current memory (memory.grow, which only init() does, detaches the old buffer). */
  get dv(): DataView {
    if (this.view.buffer.byteLength === 0) this.view = new DataView(this.x.memory.buffer);
    return this.view;
  }

  init(ramBytes: number, vcpus: number): void {
    if (ramBytes <= 0 || ramBytes > abi.MAX_RAM || ramBytes % 4096) throw new RangeError(`guest RAM ${ramBytes}`);
    if (vcpus < 1 || vcpus > abi.MAX_VCPUS) throw new RangeError(`vcpus ${vcpus}`);
    this.x.init(ramBytes, vcpus);
    this.ramBytes = ramBytes;
    this.vcpus = vcpus;
  }

  base(vcpu: number): number {
    return abi.STATE_BASE + vcpu * abi.STATE_STRIDE;
  }

  u32(vcpu: number, off: number): number {
    return this.dv.getUint32(this.base(vcpu) + off, true);
  }
  setU32(vcpu: number, off: number, v: number): void {
    this.dv.setUint32(this.base(vcpu) + off, v >>> 0, true);
  }
  u64(vcpu: number, off: number): bigint {
    return this.dv.getBigUint64(this.base(vcpu) + off, true);
  }
  setU64(vcpu: number, off: number, v: bigint): void {
    this.dv.setBigUint64(this.base(vcpu) + off, BigInt.asUintN(64, v), true);
  }
  /** A u64 field that stays below 2^53 (TSC, counters, RIP) as a number, without BigInt (exit paths use it). */
  num(vcpu: number, off: number): number {
    const at = this.base(vcpu) + off, dv = this.dv;
    return dv.getUint32(at + 4, true) * 2 ** 32 + dv.getUint32(at, true);
  }
  setNum(vcpu: number, off: number, v: number): void {
    const at = this.base(vcpu) + off, dv = this.dv;
    dv.setUint32(at, v >>> 0, true);
    dv.setUint32(at + 4, Math.floor(v / 2 ** 32) >>> 0, true);
  }

  reg(vcpu: number, name: RegName): bigint {
    return this.u64(vcpu, regOffset(name));
  }
  setReg(vcpu: number, name: RegName, v: bigint): void {
    this.setU64(vcpu, regOffset(name), v);
  }
  regs(vcpu: number): Regs {
    const r = {} as Regs;
    for (const n of GPR_NAMES) r[n] = this.reg(vcpu, n);
    r.rip = this.reg(vcpu, 'rip');
    r.rflags = this.reg(vcpu, 'rflags');
    return r;
  }

  run(vcpu: number, budget: number): number {
    return this.x.run(vcpu, Math.min(budget, 0xffffffff) >>> 0);
  }
  emulate(vcpu: number): number {
    return this.x.emulate(vcpu);
  }

  /** The instruction at gpa as the core decodes it: its length (0 if it raises #UD) and mnemonic. */
  decode(gpa: number): { length: number; mnemonic: string } {
    this.check(gpa, 1);
    const length = this.x.decode(gpa);
    return { length, mnemonic: MNEMONIC_NAMES[this.dv.getUint32(abi.DECODE_MNEMONIC, true)] };
  }

  /** Guest RAM as a view (no copy). Throws for a range outside RAM. */
  ram(gpa: number, len: number): Uint8Array {
    if (gpa < 0 || len < 0 || gpa + len > this.ramBytes) throw new RangeError(`GPA 0x${gpa.toString(16)}+${len} outside RAM`);
    return new Uint8Array(this.x.memory.buffer, abi.RAM_BASE + gpa, len);
  }
  inRam(gpa: number, len: number): boolean {
    return gpa >= 0 && gpa + len <= this.ramBytes;
  }
  readMem(gpa: number, len: number): Uint8Array {
    return this.ram(gpa, len).slice();
  }
  writeMem(gpa: number, bytes: ArrayLike<number>): void {
    this.ram(gpa, bytes.length).set(bytes);
    this.x.invalidateCode(gpa, bytes.length);
  }
  readU64(gpa: number): bigint {
    return this.dv.getBigUint64(abi.RAM_BASE + this.check(gpa, 8), true);
  }
  writeU64(gpa: number, v: bigint): void {
    this.dv.setBigUint64(abi.RAM_BASE + this.check(gpa, 8), BigInt.asUintN(64, v), true);
    this.x.invalidateCode(gpa, 8);
  }
  private check(gpa: number, len: number): number {
    if (!this.inRam(gpa, len)) throw new RangeError(`GPA 0x${gpa.toString(16)} outside RAM`);
    return gpa;
  }

  /** Set bit = intercept, in the vCPU's VMX MSR bitmap (SDM layout). MSRs outside both ranges always exit. */
  setMsrIntercept(vcpu: number, msr: number, read: boolean, write: boolean): void {
    const at = msrBitmapBit(msr);
    if (!at) return;
    const mem = new Uint8Array(this.x.memory.buffer, abi.MSRBM_BASE + vcpu * abi.MSRBM_STRIDE, abi.MSRBM_STRIDE);
    const put = (quarter: number, on: boolean) => {
      const byte = quarter + at.byte;
      mem[byte] = on ? mem[byte] | at.mask : mem[byte] & ~at.mask;
    };
    put(at.readQuarter, read);
    put(at.readQuarter + abi.MSRBM_WRITE_LOW, write);
  }
  msrIntercepted(vcpu: number, msr: number, write: boolean): boolean {
    const at = msrBitmapBit(msr);
    if (!at) return true;
    const mem = new Uint8Array(this.x.memory.buffer, abi.MSRBM_BASE + vcpu * abi.MSRBM_STRIDE, abi.MSRBM_STRIDE);
    return (mem[at.readQuarter + (write ? abi.MSRBM_WRITE_LOW : 0) + at.byte] & at.mask) !== 0;
  }
  /** Intercept every MSR (reads and writes) for the vCPU. */
  interceptAllMsrs(vcpu: number): void {
    new Uint8Array(this.x.memory.buffer, abi.MSRBM_BASE + vcpu * abi.MSRBM_STRIDE, abi.MSRBM_STRIDE).fill(0xff);
  }
}

function regOffset(name: RegName): number {
  if (name === 'rip') return abi.S_RIP;
  if (name === 'rflags') return abi.S_RFLAGS;
  const i = GPR_NAMES.indexOf(name);
  if (i < 0) throw new Error(`unknown register ${name}`);
  return abi.S_GPR + i * 8;
}

function msrBitmapBit(msr: number): { readQuarter: number; byte: number; mask: number } | null {
  const m = msr >>> 0;
  let quarter: number, idx: number;
  if (m <= 0x1fff) { quarter = abi.MSRBM_READ_LOW; idx = m; }
  else if (m >= 0xc0000000 && m <= 0xc0001fff) { quarter = abi.MSRBM_READ_HIGH; idx = m - 0xc0000000; }
  else return null;
  return { readQuarter: quarter, byte: idx >> 3, mask: 1 << (idx & 7) };
}
