// The shortcut reference, a modal dialog (Escape or the button closes it).
import { useEffect, useRef } from 'react';
import { SHORTCUTS } from './shortcuts';

export function ShortcutHelp({ open, onClose }: { open: boolean; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={dialog} className="dialog" aria-labelledby="keys-heading" onClose={onClose}>
      <h2 id="keys-heading">Keyboard shortcuts</h2>
      <table>
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.key}>
              <th scope="row"><kbd>{s.key.toUpperCase()}</kbd></th>
              <td>{s.name}</td>
              <td>{s.what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>Keys work anywhere except while typing in an editor or a field.</p>
      <button type="button" onClick={onClose}>Close</button>
    </dialog>
  );
}
