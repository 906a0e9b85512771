// The example files people download from public/scenarios are the gallery's own scenarios, written
// by `exitscope gallery ID > public/scenarios/ID.json`; this keeps them from drifting apart.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringifyDocument } from '../document';
import { galleryEntry } from './index';

const DIR = fileURLToPath(new URL('../../../../public/scenarios/', import.meta.url));
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

describe('public/scenarios', () => {
  it('holds a few examples', () => expect(files.length).toBeGreaterThanOrEqual(4));

  it.each(files)('%s is the gallery scenario of that name, as `exitscope gallery` prints it', (f) => {
    const entry = galleryEntry(f.replace(/\.json$/, ''));
    expect(entry, `no gallery scenario for ${f}`).toBeDefined();
    expect(readFileSync(DIR + f, 'utf8')).toBe(stringifyDocument(entry!.doc));
  });
});
