// Tabs as the ARIA authoring practices have them: one tab stop for the tab list (arrows, Home and
// End move between tabs and show them), each panel labelled by its tab. Panels stay mounted while
// hidden, so an editor keeps its state (and CodeMirror its undo history) across switches.
import { useId, useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface Tab {
  id: string;
  label: string;
  panel: ReactNode;
}

export function Tabs({ label, tabs, selected, onSelect, className, after }: {
  label: string;
  tabs: readonly Tab[];
  selected: string | null;
  /** A tab was chosen (clicked, or reached with the keyboard). */
  onSelect: (id: string) => void;
  className?: string;
  /** Controls after the tab list (a collapse button). */
  after?: ReactNode;
}) {
  const base = useId();
  const list = useRef<HTMLDivElement>(null);
  const tabId = (id: string) => `${base}-tab-${id}`;
  const panelId = (id: string) => `${base}-panel-${id}`;

  const onKeyDown = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.id === selected);
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    e.stopPropagation(); // not also a page shortcut
    const t = tabs[(to + tabs.length) % tabs.length];
    onSelect(t.id);
    list.current?.querySelector<HTMLElement>(`#${CSS.escape(tabId(t.id))}`)?.focus();
  };

  return (
    <div className={className ? `tabs ${className}` : 'tabs'}>
      <div className="tab-strip">
        <div ref={list} role="tablist" aria-label={label} onKeyDown={onKeyDown}>
          {tabs.map((t) => {
            const on = t.id === selected;
            return (
              <button key={t.id} id={tabId(t.id)} type="button" role="tab" aria-selected={on} aria-controls={panelId(t.id)}
                tabIndex={on || (selected === null && t === tabs[0]) ? 0 : -1} onClick={() => onSelect(t.id)}>
                {t.label}
              </button>
            );
          })}
        </div>
        {after}
      </div>
      {tabs.map((t) => (
        <div key={t.id} id={panelId(t.id)} role="tabpanel" aria-labelledby={tabId(t.id)} hidden={t.id !== selected} tabIndex={0} className="tab-panel">
          {t.panel}
        </div>
      ))}
    </div>
  );
}
