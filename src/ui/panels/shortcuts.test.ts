import { describe, expect, it } from 'vitest';
import { commandFor, SHORTCUTS, tooltip } from './shortcuts';

const press = (key: string, target: object | null = null, mods = {}) =>
  commandFor({ key, ctrlKey: false, metaKey: false, altKey: false, target: target as EventTarget, ...mods });

describe('keyboard shortcuts', () => {
  it('maps each key to its command, in either case', () => {
    for (const s of SHORTCUTS) expect(press(s.key)).toBe(s.command);
    expect(press('I')).toBe('step-instruction');
  });

  it('gives every command one key and a tooltip that shows it', () => {
    expect(new Set(SHORTCUTS.map((s) => s.key)).size).toBe(SHORTCUTS.length);
    expect(tooltip('step-exit')).toBe('Step to next exit (E)');
  });

  it('leaves keys alone while typing, or with a modifier', () => {
    expect(press('r', { tagName: 'TEXTAREA' })).toBeNull();
    expect(press('r', { tagName: 'DIV', isContentEditable: true })).toBeNull(); // CodeMirror
    expect(press('r', { tagName: 'INPUT', type: 'text' })).toBeNull();
    expect(press('r', { tagName: 'SELECT' })).toBeNull();
    expect(press('r', { tagName: 'INPUT', type: 'checkbox' })).toBe('run');
    expect(press('r', null, { ctrlKey: true })).toBeNull();
    expect(press('x')).toBeNull();
  });
});
