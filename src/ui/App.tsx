// The lab's layout. The full page is one screen, Compiler Explorer-like: a top bar (gallery, kernel,
// patches, host, sharing), the stepping toolbar with the live narration, then the machine (VM and
// vCPU panels) on the left, the timeline across the top of the views, the call chain beside perf
// kvm stat and the ioctl log, and the editors in a dock below. `?embed=1`: the same views beside the
// panels, compact, without the page chrome or the editors, for documentation iframes.
import { useEffect, useState } from 'react';
import { Dock } from './panels/Dock';
import { Gallery } from './panels/Gallery';
import { Intro } from './panels/Intro';
import { IoctlLog } from './panels/IoctlLog';
import { EmbedContext } from './panels/layout';
import { NoticeBanner } from './panels/Notice';
import { ShortcutHelp } from './panels/ShortcutHelp';
import { Toolbar } from './panels/Toolbar';
import { TopBar } from './panels/TopBar';
import { VcpuPanels } from './panels/VcpuPanels';
import { VmPanel } from './panels/VmPanel';
import { CallChainPane, LiveNarration, StatsPane, TimelinePane } from './panels/Views';
import { runCommand } from './panels/commands';
import { commandFor } from './panels/shortcuts';
import { shareLink } from './share/link';
import { useLab } from './store/use-lab';
import './app.css';
import './panels/panels.css';
import './editors/editors.css';

export function App({ embed }: { embed: boolean }) {
  const lab = useLab();
  const [help, setHelp] = useState(false);
  const [gallery, setGallery] = useState(false);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (help || gallery) return; // a dialog has the keyboard
      const command = commandFor(e);
      if (!command) return;
      e.preventDefault();
      runCommand(lab, command, () => setHelp(true));
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [lab, help, gallery]);

  return (
    <EmbedContext.Provider value={embed}>
      <div className={embed ? 'app embed' : 'app'}>
        {embed ? (
          <header className="embed-bar">
            <Intro />
            <a href={location.pathname} target="_blank" rel="noopener"
              onClick={(e) => { e.currentTarget.href = shareLink(location.href, lab.linkState()); }}>
              Open in exitscope
            </a>
          </header>
        ) : (
          <>
            <TopBar openGallery={() => setGallery(true)} />
            <Intro openGallery={() => setGallery(true)} />
          </>
        )}
        <NoticeBanner />
        <Toolbar openHelp={() => setHelp(true)} />
        <LiveNarration />
        <main className="workspace">
          <div className="machine">
            <VmPanel />
            <VcpuPanels />
          </div>
          <TimelinePane />
          <CallChainPane />
          <div className="side">
            {!embed && <StatsPane />}
            <IoctlLog />
          </div>
          {!embed && <Dock />}
        </main>
        <ShortcutHelp open={help} onClose={() => setHelp(false)} />
        {!embed && <Gallery open={gallery} onClose={() => setGallery(false)} />}
      </div>
    </EmbedContext.Provider>
  );
}
