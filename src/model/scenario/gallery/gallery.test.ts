import { describe, expect, it } from 'vitest';
import { guestCode } from '../guest';
import { formatError, parseScenario } from '../parse';
import { GALLERY, ROWS } from './index';

describe('the gallery', () => {
  it('has unique ids that work as file names', () => {
    const ids = GALLERY.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it('covers every row of the spec, and names no row the spec does not have', () => {
    const covered = new Set(GALLERY.flatMap((e) => e.covers));
    expect(Object.keys(ROWS).filter((r) => !covered.has(r))).toEqual([]);
    expect([...covered].filter((r) => !(r in ROWS))).toEqual([]);
  });

  it.each(GALLERY.map((e) => [e.id, e] as const))('%s is a valid document with a title and a two-sentence explanation', async (_, e) => {
    const r = parseScenario(e.doc);
    if (!r.ok) throw new Error(r.errors.map(formatError).join('\n'));
    expect(r.scenario.title.length).toBeGreaterThan(10);
    const sentences = r.scenario.description!.split(/(?<=[.!?])\s+/);
    expect(sentences, r.scenario.description).toHaveLength(2);
    const code = await guestCode(r.scenario.guest, r.scenario.vm.memory);
    if (!code.ok) throw new Error(code.errors.map(formatError).join('\n'));
    expect(r.scenario.program.some((op) => op.expect)).toBe(true);
  });
});
