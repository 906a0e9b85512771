// The built-in scenarios with their titles and explanations (the scenario module's gallery).
import { useEffect, useRef } from 'react';
import { GALLERY } from '../../model/scenario/gallery';
import { useLab } from '../store/use-lab';

export function Gallery({ open, onClose }: { open: boolean; onClose: () => void }) {
  const lab = useLab();
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={dialog} className="dialog gallery" aria-labelledby="gallery-heading" onClose={onClose}>
      <header className="dialog-head">
        <h2 id="gallery-heading">Gallery</h2>
        <button type="button" onClick={onClose}>Close</button>
      </header>
      <ul>
        {GALLERY.map((e) => (
          <li key={e.id}>
            <button type="button" className="gallery-open" onClick={() => { lab.openDocument(e.doc); onClose(); }}>
              {String(e.doc.title)}
            </button>
            <p>{String(e.doc.description ?? '')}</p>
          </li>
        ))}
      </ul>
    </dialog>
  );
}
