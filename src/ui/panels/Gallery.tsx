// The built-in scenarios with their titles and explanations (the scenario module's gallery), loaded
// when the dialog first opens: they are not needed for the first paint.
import { useEffect, useState } from 'react';
import type { GalleryEntry } from '../../model/scenario/gallery';
import { useLab } from '../store/use-lab';
import { Modal } from './Modal';

export function Gallery({ open, onClose }: { open: boolean; onClose: () => void }) {
  const lab = useLab();
  const [entries, setEntries] = useState<readonly GalleryEntry[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!open || entries) return;
    import('../../model/scenario/gallery').then((m) => setEntries(m.GALLERY), () => setFailed(true));
  }, [open, entries]);
  return (
    <Modal open={open} onClose={onClose} labelledBy="gallery-heading" className="gallery">
      <header className="dialog-head">
        <h2 id="gallery-heading">Gallery</h2>
        <button type="button" onClick={onClose}>Close</button>
      </header>
      {failed && <p role="alert">The gallery could not be loaded (offline?). Close this and try again.</p>}
      {!entries && !failed && <p className="hint">Loading the scenarios…</p>}
      <ul>
        {entries?.map((e) => (
          <li key={e.id}>
            <button type="button" className="gallery-open" onClick={() => { lab.openDocument(e.doc); onClose(); }}>
              {String(e.doc.title)}
            </button>
            <p>{String(e.doc.description ?? '')}</p>
          </li>
        ))}
      </ul>
    </Modal>
  );
}
