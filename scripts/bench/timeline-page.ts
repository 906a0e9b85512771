// The timeline benchmark's page (page.html?page=timeline): a TimelineView over a synthetic run whose
// size comes from the query (&exits=100000&vcpus=2), or with &source=model over a real run: the
// simulation worker runs the lab bench's four busy vCPUs (&ns= virtual ns each) and the timeline is
// built from its own batches, as the lab's page builds it.
import { createElement, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Timeline } from '../../src/model/trace/timeline';
import { TimelineView, type ExitRef } from '../../src/ui/views/timeline/TimelineView';
import { draftFromDocument } from '../../src/ui/store/draft';
import type { Reply, Request } from '../../src/model/worker/protocol';
import { BUSY } from './scenarios';
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
if (q.get('source') === 'model') await modelRun(Number(q.get('ns') ?? 160_000_000));
else tl.append(syntheticRun(Number(q.get('exits') ?? 100_000), Number(q.get('vcpus') ?? 2)));

/** Runs BUSY in the simulation worker to its end, applying the timeline of every batch it sends. */
async function modelRun(forNs: number): Promise<void> {
  const worker = new Worker(new URL('../../src/model/worker/worker.ts', import.meta.url), { type: 'module' });
  let seq = 0;
  const send = (r: Request) => worker.postMessage(r);
  await new Promise<void>((done, fail) => {
    worker.onmessage = (e: MessageEvent<Reply>) => {
      const r = e.data;
      if (r.type === 'batch') tl.apply(r.batch.timeline);
      else if (r.type === 'crashed' || r.type === 'rejected' || r.type === 'refused') fail(new Error(`the worker: ${JSON.stringify(r)}`));
      else if (r.type === 'view' && !r.running && r.seq === seq) {
        if (r.view.done) done();
        else send({ type: 'move', seq: ++seq, move: { kind: 'run' } }); // the vCPUs exist: run the threads to their end
      }
    };
    // Loaded with the four vCPUs created (the program's first operations), as the lab bench steps them.
    const steps = Array.from({ length: 4 }, () => ({ kind: 'step', unit: 'op' }) as const);
    send({ type: 'load', seq: ++seq, draft: draftFromDocument(BUSY(forNs)), moves: steps });
  });
  worker.terminate();
}

function Page() {
  const [selected, setSelected] = useState<ExitRef | null>(null);
  return createElement(TimelineView, { timeline: tl, version: tl.version, selected, onSelectExit: setSelected });
}

createRoot(document.getElementById('root')!).render(createElement(Page));
(window as unknown as { benchReady: boolean }).benchReady = true;
