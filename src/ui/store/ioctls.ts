// The ioctls a VMM would issue for what the person clicks, written as program operations (the
// scenario format), so that the model runs them exactly like the program's own.
import type { Json } from '../../model/scenario/document';
import type { Draft, Move } from '../../model/worker/protocol';
import { EXIT_FLAG_NAMES, type ExitFlagName, type LabView } from '../../model/worker/view';
import { formatProgram } from './draft';

const CAP_NAME: Record<ExitFlagName, string> = { mwait: 'MWAIT', hlt: 'HLT', pause: 'PAUSE', cstate: 'CSTATE' };

/**
 * KVM_ENABLE_CAP(KVM_CAP_X86_DISABLE_EXITS) on `fd` to disable one exit, or to re-enable it. The cap
 * only ever disables, unless the kernel has OVERRIDE (RFC v4 4/7), with which the mask says exactly
 * which exits stay disabled: re-enabling sends OVERRIDE with the others disabled now. Without it a
 * VMM can only ask again for the exits it wants disabled (the kernel's answer shows the rest).
 */
export function ioctlForExitToggle(view: LabView, fd: string, flag: ExitFlagName, disable: boolean): Json {
  const op = { op: 'enable_cap', fd, cap: 'KVM_CAP_X86_DISABLE_EXITS' };
  if (disable) return { ...op, args: [CAP_NAME[flag]] };
  const now = fd === 'vm' ? view.vm.disabled : view.vcpus.find((v) => v.fd === fd)?.disabled;
  const keep = EXIT_FLAG_NAMES.filter((f) => f !== flag && now?.[f]).map((f) => CAP_NAME[f]);
  return { ...op, args: view.vm.override ? ['OVERRIDE', ...keep] : keep };
}

/** KVM_SET_GUEST_DEBUG with these control flags (names without the KVM_GUESTDBG_ prefix). */
export function ioctlForGuestDebug(fd: string, control: string[]): Json {
  return { op: 'set_guest_debug', fd, control };
}

/** The guest-debug flags after switching one on or off, keeping every other flag the vCPU has. */
export function toggledFlags(current: string[], flag: string, on: boolean): string[] {
  const short = current.map((n) => n.replace(/^KVM_GUESTDBG_/, ''));
  const rest = short.filter((n) => n !== flag);
  return on ? [...rest, flag] : rest;
}

const refersTo = (op: Json, id: number): boolean => {
  if (typeof op !== 'object' || op === null || Array.isArray(op)) return false;
  if (op.op === 'create_vcpu') return op.id === id;
  return op.fd === `vcpu${id}`;
};

/**
 * The draft and moves without vCPU `id`: its KVM_CREATE_VCPU and every operation on its fd are taken
 * out of the program and of the page's ioctls (a run_threads loses just that fd). The position goes
 * back to the start, since the moves after it no longer mean the same.
 */
export function withoutVcpu(draft: Draft, moves: Move[], id: number): { draft: Draft; moves: Move[] } {
  const keptMoves = moves.filter((m) => m.kind === 'ioctl' && !refersTo(m.op, id));
  let program: Json;
  try {
    program = JSON.parse(draft.program) as Json;
  } catch {
    return { draft, moves: keptMoves }; // the program is mid-edit: only the page's ioctls change
  }
  if (!Array.isArray(program)) return { draft, moves: keptMoves };
  const ops = program.flatMap((op): Json[] => {
    if (refersTo(op, id)) return [];
    if (typeof op === 'object' && op !== null && !Array.isArray(op) && op.op === 'run_threads' && Array.isArray(op.fds)) {
      const fds = op.fds.filter((fd) => fd !== `vcpu${id}`);
      return fds.length ? [{ ...op, fds }] : [];
    }
    return [op];
  });
  return { draft: { ...draft, program: formatProgram(ops) }, moves: keptMoves };
}
