// The page's top bar: the name, the gallery, the kernel (and RFC v4 patches), the host options, and
// sharing. One dense row at 1280 px and wider; it wraps on narrower screens.
import { ScenarioBar } from './ScenarioBar';
import { Share } from './Share';

export function TopBar({ openGallery }: { openGallery: () => void }) {
  return (
    <header className="topbar">
      <h1 className="brand" title="KVM's x86 VM-exit handling, stepped on a model of the kernel">exitscope</h1>
      <button type="button" className="btn-gallery" aria-haspopup="dialog" onClick={openGallery}
        title="The built-in scenarios: each exit case of the series, with what the kernel returns">
        Gallery
      </button>
      <ScenarioBar />
      <Share />
    </header>
  );
}
