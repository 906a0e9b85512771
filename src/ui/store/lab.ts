// The page's state (zustand, vanilla so that Node tests drive it without React) and every action
// the panels, the keyboard, links and the embed API take. The worker is the one source of truth for
// the simulation: actions send requests, and only its replies change what the panels show. What the
// person typed lives here, so a worker crash loses none of it.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Json } from '../../model/scenario/document';
import type { LabState as LinkState } from '../../model/scenario/url';
import { HeldRecording, PROTOCOL_VERSION, type Draft, type Move, type Reply, type StepUnit, type VcpuEventColumns } from '../../model/worker/protocol';
import type { ExitFlagName } from '../../model/worker/view';
import { NarrationFeed } from '../views/narration/feed';
import type { Outgoing } from '../worker-client';
import { parseVariantKey, variantKey } from '../share/link';
import { documentFromDraft, draftFromDocument, withSetting, withVariant } from './draft';
import { ioctlForExitToggle, ioctlForGuestDebug, withoutVcpu } from './ioctls';
import { emptySim, foldReplies, isUrgent, type PageReply, type SimState } from './replies';

export interface Notice {
  tone: 'error' | 'info';
  text: string;
  detail?: string;
}

export interface Selection {
  vcpu: number;
  /** A kvm_exit of that vCPU (TraceEvent `exit`), or null. */
  exit: number | null;
}

export interface PageState extends SimState {
  draft: Draft;
  worker: 'starting' | 'ready' | 'failed';
  notice: Notice | null;
  selection: Selection;
}

export interface LabDeps {
  send(req: Outgoing): number;
  restart(): void;
  /** Calls fn at the next animation frame. */
  nextFrame(fn: () => void): void;
  /** Calls fn after `ms` (a pause in typing); returns a cancel function. */
  later(fn: () => void, ms: number): () => void;
}

/** How long typing must pause before the document is reloaded. */
export const EDIT_DELAY_MS = 400;
/** Restarts in a row, without a view in between, before the page stops trying. */
const MAX_RESTARTS = 3;

export type Lab = ReturnType<typeof createLab>;

export function createLab(deps: LabDeps, initial: { draft: Draft; moves?: Move[]; selection?: Selection }) {
  const store: StoreApi<PageState> = createStore<PageState>(() => ({
    ...emptySim(),
    moves: initial.moves ?? [],
    draft: initial.draft,
    worker: 'starting',
    notice: null,
    selection: initial.selection ?? { vcpu: 0, exit: null },
  }));
  const set = store.setState;
  const get = store.getState;

  let queue: PageReply[] = [];
  let flushScheduled = false;
  let cancelEdit: (() => void) | null = null;
  /** Drafts sent with each load, by seq, until answered. */
  const sent = new Map<number, Draft>();
  let latestLoad = 0;
  /** The last document that loaded, and the moves of the last view: what a restart goes back to. */
  let lastGood: { draft: Draft; moves: Move[] } | null = null;
  let restarts = 0;
  /** What the live region says: the events of each move (not replayed history), told with its view. */
  const narration = new NarrationFeed();
  let untold: VcpuEventColumns[] = [];
  const recording = new HeldRecording();

  function flush() {
    flushScheduled = false;
    const replies = queue;
    queue = [];
    if (replies.length) set(foldReplies(get(), replies));
  }

  function load(draft: Draft, moves: Move[]) {
    cancelEdit?.();
    cancelEdit = null;
    if (get().running) deps.send({ type: 'pause' }); // a load waits for the run to stop
    latestLoad = deps.send({ type: 'load', draft, moves });
    sent.set(latestLoad, draft);
  }

  function move(m: Move) {
    if (get().worker !== 'ready' || get().running) return;
    deps.send({ type: 'move', move: m });
  }

  const lab = {
    store,
    narration,

    // ---- from the worker ----
    hello() {
      const recovering = restarts > 0;
      set({ worker: 'ready' });
      if (!recovering) return load(get().draft, get().moves);
      // After a crash: the last document that loaded, at its last position on the first try, and at
      // its start if that fails too (the crash may come from replaying the moves).
      if (lastGood) load(lastGood.draft, restarts === 1 ? lastGood.moves : []);
    },

    reply(r: Reply) {
      if (r.type === 'hello') {
        // A worker script from another build (a stale cache) would misread every request.
        if (r.protocol !== PROTOCOL_VERSION) return lab.crashed(`the simulation worker speaks protocol ${r.protocol}, this page ${PROTOCOL_VERSION}: reload the page`);
        return lab.hello();
      }
      if (r.type === 'loaded' || r.type === 'rejected') {
        const draft = sent.get(r.seq);
        sent.delete(r.seq);
        if (r.type === 'loaded' && draft) lastGood = { draft, moves: lastGood?.moves ?? [] };
        if (r.seq !== latestLoad) return; // superseded by a later edit
      }
      if (r.type === 'batch') {
        if (r.batch.replay) {
          narration.clear();
          untold = [];
        } else if (r.batch.vcpuEvents.n) untold.push(r.batch.vcpuEvents);
      }
      let folded: PageReply = r as Exclude<Reply, { type: 'view' }>;
      if (r.type === 'view') {
        const view = recording.resolve(r.view);
        if (typeof view === 'string') return lab.crashed(view);
        folded = { ...r, view };
        restarts = 0;
        // Told once the view with their frames is here, so the handler that ran can be named.
        narration.setFrames(view.frames?.roots ?? [], view.frames?.vcpu ?? null);
        for (const events of untold) narration.push(events);
        untold = [];
        if (lastGood) lastGood = { ...lastGood, moves: r.moves };
      }
      queue.push(folded);
      if (isUrgent(folded)) flush();
      else if (!flushScheduled) {
        flushScheduled = true;
        deps.nextFrame(flush);
      }
    },

    crashed(message: string, detail?: string) {
      queue = [];
      recording.forget();
      restarts++;
      const gaveUp = restarts > MAX_RESTARTS;
      set({
        running: false,
        worker: gaveUp ? 'failed' : 'starting',
        notice: {
          tone: 'error',
          text: gaveUp
            ? `The simulation keeps failing (${message}). Your text is kept; change it, or restart the simulation.`
            : `The simulation stopped: ${message}. It was restarted with the last scenario that loaded; your text is kept.`,
          detail,
        },
      });
      if (!gaveUp) deps.restart();
    },

    /** After giving up: try again from the start of the last good document. */
    retry() {
      restarts = 1;
      set({ worker: 'starting', notice: null });
      deps.restart();
    },

    // ---- editing ----
    edit(draft: Draft) {
      if (draft.code === get().draft.code && draft.program === get().draft.program && draft.doc === get().draft.doc) return;
      set({ draft });
      cancelEdit?.();
      cancelEdit = deps.later(() => {
        cancelEdit = null;
        load(get().draft, []);
      }, EDIT_DELAY_MS);
    },
    editCode(code: string) {
      lab.edit({ ...get().draft, code });
    },
    editProgram(program: string) {
      lab.edit({ ...get().draft, program });
    },
    /** Scenario-bar changes reload at once: they are clicks, not keystrokes. */
    setVariant(kernel: string, patches?: number) {
      const draft = withVariant(get().draft, kernel, patches);
      set({ draft });
      load(draft, get().moves);
    },
    setSetting(part: 'host' | 'vm', key: string, value: Json) {
      const draft = withSetting(get().draft, part, key, value);
      set({ draft });
      load(draft, get().moves);
    },
    openDocument(doc: { [key: string]: Json }) {
      const draft = draftFromDocument(doc);
      set({ draft, selection: { vcpu: 0, exit: null }, notice: null });
      load(draft, []);
    },
    /** A link's state: its document, variant, position and selection. */
    openLink(link: LinkState) {
      let draft = draftFromDocument(link.doc);
      const v = link.view;
      if (typeof v.variant === 'string') {
        const { kernel, patches } = parseVariantKey(v.variant);
        draft = withVariant(draft, kernel, patches);
      }
      const moves = Array.isArray(v.moves) ? (v.moves as unknown as Move[]) : [];
      const selection = { vcpu: typeof v.vcpu === 'number' ? v.vcpu : 0, exit: typeof v.exit === 'number' ? v.exit : null };
      set({ draft, selection, moves });
      if (get().worker === 'ready') load(draft, moves);
    },

    // ---- moving ----
    /** One step; `vcpu`: of that vCPU (an instruction or an exit of its own). */
    step(unit: StepUnit, vcpu?: number) {
      move(vcpu === undefined ? { kind: 'step', unit } : { kind: 'step', unit, vcpu });
    },
    run() {
      if (get().running || get().view?.done || get().worker !== 'ready') return;
      move({ kind: 'run' });
      set({ running: true });
    },
    pause() {
      if (get().worker === 'ready') deps.send({ type: 'pause' });
    },
    reset() {
      if (get().worker === 'ready' && !get().running) deps.send({ type: 'reset' });
    },
    back() {
      if (get().worker === 'ready' && !get().running) deps.send({ type: 'back' });
    },
    /** To the selected exit (of the selected vCPU): on to it, or back to it. */
    goToExit() {
      const { selection, worker, running } = get();
      if (worker === 'ready' && !running && selection.exit !== null) deps.send({ type: 'goto', vcpu: selection.vcpu, exit: selection.exit });
    },
    /** The selected exit (else the latest of the KVM_RUN on screen) with and without its vCPU's EXIT_USERSPACE, side by side. */
    compare() {
      const { worker, selection } = get();
      if (worker !== 'ready') return;
      deps.send(selection.exit === null ? { type: 'compare' } : { type: 'compare', vcpu: selection.vcpu, exit: selection.exit });
    },
    ioctl(op: Json) {
      move({ kind: 'ioctl', op });
    },
    toggleExit(fd: string, flag: ExitFlagName, disable: boolean) {
      const view = get().view;
      if (view) lab.ioctl(ioctlForExitToggle(view, fd, flag, disable));
    },
    setGuestDebug(fd: string, control: string[]) {
      lab.ioctl(ioctlForGuestDebug(fd, control));
    },
    addVcpu() {
      const ids = get().view?.vcpus.map((v) => v.id) ?? [];
      let id = 0;
      while (ids.includes(id)) id++;
      lab.ioctl({ op: 'create_vcpu', id });
    },
    /** KVM cannot destroy a vCPU: removing one takes it out of the program (and the page's ioctls), and reloads. */
    removeVcpu(id: number) {
      const { draft, moves } = withoutVcpu(get().draft, get().moves, id);
      set({ draft });
      load(draft, moves);
    },
    select(selection: Selection) {
      set({ selection });
    },
    dismissNotice() {
      set({ notice: null });
    },
    /** Shown when a link could not be read. */
    notify(notice: Notice) {
      set({ notice });
    },

    /** The state a link carries: the document as edited, the variant, the position and the selection. */
    linkState(): LinkState {
      const s = get();
      const kernel = typeof s.draft.doc.kernel === 'string' ? s.draft.doc.kernel : 'rfc-v4';
      const patches = typeof s.draft.doc.patches === 'number' ? s.draft.doc.patches : 6;
      const view: LinkState['view'] = { variant: variantKey(kernel, patches), vcpu: s.selection.vcpu };
      if (s.selection.exit !== null) view.exit = s.selection.exit;
      if (s.view) view.step = s.view.next;
      if (s.moves.length) view.moves = s.moves as unknown as Json;
      return { doc: documentFromDraft(s.draft), view };
    },
  };
  return lab;
}
