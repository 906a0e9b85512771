// The built-in scenarios with their titles and explanations (the scenario module's gallery).
import { GALLERY } from '../../model/scenario/gallery';
import { useLab } from '../store/use-lab';
import { Modal } from './Modal';

export function Gallery({ open, onClose }: { open: boolean; onClose: () => void }) {
  const lab = useLab();
  return (
    <Modal open={open} onClose={onClose} labelledBy="gallery-heading" className="gallery">
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
    </Modal>
  );
}
