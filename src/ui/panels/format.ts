// Registers, VMCS words and ioctl arguments as a debugger shows them (views/common/format.ts has the rest).
import { KVM_EXIT } from '../../model/kvm/uapi';
import type { IoctlEvent } from '../../model/worker/protocol';

/** A 64-bit value as unsigned hex, zero-padded to `width` digits: -1n → 0xffffffffffffffff. */
export function u64Hex(v: bigint | number, width = 0): string {
  return `0x${BigInt.asUintN(64, BigInt(v)).toString(16).padStart(width, '0')}`;
}

/** `cap = KVM_CAP_X86_DISABLE_EXITS, args = HLT|OVERRIDE`: the model's decoded arguments, in order. */
export function formatArgs(args: Record<string, unknown>): string {
  return Object.entries(args)
    .map(([k, v]) => `${k} = ${Array.isArray(v) ? v.join('|') || '0' : typeof v === 'bigint' ? `0x${v.toString(16)}` : String(v)}`)
    .join(', ');
}

/** What the run structure held when KVM_RUN returned, as the model logged it (RFC v4 6/7 adds hw_exit_reason). */
type RunAnswer = { exit_reason: number; hw_exit_reason?: number | string };

/** "exit_reason KVM_EXIT_UNKNOWN, hw_exit_reason 12", or '' when the model logged no answer. */
export function runAnswer(e: IoctlEvent): string {
  const run = (e as IoctlEvent & { run?: RunAnswer }).run;
  if (!run) return '';
  const reason = `exit_reason ${KVM_EXIT.name(run.exit_reason) ?? run.exit_reason}`;
  return run.hw_exit_reason === undefined ? reason : `${reason}, hw_exit_reason ${run.hw_exit_reason}`;
}
