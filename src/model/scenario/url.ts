// The lab's state in a link: `es<version>.<base64url of the zlib-compressed JSON>`. The version is
// outside the payload, so a later version may change the payload's encoding too; decoding an
// older one runs its migrations one version at a time up to the current one (the shape of
// Compiler Explorer's loadState() fall-through switch, as a table because the compiler rejects
// fall-through). Links must keep working forever: every old version keeps its migration and a
// frozen example string in url.test.ts.
import { strFromU8, strToU8, unzlibSync, zlibSync } from 'fflate';
import type { Json } from './document';

/** Where the lab is looking: open for the UI to add keys; these are the ones it starts with. */
export interface ViewState {
  variant?: string; // the selected kernel variant ("rfc-v4/5" …)
  vcpu?: number; // the selected vCPU
  exit?: number; // the selected exit of that vCPU (TraceEvent kvm_exit.exit)
  step?: number; // how many program operations have run
  [key: string]: Json | undefined;
}

export interface LabState {
  doc: { [key: string]: Json }; // the exitscope/1 document as the person left it (valid or not)
  view: ViewState;
}

export const STATE_VERSION = 1;
const PREFIX = 'es';

/**
 * Migrations, indexed by the version they upgrade from: MIGRATIONS[v - 1] turns a version v
 * payload into a version v + 1 payload. Version 2 adds `(s) => …` here and a frozen v1 string to
 * the tests; the decoder needs no other change.
 */
const MIGRATIONS: ((payload: unknown) => unknown)[] = [];

export class LinkError extends Error {}

export function encodeState(state: LabState): string {
  const json = JSON.stringify({ doc: state.doc, view: state.view });
  return `${PREFIX}${STATE_VERSION}.${toBase64Url(zlibSync(strToU8(json), { level: 9 }))}`;
}

/** The state in a link, or a LinkError that says why it cannot be read. */
export function decodeState(link: string): LabState | LinkError {
  const m = /^es(\d+)\.([A-Za-z0-9_-]*)$/.exec(link.trim());
  if (!m) return new LinkError('not an exitscope link: it should look like "es1." followed by letters, digits, "-" and "_"');
  const version = Number(m[1]);
  if (version < 1) return new LinkError(`not an exitscope link: there is no state version ${version}`);
  if (version > STATE_VERSION)
    return new LinkError(`this link was made by a newer exitscope (state version ${version}; this one reads versions up to ${STATE_VERSION})`);
  let payload: unknown;
  try {
    payload = JSON.parse(strFromU8(inflate(fromBase64Url(m[2]))));
  } catch (e) {
    return new LinkError(`the link is damaged (${e instanceof LinkError ? e.message : 'its compressed data does not unpack'}); it may have been cut short when copied`);
  }
  for (let v = version; v < STATE_VERSION; v++) payload = MIGRATIONS[v - 1](payload);
  return checkState(payload);
}

function checkState(p: unknown): LabState | LinkError {
  const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(p) || !isObject(p.doc) || !isObject(p.view)) return new LinkError('the link is damaged: its state is not a document and a view');
  return { doc: p.doc, view: p.view };
}

/** zlib, whose Adler-32 trailer fflate does not check: checked here, so damage is never silent. */
function inflate(z: Uint8Array): Uint8Array {
  if (z.length < 6) throw new LinkError('too short');
  const out = unzlibSync(z);
  const want = new DataView(z.buffer, z.byteOffset + z.length - 4, 4).getUint32(0);
  if (adler32(out) !== want) throw new LinkError('checksum mismatch');
  return out;
}

function adler32(data: Uint8Array): number {
  let a = 1, b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let k = 0; k < chars; k++) out += B64[(n >> (18 - 6 * k)) & 63];
  }
  return out;
}

function fromBase64Url(s: string): Uint8Array {
  if (s.length % 4 === 1) throw new LinkError('its length is impossible for base64url');
  const out = new Uint8Array(Math.floor((s.length * 6) / 8));
  let acc = 0, bits = 0, j = 0;
  for (const ch of s) {
    acc = (acc << 6) | B64.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}
