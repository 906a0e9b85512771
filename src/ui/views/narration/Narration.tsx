// The ARIA live region that narrates exits (polite): the feed decides once per animation frame what
// to say; a new message replaces the old node, so that a repeated sentence is announced again.
import { useEffect, useState } from 'react';
import type { Frame } from '../../../model/trace/events';
import type { NarrationFeed } from './feed';
import '../common/theme.css';
import './narration.css';

export interface NarrationProps {
  feed: NarrationFeed;
  /** The recording on screen (LabView.frames), to name each exit's handler. */
  frames?: { roots: readonly Frame[]; vcpu: number | null } | null;
}

export function Narration({ feed, frames }: NarrationProps) {
  const [message, setMessage] = useState<{ seq: number; text: string } | null>(null);

  useEffect(() => {
    feed.setFrames(frames?.roots ?? [], frames?.vcpu ?? null);
  }, [feed, frames]);

  useEffect(() => {
    let raf = 0;
    const frame = () => {
      raf = 0;
      const text = feed.tick();
      if (text) setMessage((m) => ({ seq: (m?.seq ?? 0) + 1, text }));
      if (feed.pending) raf = requestAnimationFrame(frame);
    };
    const wake = () => {
      if (!raf) raf = requestAnimationFrame(frame);
    };
    const unsubscribe = feed.subscribe(wake);
    if (feed.pending) wake(); // events pushed before this view subscribed

    return () => {
      unsubscribe();
      if (raf) cancelAnimationFrame(raf);
    };
  }, [feed]);

  return (
    <div className="xs-view xs-narration" role="status" aria-live="polite" aria-atomic="true" aria-label="Exit narration">
      {message && <p key={message.seq}>{message.text}</p>}
    </div>
  );
}
