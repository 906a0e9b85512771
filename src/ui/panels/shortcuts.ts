// The keyboard map: one key per stepping control, shown in each button's tooltip and in the
// shortcut reference. Keys act only when focus is not in something that takes typing.

export type Command = 'step-instruction' | 'step-exit' | 'step-frame' | 'step-op' | 'run' | 'pause' | 'reset' | 'back' | 'goto-exit' | 'help';

export interface Shortcut {
  key: string; // KeyboardEvent.key
  command: Command;
  name: string; // the button's accessible name
  what: string; // for the reference
}

export const SHORTCUTS: readonly Shortcut[] = [
  { key: 'i', command: 'step-instruction', name: 'Step instruction', what: 'run one guest instruction (a VM exit it causes is handled)' },
  { key: 'e', command: 'step-exit', name: 'Step to next exit', what: 'run to the next VM exit (it stops at the exit; the next step has KVM handle it)' },
  { key: 'f', command: 'step-frame', name: 'Step frame', what: 'walk the current ioctl\'s kernel frames one call or return at a time' },
  { key: 'o', command: 'step-op', name: 'Step operation', what: 'issue the next ioctl of the program' },
  { key: 'r', command: 'run', name: 'Run', what: 'run the rest of the program' },
  { key: 'p', command: 'pause', name: 'Pause', what: 'stop a run where it is' },
  { key: 'b', command: 'back', name: 'Step back', what: 'undo the last step (the model replays to the state before it)' },
  { key: '0', command: 'reset', name: 'Reset', what: 'back to the start of the program' },
  { key: 'g', command: 'goto-exit', name: 'Go to selected exit', what: 'on (or back) to the exit selected in the timeline: the state as it stops there' },
  { key: '?', command: 'help', name: 'Keyboard shortcuts', what: 'show this reference' },
];

/** "Step instruction (I)": the tooltip of a control. */
export function tooltip(command: Command): string {
  const s = SHORTCUTS.find((x) => x.command === command)!;
  return `${s.name} (${s.key.toUpperCase()})`;
}

interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  target: EventTarget | null;
}

/** The command a key press means, or null (modifiers, or typing into a field or an editor). */
export function commandFor(e: KeyLike): Command | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  if (takesTyping(e.target)) return null;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  return SHORTCUTS.find((s) => s.key === key)?.command ?? null;
}

function takesTyping(target: EventTarget | null): boolean {
  const el = target as { tagName?: string; isContentEditable?: boolean; type?: string } | null;
  if (!el || typeof el.tagName !== 'string') return false;
  if (el.isContentEditable) return true;
  if (el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
  return el.tagName === 'INPUT' && !['checkbox', 'radio', 'button', 'range'].includes(el.type ?? '');
}
