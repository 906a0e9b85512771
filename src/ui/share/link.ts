// The lab's state in its address: `#es1.…` (the scenario module's versioned, compressed codec) in the
// fragment, which browsers never send to a server, and `?embed=1` for the compact iframe layout.
// Pure functions of strings, so Node tests cover every case.
import { decodeState, encodeState, LinkError, type LabState } from '../../model/scenario/url';

export interface PageAddress {
  embed: boolean;
  /** The state the link carries; null when there is none or it cannot be read. */
  state: LabState | null;
  /** Why the link's state could not be read (the page still opens, with the default scenario). */
  error: string | null;
}

/** Reads a page address (`location.href`). */
export function readAddress(href: string): PageAddress {
  const url = new URL(href);
  const embed = url.searchParams.get('embed') === '1';
  const fragment = decodeURIComponent(url.hash.replace(/^#/, ''));
  if (!fragment) return { embed, state: null, error: null };
  const state = decodeState(fragment);
  if (state instanceof LinkError) return { embed, state: null, error: state.message };
  return { embed, state, error: null };
}

/** What the page says about a link it cannot read: why (a LinkError's message), then what it shows instead. */
export function unreadableLink(reason: string, instead: string): string {
  return `This link could not be opened: ${reason}. ${instead}`;
}

/** The address that opens `state` in the full page (no embed flag), on the same origin and path. */
export function shareLink(href: string, state: LabState): string {
  const url = new URL(href);
  url.searchParams.delete('embed');
  url.hash = encodeState(state);
  return url.toString();
}

/** The address of the compact layout, for an iframe. */
export function embedLink(href: string, state: LabState): string {
  const url = new URL(shareLink(href, state));
  url.searchParams.set('embed', '1');
  return url.toString();
}

/** An iframe snippet for documentation pages; the title names the frame for screen readers. */
export function embedCode(href: string, state: LabState, title: string): string {
  const frameTitle = `exitscope: ${title || 'KVM x86 VM-exit lab'}`;
  return `<iframe src="${escapeAttr(embedLink(href, state))}" title="${escapeAttr(frameTitle)}" width="100%" height="560" style="border: 0" loading="lazy"></iframe>`;
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** `view.variant` as the codec documents it: "rfc-v4/5" (kernel and patches applied) or "v5.19". */
export function variantKey(kernel: string, patches: number): string {
  return kernel === 'rfc-v4' ? `rfc-v4/${patches}` : kernel;
}

export function parseVariantKey(key: string): { kernel: string; patches?: number } {
  const m = /^rfc-v4\/([0-6])$/.exec(key);
  return m ? { kernel: 'rfc-v4', patches: Number(m[1]) } : { kernel: key };
}
