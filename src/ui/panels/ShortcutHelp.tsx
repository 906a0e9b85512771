// The shortcut reference, a modal dialog (Escape or the button closes it).
import { Modal } from './Modal';
import { SHORTCUTS } from './shortcuts';

export function ShortcutHelp({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Modal open={open} onClose={onClose} labelledBy="keys-heading">
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
    </Modal>
  );
}
