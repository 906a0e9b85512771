// The postMessage API for documentation pages that embed the lab in an iframe: load a scenario (a
// document or a link), step it, run it, and hear where it stands. Documented in docs/embed.md.
// Every message is `{ exitscope: 1, type, … }`; replies go to the embedding window only.
import type { Json } from '../../model/scenario/document';
import { decodeState, LinkError, type LabState } from '../../model/scenario/url';
import type { StepUnit } from '../../model/worker/protocol';
import type { Lab } from '../store/lab';
import type { SimState } from '../store/replies';

export const EMBED_API_VERSION = 1;

export type EmbedCommand =
  | { type: 'load'; scenario: { [key: string]: Json } }
  | { type: 'open'; link: LabState }
  /** `vcpu`: an instruction or an exit of that vCPU (else whichever comes next). */
  | { type: 'step'; unit: StepUnit; vcpu?: number }
  | { type: 'goto'; vcpu: number; exit: number }
  | { type: 'run' | 'pause' | 'reset' | 'back' | 'get' };

const UNITS: readonly StepUnit[] = ['instruction', 'exit', 'frame', 'op'];
const SIMPLE = ['run', 'pause', 'reset', 'back', 'get'] as const;

/** The command a message carries, an error to answer with, or null for a message not meant for us. */
export function parseEmbedMessage(data: unknown): EmbedCommand | { error: string } | null {
  if (typeof data !== 'object' || data === null || (data as { exitscope?: unknown }).exitscope === undefined) return null;
  const m = data as { exitscope: unknown; type?: unknown; scenario?: unknown; link?: unknown; unit?: unknown; vcpu?: unknown; exit?: unknown };
  const whole = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  if (m.exitscope !== EMBED_API_VERSION) return { error: `unsupported API version ${JSON.stringify(m.exitscope)}: this page speaks version ${EMBED_API_VERSION}` };
  switch (m.type) {
    case 'load':
      if (typeof m.scenario !== 'object' || m.scenario === null || Array.isArray(m.scenario)) return { error: 'load: "scenario" must be an exitscope/1 document (an object)' };
      return { type: 'load', scenario: m.scenario as { [key: string]: Json } };
    case 'open': {
      const state = typeof m.link === 'string' ? decodeState(m.link.replace(/^[^#]*#/, '')) : new LinkError('"link" must be a string');
      return state instanceof LinkError ? { error: `open: ${state.message}` } : { type: 'open', link: state };
    }
    case 'step':
      if (!UNITS.includes(m.unit as StepUnit)) return { error: `step: "unit" must be one of ${UNITS.join(', ')}` };
      if (m.vcpu === undefined) return { type: 'step', unit: m.unit as StepUnit };
      if (!whole(m.vcpu)) return { error: 'step: "vcpu", when given, must be a vCPU id (a whole number)' };
      return { type: 'step', unit: m.unit as StepUnit, vcpu: m.vcpu as number };
    case 'goto':
      if (!whole(m.vcpu) || !whole(m.exit)) return { error: 'goto: "vcpu" (a vCPU id) and "exit" (an exit number, from 0) must be whole numbers' };
      return { type: 'goto', vcpu: m.vcpu as number, exit: m.exit as number };
    default:
      if (SIMPLE.includes(m.type as (typeof SIMPLE)[number])) return { type: m.type as (typeof SIMPLE)[number] };
      return { error: `unknown message type ${JSON.stringify(m.type)}` };
  }
}

/** What the embedding page hears after every settled change. */
export function embedStatus(s: SimState) {
  const v = s.view;
  return {
    exitscope: EMBED_API_VERSION,
    type: 'state' as const,
    title: v?.title ?? null,
    running: s.running,
    next: v?.next ?? 0,
    total: v?.total ?? 0,
    done: v?.done ?? false,
    /** The program operation under way (a KVM_RUN stopped at an exit), or null. */
    inProgress: v?.inProgress ? { index: v.inProgress.index, summary: v.inProgress.summary } : null,
    exits: v?.vcpus.map((c) => ({ vcpu: c.id, exits: c.exits, mp_state: c.mpState })) ?? [],
    last: v?.results.at(-1) ? { summary: v.results.at(-1)!.summary, ret: v.results.at(-1)!.ret, errno: v.results.at(-1)!.errno } : null,
    problems: s.problems.map((p) => p.message),
  };
}

export function startEmbedApi(lab: Lab): void {
  if (window.parent === window) return;
  const parent = window.parent;
  const tell = (msg: object) => parent.postMessage(msg, '*');
  window.addEventListener('message', (e) => {
    if (e.source !== parent) return;
    const cmd = parseEmbedMessage(e.data);
    if (!cmd) return;
    if ('error' in cmd) return tell({ exitscope: EMBED_API_VERSION, type: 'error', message: cmd.error });
    switch (cmd.type) {
      case 'load': return lab.openDocument(cmd.scenario);
      case 'open': return lab.openLink(cmd.link);
      case 'step': return lab.step(cmd.unit, cmd.vcpu);
      case 'goto':
        lab.select({ vcpu: cmd.vcpu, exit: cmd.exit });
        return lab.goToExit();
      case 'get': return tell(embedStatus(lab.store.getState()));
      default: return lab[cmd.type]();
    }
  });
  lab.store.subscribe((s, prev) => {
    if (s.running || (s.view === prev.view && s.problems === prev.problems)) return;
    tell(embedStatus(s));
  });
}
