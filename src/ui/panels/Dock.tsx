// The editors, in a dock under the views: the guest code and the userspace program (with the result
// of each operation), as tabs. Collapsed, only the tab strip shows and the views get the height;
// choosing a tab opens it.
import { useState } from 'react';
import { CodePanel } from './CodePanel';
import { ProgramPanel } from './ProgramPanel';
import { Tabs } from './Tabs';

const TABS = [
  { id: 'code', label: 'Guest code', panel: <CodePanel /> },
  { id: 'program', label: 'Userspace program', panel: <ProgramPanel /> },
];

/** Open at first when the window is tall enough to give the editors room beside the views. */
export const DOCK_OPEN_MIN_HEIGHT = 1200;

export function Dock() {
  const [open, setOpen] = useState<string | null>(() => (window.innerHeight >= DOCK_OPEN_MIN_HEIGHT ? 'code' : null));
  const [last, setLast] = useState('code');
  const show = (id: string) => {
    setOpen(id);
    setLast(id);
  };
  return (
    <Tabs label="Editors" className={open ? 'dock open' : 'dock'} tabs={TABS} selected={open} onSelect={show}
      after={
        <button type="button" className="btn-small dock-toggle" aria-expanded={open !== null}
          onClick={() => (open ? setOpen(null) : show(last))}>
          {open ? 'Hide editors' : 'Show editors'}
        </button>
      } />
  );
}
