// Keeps the address bar's fragment equal to the lab's state, so that the address is always a link
// to what is on screen. Replaces (never pushes) the history entry, once changes have settled for a
// moment (compressing the state and replaceState cost milliseconds a step); skipped while a run is
// going and never used inside an embed, which must not rewrite its own URL. Until the person
// changes something, the address stays as it was opened (a link that could not be read stays).
// A link pasted into the open tab changes only the fragment (no page load): it is opened as a fresh
// load would open it, and Back returns to what the address held before.
import { encodeState } from '../../model/scenario/url';
import type { Lab } from '../store/lab';
import { FIRST_SCREEN } from './first-screen';
import { readAddress, unreadableLink } from './link';

const SETTLE_MS = 250;

export function startUrlSync(lab: Lab): () => void {
  let first = lab.store.getState();
  let firstMoves = JSON.stringify(first.moves);
  let touched = false;
  let following = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = () => {
    timer = undefined;
    const hash = `#${encodeState(lab.linkState())}`;
    if (location.hash !== hash) history.replaceState(history.state, '', hash);
  };
  const unsubscribe = lab.store.subscribe((s, prev) => {
    if (s.running) {
      // A run rewrites the address when it stops: compressing the state meanwhile only takes frames from it.
      if (!prev.running) clearTimeout(timer);
      return;
    }
    if (following) return;
    const moved = s.draft !== prev.draft || s.moves !== prev.moves || s.selection !== prev.selection || (prev.running && !s.running);
    if (!moved) return;
    touched ||= s.draft !== first.draft || s.selection !== first.selection || JSON.stringify(s.moves) !== firstMoves;
    if (!touched) return;
    clearTimeout(timer);
    timer = setTimeout(write, SETTLE_MS);
  });
  const follow = () => {
    const address = readAddress(location.href);
    clearTimeout(timer); // the old state must not overwrite the pasted address
    if (address.error) {
      lab.notify({ tone: 'error', text: unreadableLink(address.error, 'The lab keeps what it had.') });
      return;
    }
    lab.dismissNotice();
    following = true;
    try {
      // The bare address (Back to where the tab started) opens what a bare address opens.
      lab.openLink(address.state ?? { doc: FIRST_SCREEN, view: {} });
    } finally {
      following = false;
    }
    // As on a page load: the address stays as pasted until the person changes something.
    first = lab.store.getState();
    firstMoves = JSON.stringify(first.moves);
    touched = false;
  };
  addEventListener('hashchange', follow);
  return () => {
    unsubscribe();
    removeEventListener('hashchange', follow);
    clearTimeout(timer);
  };
}
