// The lab's layout. The full page: header, scenario bar, stepping toolbar, editors, the machine
// (VM and vCPU panels), the views and the ioctl log. `?embed=1`: the same without the page chrome
// and editors, for documentation iframes.
import { useEffect, useState } from 'react';
import { Gallery } from './panels/Gallery';
import { Intro } from './panels/Intro';
import { IoctlLog } from './panels/IoctlLog';
import { NoticeBanner } from './panels/Notice';
import { ProgramPanel } from './panels/ProgramPanel';
import { CodePanel } from './panels/CodePanel';
import { ScenarioBar } from './panels/ScenarioBar';
import { Share } from './panels/Share';
import { ShortcutHelp } from './panels/ShortcutHelp';
import { Toolbar } from './panels/Toolbar';
import { VcpuPanels } from './panels/VcpuPanels';
import { VmPanel } from './panels/VmPanel';
import { LiveNarration, ViewsArea } from './panels/ViewsArea';
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
    <div className={embed ? 'app embed' : 'app'}>
      {embed ? (
        <header className="masthead compact">
          <a href={location.pathname} target="_blank" rel="noopener"
            onClick={(e) => { e.currentTarget.href = shareLink(location.href, lab.linkState()); }}>
            Open in exitscope
          </a>
        </header>
      ) : (
        <header className="masthead">
          <h1>exitscope</h1>
          <p className="tagline">KVM's x86 VM-exit handling, stepped on a model of the kernel: per-vCPU exit disabling (RFC v4, 2022) and what every ioctl returns.</p>
          <button type="button" onClick={() => setGallery(true)}>Gallery</button>
          <Share />
        </header>
      )}
      <NoticeBanner />
      <Intro openGallery={embed ? undefined : () => setGallery(true)} />
      {!embed && <ScenarioBar />}
      <Toolbar openHelp={() => setHelp(true)} />
      <LiveNarration />
      <main className="layout">
        {!embed && (
          <div className="editors">
            <CodePanel />
            <ProgramPanel />
          </div>
        )}
        <div className="machine">
          <VmPanel />
          <VcpuPanels />
        </div>
        <ViewsArea />
        <IoctlLog />
      </main>
      <ShortcutHelp open={help} onClose={() => setHelp(false)} />
      {!embed && <Gallery open={gallery} onClose={() => setGallery(false)} />}
    </div>
  );
}
