// core.wasm: an x86-64 vCPU with VMX exit controls (the exports of src/model/cpu/core.ts CoreExports).
// The state it shares with the model lives at the fixed addresses of abi.ts.
//
// How it runs guest code:
//   decoder.ts + optable.ts   bytes → pre-decoded entries (layout.ts), one table drives the decoding
//   cache.ts                  blocks of entries, found by RIP; writes to code lines flush them
//   exec.ts                   one switch over the op ids (handlers in alu.ts, strings.ts, system.ts),
//                             chaining blocks; flags are lazy (flags.ts)
//   jit.ts                    hot loops (traces through calls and jumps) compiled to WebAssembly
//   run.ts                    run()/emulate(): events at instruction boundaries, VMX exits, accounting
//   events.ts                 delivery through the IDT, #DF, triple fault, exception-bitmap exits
//   mem.ts                    RAM, EPT violations, the APIC page, MMIO fragments, monitors
//   costs.ts                  the cycles each instruction costs
import {
  STATE_BASE, STATE_STRIDE, MAX_VCPUS, MSRBM_BASE, MSRBM_STRIDE, RAM_BASE, MAX_RAM, DECODE_MNEMONIC,
  S_RFLAGS, S_CR0, S_CR4, S_MSR_EFER, S_MSR_APIC_BASE, S_CS, S_SS, S_DR6, S_DR7, S_IDTR_LIMIT, S_XCR0,
  X86_EFLAGS_FIXED, DR6_ACTIVE_LOW, APIC_BASE_GPA,
} from './abi';
import { DEFAULT_JIT_THRESHOLD } from './jit';
import { DATA_END, JIT_THRESHOLD, LINE_FLAGS, LINE_SHIFT, LINE_CODE, LINE_MONITOR, BLOCK_MAP, MAP_SLOTS, MAP_SLOT, SCRATCH, E_LEN } from './layout';
import { buildOpTable } from './optable';
import { buildTraits, flushCode } from './cache';
import { decode as decodeAt } from './decoder';
import { lineWritten } from './mem';
import { ramSize, vcpuCount, stateOf } from './state';
import * as R from './run';

export function init(ramBytes: u32, vcpus: i32): void {
  if (__data_end > DATA_END || ramBytes > <u32>MAX_RAM || vcpus > MAX_VCPUS) unreachable();
  const need = <i32>((<usize>RAM_BASE + <usize>ramBytes + 0xffff) >>> 16);
  const have = memory.size();
  if (need > have) memory.grow(need - have);
  memory.fill(STATE_BASE, 0, <usize>MAX_VCPUS * STATE_STRIDE);
  memory.fill(MSRBM_BASE, 0, <usize>MAX_VCPUS * MSRBM_STRIDE);
  memory.fill(RAM_BASE, 0, ramBytes);
  memory.fill(LINE_FLAGS, 0, <usize>(MAX_RAM >> LINE_SHIFT));
  memory.fill(BLOCK_MAP, 0, MAP_SLOTS * MAP_SLOT);
  ramSize = ramBytes;
  vcpuCount = vcpus;
  buildOpTable();
  buildTraits();
  flushCode();
  store<u32>(JIT_THRESHOLD, DEFAULT_JIT_THRESHOLD);
}

/** Backward-branch iterations after which a hot loop is compiled (jit.ts); 0 turns the compiler off.
 *  Drops compiled code. */
export function setJitThreshold(n: u32): void {
  store<u32>(JIT_THRESHOLD, n);
  flushCode();
}

/** A vCPU as created: 64-bit mode at CPL 0, flat segments, paging on (identity), RFLAGS = 2. */
export function resetVcpu(v: i32): void {
  const s = stateOf(v);
  memory.fill(s, 0, STATE_STRIDE);
  store<u64>(s + S_RFLAGS, X86_EFLAGS_FIXED);
  store<u64>(s + S_CR0, 0x80000033); // PG | NE | ET | MP | PE
  store<u64>(s + S_CR4, 0x20); // PAE
  store<u64>(s + S_MSR_EFER, 0x500); // LMA | LME
  store<u64>(s + S_MSR_APIC_BASE, <u64>APIC_BASE_GPA | (1 << 11) | (v == 0 ? 1 << 8 : 0)); // enabled, BSP
  store<u16>(s + S_CS, 0x08);
  store<u16>(s + S_SS, 0x10);
  store<u64>(s + S_DR6, DR6_ACTIVE_LOW);
  store<u64>(s + S_DR7, 0x400);
  store<u32>(s + S_IDTR_LIMIT, 0xffff);
  store<u64>(s + S_XCR0, 1); // x87
}

export function run(v: i32, budget: u32): i32 {
  return R.run(v, budget);
}

export function emulate(v: i32): i32 {
  return R.emulate(v);
}

/** The host wrote [gpa, gpa+len) of guest RAM: drop decoded code there and trigger armed monitors. */
export function invalidateCode(gpa: u32, len: u32): void {
  if (len == 0 || <u64>gpa >= ramSize) return;
  const end = min<u64>(<u64>gpa + len, ramSize);
  let flags: u8 = 0;
  for (let l = <usize>(gpa >> LINE_SHIFT); l <= <usize>((end - 1) >> LINE_SHIFT); l++) flags |= load<u8>(LINE_FLAGS + l);
  if (flags & (LINE_CODE | LINE_MONITOR)) lineWritten(gpa, end - gpa);
}

export function flushCodeCache(): void {
  flushCode();
}

/** Length of the instruction at gpa as the core decodes it (0: #UD or another decode fault); its mnemonic goes to DECODE_MNEMONIC. */
export function decode(gpa: u32): i32 {
  const mn = decodeAt(gpa, SCRATCH);
  store<u32>(DECODE_MNEMONIC, mn);
  return mn ? <i32>load<u8>(SCRATCH, E_LEN) : 0;
}
