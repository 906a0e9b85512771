// Small helpers for driving the core from tests: guest code as annotated hex, a vCPU set up to run it,
// an IDT, and the exit information as plain data. Used by wasm/test/ and by model tests that need a
// guest; nothing here is part of the simulation.
import * as abi from '../../../wasm/src/abi';
import { loadCore } from './node';
import type { Core } from './core';

export const CODE = 0x1000; //  where load() puts code by default
export const STACK = 0x8000; // initial RSP
export const IDT = 0x9000; //   where installIdt() puts the IDT by default

/**
 * Guest code as hex bytes, one instruction per line with its NASM text after a `;`:
 *   hex`b8 01 00 00 00   ; mov eax, 1
 *       f4               ; hlt`
 */
export function hex(strings: TemplateStringsArray, ...values: unknown[]): number[] {
  const text = strings.reduce((s, part, i) => s + part + (i < values.length ? String(values[i]) : ''), '');
  const bytes: number[] = [];
  for (const line of text.split('\n')) {
    for (const tok of line.split(';')[0].trim().split(/\s+/)) {
      if (!tok) continue;
      if (!/^[0-9a-fA-F]{2}$/.test(tok)) throw new Error(`not a hex byte: "${tok}" in "${line.trim()}"`);
      bytes.push(parseInt(tok, 16));
    }
  }
  return bytes;
}

/** A core with `vcpus` reset vCPUs and `ram` bytes of RAM. */
export async function machine(opts: { ram?: number; vcpus?: number } = {}): Promise<Core> {
  const core = await loadCore();
  core.init(opts.ram ?? 1 << 20, opts.vcpus ?? 1);
  for (let v = 0; v < core.vcpus; v++) core.x.resetVcpu(v);
  return core;
}

/** Writes code and points the (active) vCPU at it, with RSP = STACK. HLT exits unless told otherwise. */
export function load(core: Core, code: number[], opts: { vcpu?: number; at?: number; procControls?: number } = {}): void {
  const v = opts.vcpu ?? 0, at = opts.at ?? CODE;
  core.writeMem(at, code);
  core.setReg(v, 'rip', BigInt(at));
  core.setReg(v, 'rsp', BigInt(STACK));
  core.setU32(v, abi.S_ACTIVITY, abi.ACTIVITY_ACTIVE);
  core.setU32(v, abi.S_PROC_CONTROLS, opts.procControls ?? abi.CPU_BASED_HLT_EXITING);
}

/** Runs until something other than a spent budget (or `limit` cycles in all); returns the last RUN_*. */
export function runUntil(core: Core, vcpu = 0, limit = 10_000_000): number {
  let r = abi.RUN_BUDGET;
  for (let used = 0; r === abi.RUN_BUDGET && used < limit; used += 1_000_000) r = core.run(vcpu, 1_000_000);
  return r;
}

export interface ExitInfo {
  reason: number; qual: bigint; len: number; gpa: bigint; gla: bigint;
  intrInfo: number; intrErr: number; vectoring: number; insnInfo: number;
  accessSize: number; accessWrite: number; accessData: bigint;
}

export function exitInfo(core: Core, vcpu = 0): ExitInfo {
  return {
    reason: core.u32(vcpu, abi.S_EXIT_REASON), qual: core.u64(vcpu, abi.S_EXIT_QUAL),
    len: core.u32(vcpu, abi.S_EXIT_INSN_LEN), gpa: core.u64(vcpu, abi.S_EXIT_GPA),
    gla: core.u64(vcpu, abi.S_EXIT_GLA), intrInfo: core.u32(vcpu, abi.S_EXIT_INTR_INFO),
    intrErr: core.u32(vcpu, abi.S_EXIT_INTR_ERR), vectoring: core.u32(vcpu, abi.S_IDT_VECTORING_INFO),
    insnInfo: core.u32(vcpu, abi.S_EXIT_INSN_INFO), accessSize: core.u32(vcpu, abi.S_ACCESS_SIZE),
    accessWrite: core.u32(vcpu, abi.S_ACCESS_WRITE), accessData: core.u64(vcpu, abi.S_ACCESS_DATA),
  };
}

/**
 * Writes a 64-bit IDT at `base` with a gate per vector → handler address (interrupt gates, or trap
 * gates for the vectors in `trap`) and loads IDTR with room for 256 vectors.
 */
export function installIdt(core: Core, handlers: Record<number, number>, opts: { vcpu?: number; base?: number; trap?: number[] } = {}): void {
  const v = opts.vcpu ?? 0, base = opts.base ?? IDT;
  for (const [vec, target] of Object.entries(handlers)) {
    core.ram(base + Number(vec) * 16, 16).set(gate(target, opts.trap?.includes(Number(vec)) ? 0xf : 0xe));
  }
  core.x.invalidateCode(base, 256 * 16);
  core.setU64(v, abi.S_IDTR_BASE, BigInt(base));
  core.setU32(v, abi.S_IDTR_LIMIT, 256 * 16 - 1);
}

/** A present 64-bit gate descriptor (type 0xe interrupt, 0xf trap) to `target` through selector 0x08. */
export function gate(target: number, type = 0xe): Uint8Array {
  const g = new Uint8Array(16), dv = new DataView(g.buffer);
  dv.setUint16(0, target & 0xffff, true);
  dv.setUint16(2, 0x08, true);
  dv.setUint8(5, 0x80 | type);
  dv.setUint16(6, (target >>> 16) & 0xffff, true);
  dv.setUint32(8, Math.floor(target / 2 ** 32), true);
  return g;
}

export type RegInit = Partial<Record<'rax' | 'rcx' | 'rdx' | 'rbx' | 'rsp' | 'rbp' | 'rsi' | 'rdi' | 'r8' | 'r9' | 'r10' | 'r11' | 'r12' | 'r13' | 'r14' | 'r15' | 'rflags', bigint>>;

/**
 * Runs `code` followed by HLT (which exits) with the given registers, and returns the registers at
 * the HLT. Throws if anything else stops it: a test about one instruction should see only that.
 */
export function step(core: Core, code: number[], regs: RegInit = {}, vcpu = 0): ReturnType<Core['regs']> {
  load(core, [...code, 0xf4], { vcpu });
  for (const [name, value] of Object.entries(regs)) core.setReg(vcpu, name as keyof RegInit, value as bigint);
  const r = core.run(vcpu, 1_000_000);
  const info = exitInfo(core, vcpu);
  const at = core.reg(vcpu, 'rip');
  if (r !== abi.RUN_EXIT || info.reason !== abi.EXIT_REASON_HLT || at !== BigInt(CODE + code.length)) {
    throw new Error(`expected the HLT exit at ${CODE + code.length}, got run ${r} reason ${info.reason} at ${at} (intr info 0x${info.intrInfo.toString(16)})`);
  }
  return core.regs(vcpu);
}
