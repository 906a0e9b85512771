// The timeline benchmark's page (page.html?page=timeline): a TimelineView over a synthetic run whose
// size comes from the query (&exits=100000&vcpus=2).
import { createElement, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Timeline } from '../../src/model/trace/timeline';
import { TimelineView, type ExitRef } from '../../src/ui/views/timeline/TimelineView';
import { syntheticRun } from './synthetic';

// Times every animation-frame callback (the timeline draws in one), so the bench can report the
// drawing cost per frame besides the frame gaps.
const w = window as unknown as { callbackMs: number[] };
w.callbackMs = [];
const raf = window.requestAnimationFrame.bind(window);
window.requestAnimationFrame = (cb) =>
  raf((ts) => {
    const t0 = performance.now();
    cb(ts);
    // The bench's own frame recorder marks itself: only the page's callbacks are counted.
    if (!(cb as { benchRecorder?: boolean }).benchRecorder) w.callbackMs.push(performance.now() - t0);
  });

const q = new URLSearchParams(location.search);
const tl = new Timeline();
tl.append(syntheticRun(Number(q.get('exits') ?? 100_000), Number(q.get('vcpus') ?? 2)));

function Page() {
  const [selected, setSelected] = useState<ExitRef | null>(null);
  return createElement(TimelineView, { timeline: tl, version: tl.version, selected, onSelectExit: setSelected });
}

createRoot(document.getElementById('root')!).render(createElement(Page));
(window as unknown as { benchReady: boolean }).benchReady = true;
