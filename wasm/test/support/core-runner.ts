// The core's side of a differential case: the same registers and memory at the same guest-physical
// addresses, every exception intercepted (EXCEPTION_BITMAP all ones, so it becomes an EXCEPTION_NMI
// exit before delivery) and HLT_EXITING on, so the case ends where the native one does. A case runs
// either with run() (the block cache and VMX exits) or instruction by instruction with emulate()
// (the path KVM's emulator takes), which stops at the HLT it does not handle.
import * as abi from '../../src/abi';
import type { Core } from '../../../src/model/cpu/core';
import type { Case, End, Outcome } from './case';
import { RAM_BYTES } from './layout';

const VCPU = 0;
/** Cycles a case may take with run(); generated cases need a few thousand. */
export const CASE_BUDGET = 1_000_000;
/** Calls of emulate() a case may take (REP strings take one per iteration). */
export const EMULATE_STEPS = 100_000;
const HLT = 0xf4;

export class CoreRunner {
  constructor(readonly core: Core) {
    core.init(RAM_BYTES, 1);
  }

  private load(c: Case): void {
    const { core } = this;
    core.x.resetVcpu(VCPU);
    c.gpr.forEach((v, i) => core.setU64(VCPU, abi.S_GPR + 8 * i, v));
    core.setReg(VCPU, 'rip', c.rip);
    core.setReg(VCPU, 'rflags', c.rflags);
    core.setU32(VCPU, abi.S_EXCEPTION_BITMAP, 0xffffffff);
    core.setU32(VCPU, abi.S_PROC_CONTROLS, abi.CPU_BASED_HLT_EXITING);
    for (const r of c.regions) core.writeMem(r.gpa, r.bytes);
  }

  private outcome(c: Case, end: End, rip: bigint): Outcome {
    const { core } = this;
    return {
      end,
      gpr: Array.from({ length: 16 }, (_, i) => core.u64(VCPU, abi.S_GPR + 8 * i)),
      rip,
      rflags: core.reg(VCPU, 'rflags'),
      regions: c.regions.map((r) => core.readMem(r.gpa, r.bytes.length)),
    };
  }

  /** The case with run(): until its HLT exits, an exception exits, or the budget is spent. */
  run(c: Case, budget = CASE_BUDGET): Outcome {
    const { core } = this;
    this.load(c);
    const result = core.run(VCPU, budget);
    let rip = core.reg(VCPU, 'rip');
    let end: End;
    if (result === abi.RUN_EXIT) {
      const reason = core.u32(VCPU, abi.S_EXIT_REASON) & 0xffff;
      if (reason === abi.EXIT_REASON_HLT) end = { kind: 'halt' };
      else if (reason === abi.EXIT_REASON_EXCEPTION_NMI) {
        const info = core.u32(VCPU, abi.S_EXIT_INTR_INFO);
        end = { kind: 'exception', vector: info & abi.INTR_INFO_VECTOR_MASK };
        // INT3/INTO exit before they are delivered, at the instruction; the native CPU reports the
        // trap after it. Move the core's RIP to where a trap would leave it.
        if (((info >>> abi.INTR_INFO_TYPE_SHIFT) & 7) === abi.INTR_TYPE_SOFT_EXCEPTION) rip += BigInt(core.u32(VCPU, abi.S_EXIT_INSN_LEN));
      } else end = { kind: 'exit', reason };
    } else if (result === abi.RUN_HALTED) end = { kind: 'waiting' };
    else end = { kind: 'timeout' };
    return this.outcome(c, end, rip);
  }

  /**
   * The case with emulate(), one instruction per call: until the HLT (which emulate() leaves to its
   * caller), an exception, or EMULATE_STEPS calls. An access outside RAM, which would need an MMIO
   * fragment, ends it as run() would: with an EPT violation.
   */
  emulate(c: Case, steps = EMULATE_STEPS): Outcome {
    const { core } = this;
    this.load(c);
    let end: End = { kind: 'timeout' };
    for (let n = 0; n < steps; n++) {
      const result = core.emulate(VCPU);
      if (result === abi.EMUL_DONE) continue;
      if (result === abi.EMUL_UNHANDLED) {
        const rip = Number(core.reg(VCPU, 'rip'));
        end = core.inRam(rip, 1) && core.readMem(rip, 1)[0] === HLT ? { kind: 'halt' } : { kind: 'unhandled' };
      } else if (result === abi.EMUL_EXCEPTION) end = { kind: 'exception', vector: core.u32(VCPU, abi.S_EXIT_INTR_INFO) & abi.INTR_INFO_VECTOR_MASK };
      else end = { kind: 'exit', reason: abi.EXIT_REASON_EPT_VIOLATION };
      break;
    }
    return this.outcome(c, end, core.reg(VCPU, 'rip'));
  }
}
