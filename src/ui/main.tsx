// The page's entry: read the address (a shared state? the embed layout?), start the worker, build the
// store, render. The worker and the store live outside React, so StrictMode's double effects do not
// start two workers.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { encodeState } from '../model/scenario/url';
import { App } from './App';
import { FIRST_SCREEN } from './share/first-screen';
import { readAddress, unreadableLink } from './share/link';
import { startUrlSync } from './share/url-sync';
import { startEmbedApi } from './share/embed-api';
import { draftFromDocument } from './store/draft';
import { createLab } from './store/lab';
import { LabContext } from './store/use-lab';
import { WorkerClient } from './worker-client';

const address = readAddress(location.href);

const client = new WorkerClient({
  reply: (r) => lab.reply(r),
  crashed: (message, detail) => lab.crashed(message, detail),
});
const lab = createLab(
  {
    send: (r) => client.send(r),
    restart: () => client.restart(),
    nextFrame: (fn) => requestAnimationFrame(() => fn()),
    later: (fn, ms) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    },
  },
  { draft: draftFromDocument(FIRST_SCREEN) },
);
if (address.state) lab.openLink(address.state);
if (address.error) lab.notify({ tone: 'error', text: unreadableLink(address.error, 'The default scenario is shown instead.') });
client.start();
if (!address.embed) startUrlSync(lab);
startEmbedApi(lab);
// ?debug=1: a handle for the page specs (crash the worker on purpose, open documents, make links).
if (new URLSearchParams(location.search).has('debug')) {
  Object.assign(window, { exitscope: { lab, crash: (how: 'throw' | 'trap') => client.send({ type: 'crash', how }), encode: encodeState } });
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LabContext.Provider value={lab}>
      <App embed={address.embed} />
    </LabContext.Provider>
  </StrictMode>,
);
