// Every message between the page and the simulation worker, both ways. The page (src/ui/) and the
// worker (./worker.ts) import their types from here and nowhere else. Messages are plain structured-
// clone data (BigInt included), so the protocol works with postMessage alone; nothing needs
// SharedArrayBuffer. Events travel in batches, never one message per instruction or exit, reduced
// in the worker (./batch.ts) to what the page shows, largely as typed arrays it transfers.
import type { Json } from '../scenario/document';
import type { Batch } from './batch';
import type { Frame } from '../trace/events';
import type { CompareView, FramesView, LabView } from './view';

export type { Batch, IoctlEvent, StatsView, VcpuEventColumns } from './batch';
export { VCPU_EVENT_KINDS } from './batch';
export { HeldRecording } from './recording';

/** 2: events come reduced, in `batch` replies (1 sent them as objects, with the timeline apart).
 *  3: a view leaves out a recording the page holds (`SentView`). */
export const PROTOCOL_VERSION = 3;

/** How far one step goes: one guest instruction, to the next VM exit, one call or return in the
 *  current KVM_RUN's frames, or one program operation. */
export type StepUnit = 'instruction' | 'exit' | 'frame' | 'op';

/**
 * One thing that moved the simulation. A session is its document plus the moves made since it was
 * loaded; the model is deterministic, so replaying the moves on a fresh Simulator rebuilds the same
 * state exactly (that is how Step back and links work).
 */
export type Move =
  | { kind: 'step'; unit: StepUnit; vcpu?: number }
  /** Run. `budget` is where a paused run stopped, in the Simulator's deterministic units; absent =
   *  to the end of the program. */
  | { kind: 'run'; budget?: number }
  /** An ioctl the person issued from the page (a program operation in document form). */
  | { kind: 'ioctl'; op: Json }
  /** On to the VM exit numbered `exit` (kvm_exit `exit`) of vCPU `vcpu`, or the end if it never comes. */
  | { kind: 'to_exit'; vcpu: number; exit: number };

/**
 * The document as the person is editing it: the guest code and the program as their editors' text
 * (either may be unfinished), the rest as JSON. The worker parses and checks it, so every problem
 * comes back on its line.
 */
export interface Draft {
  /** Everything but the guest code and the program (those fields, if present, are ignored). */
  doc: { [key: string]: Json };
  code: string;
  /** The guest code is `guest.asm` (assembly) or `guest.hex` (bytes). */
  codeKind: 'asm' | 'hex';
  /** The `program` array as JSON text. */
  program: string;
}

/** Page → worker. `seq` numbers requests so that answers can name the one they answer. */
export type Request =
  | { type: 'load'; seq: number; draft: Draft; moves: Move[] }
  | { type: 'move'; seq: number; move: Move }
  | { type: 'pause'; seq: number }
  | { type: 'reset'; seq: number }
  | { type: 'back'; seq: number }
  /** To exit #`exit` of vCPU `vcpu`: on from here when it is still to come, else back to it. */
  | { type: 'goto'; seq: number; vcpu: number; exit: number }
  /** An exit with and without its vCPU's KVM_GUESTDBG_EXIT_USERSPACE: exit #`exit` of vCPU `vcpu`
   *  (its latest without `exit`), or, with neither, the latest exit of the KVM_RUN being looked at. */
  | { type: 'compare'; seq: number; vcpu?: number; exit?: number }
  /** Test hook: fail inside the worker the way a bug would (an exception or a wasm trap). */
  | { type: 'crash'; seq: number; how: 'throw' | 'trap' };

/** Something wrong with what the person wrote, on its line when it has one. */
export interface SourceProblem {
  /** Which editor it belongs to: the guest code, the program, or the rest of the document. */
  where: 'asm' | 'program' | 'document';
  path: string; // JSON path ("program[3].fd"), or "guest.asm"
  message: string;
  line?: number; // 1-based, in that editor's text
  col?: number;
}

/** Worker → page. */
export type Reply =
  /** Posted once the worker's message handler is attached (before the core has loaded). */
  | { type: 'hello'; protocol: number; isolated: boolean }
  /** The document was loaded: a fresh Simulator at the start of its program (then `moves` replayed). */
  | { type: 'loaded'; seq: number; title: string }
  /** The document could not be loaded: the problems, each on its line. The previous session stays. */
  | { type: 'rejected'; seq: number; problems: SourceProblem[] }
  /** The events since the previous batch, reduced (its buffers are transferred): after every move,
   *  and about once a frame while a run goes. */
  | { type: 'batch'; batch: Batch }
  /** Everything the panels show. While running it comes coarsely (`running: true`). */
  | { type: 'view'; seq: number; view: SentView; running: boolean; moves: Move[] }
  /** The answer to `compare`. */
  | { type: 'compare'; seq: number; compare: CompareView }
  /** A request that could not be carried out (the session is unchanged), in words. */
  | { type: 'refused'; seq: number; message: string }
  /** An exception escaped the worker (a trap in the core, a bug in the model). The page restarts the
   *  worker with the last document that loaded. */
  | { type: 'crashed'; message: string; detail?: string };

/**
 * A view as the worker sends it: the frames leave out their `roots` when they are the recording
 * (`recording`) that the previous view carried, which the page holds. At the end of a run_threads
 * that is a 20,000-frame KVM_RUN, tens of milliseconds to clone, which every later view would
 * carry again unchanged.
 */
export type SentView = Omit<LabView, 'frames'> & { frames: SentFrames | null };
export type SentFrames = Omit<FramesView, 'roots'> & { roots?: Frame[] };

export function isReply(data: unknown): data is Reply {
  return typeof data === 'object' && data !== null && typeof (data as { type?: unknown }).type === 'string';
}
