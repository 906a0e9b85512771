// Keeps the address bar's fragment equal to the lab's state, so that the address is always a link
// to what is on screen. Replaces (never pushes) the history entry, once changes have settled for a
// moment (compressing the state and replaceState cost milliseconds a step); skipped while a run is
// going and never used inside an embed, which must not rewrite its own URL. Until the person
// changes something, the address stays as it was opened (a link that could not be read stays).
import { encodeState } from '../../model/scenario/url';
import type { Lab } from '../store/lab';

const SETTLE_MS = 250;

export function startUrlSync(lab: Lab): () => void {
  const first = lab.store.getState();
  const firstMoves = JSON.stringify(first.moves);
  let touched = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = () => {
    timer = undefined;
    const hash = `#${encodeState(lab.linkState())}`;
    if (location.hash !== hash) history.replaceState(history.state, '', hash);
  };
  const unsubscribe = lab.store.subscribe((s, prev) => {
    if (s.running) return;
    const moved = s.draft !== prev.draft || s.moves !== prev.moves || s.selection !== prev.selection || (prev.running && !s.running);
    if (!moved) return;
    touched ||= s.draft !== first.draft || s.selection !== first.selection || JSON.stringify(s.moves) !== firstMoves;
    if (!touched) return;
    clearTimeout(timer);
    timer = setTimeout(write, SETTLE_MS);
  });
  return () => {
    unsubscribe();
    clearTimeout(timer);
  };
}
