import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeState, type LabState } from '../../model/scenario/url';
import { embedCode, embedLink, parseVariantKey, readAddress, shareLink, unreadableLink, variantKey } from './link';

const BASE = 'https://lab.example/exitscope/';
const state: LabState = {
  doc: { format: 'exitscope/1', title: 'Two vCPUs', kernel: 'rfc-v4', guest: { asm: 'hlt' }, program: [] },
  view: { variant: 'rfc-v4/6', vcpu: 1, exit: 7, step: 3 },
};

describe('page address', () => {
  it('opens the plain page with no state and no error', () => {
    expect(readAddress(BASE)).toEqual({ embed: false, state: null, error: null });
    expect(readAddress(BASE + '?embed=1#')).toEqual({ embed: true, state: null, error: null });
  });

  it('round-trips any state through a share link and an embed link', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(15), fc.nat(1000), (title, vcpu, exit) => {
        const s: LabState = { doc: { ...state.doc, title }, view: { ...state.view, vcpu, exit } };
        expect(readAddress(shareLink(BASE, s))).toEqual({ embed: false, state: s, error: null });
        expect(readAddress(embedLink(BASE, s))).toEqual({ embed: true, state: s, error: null });
      }),
      { numRuns: 50 },
    );
  });

  it('keeps the origin and path, drops a stale embed flag from share links, replaces the old state', () => {
    const link = shareLink(BASE + '?embed=1&x=2#es1.old', state);
    expect(link.startsWith(BASE + '?x=2#es1.')).toBe(true);
    expect(link).toBe(`${BASE}?x=2#${encodeState(state)}`);
  });

  it('says why a damaged or foreign link cannot be read, and still opens', () => {
    const cut = shareLink(BASE, state).slice(0, -12);
    const r = readAddress(cut);
    expect(r.state).toBeNull();
    expect(r.error).toMatch(/damaged/);
    expect(readAddress(BASE + '#g:eJxVj8').error).toMatch(/not an exitscope link/);
    expect(readAddress(BASE + '?embed=1#es7.abc').error).toMatch(/newer exitscope/);
  });

  it('says so in one sentence after another, whatever the reason ends with', () => {
    fc.assert(
      fc.property(fc.nat(40), (cut) => {
        const error = readAddress(shareLink(BASE, state).slice(0, -1 - cut)).error;
        if (error === null) return;
        const text = unreadableLink(error, 'The lab keeps what it had.');
        expect(text).toMatch(/^This link could not be opened: .*[^.?!]\. The lab keeps what it had\.$/);
      }),
      { numRuns: 41 },
    );
    expect(unreadableLink(readAddress(BASE + '#es1.eNpFT9FqAjEQ_JVjn694LaUP915').error!, 'X.')).toMatch(/when copied\. X\.$/);
  });

  it('reads a link whose fragment was percent-encoded by a mail client', () => {
    const link = shareLink(BASE, state);
    const [head, frag] = link.split('#');
    expect(readAddress(`${head}#${encodeURIComponent(frag).replace(/-/g, '%2D')}`).state).toEqual(state);
  });
});

describe('embed code', () => {
  it('is an iframe with a title, pointing at the compact layout', () => {
    const code = embedCode(BASE, state, 'Two vCPUs');
    expect(code).toMatch(/^<iframe src="https:\/\/lab\.example\/exitscope\/\?embed=1#es1\.[\w-]+" title="exitscope: Two vCPUs"/);
  });

  it('escapes the title', () => {
    expect(embedCode(BASE, state, 'a "b" <c> & d')).toContain('title="exitscope: a &quot;b&quot; &lt;c&gt; &amp; d"');
  });
});

describe('variant key', () => {
  it('writes and reads rfc-v4 with its patch count, other kernels by name', () => {
    for (let p = 0; p <= 6; p++) expect(parseVariantKey(variantKey('rfc-v4', p))).toEqual({ kernel: 'rfc-v4', patches: p });
    for (const k of ['v5.19', 'rfc-v6', 'mainline']) expect(parseVariantKey(variantKey(k, 6))).toEqual({ kernel: k });
  });
});
