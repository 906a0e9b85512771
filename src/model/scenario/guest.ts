// The guest code of a scenario as bytes at `org`, and the entry address: assembles `guest.asm` (or
// decodes `guest.hex`) and resolves `guest.entry`. Problems come back as scenario errors, so a
// bad line of assembly is reported like any other bad field (`guest.asm: line 3, col 5: …`).
import { assemble, formatAsmError } from '../asm';
import type { ScenarioError } from './parse';
import { didYouMean } from './suggest';
import type { Guest } from './types';

export type GuestCode = { ok: true; bytes: Uint8Array; org: number; entry: number } | { ok: false; errors: ScenarioError[] };

export async function guestCode(guest: Guest, ramBytes: number): Promise<GuestCode> {
  let bytes: Uint8Array;
  let org = guest.org;
  let symbols = new Map<string, number>();
  if (guest.asm !== undefined) {
    const r = await assemble(guest.asm, { org: guest.org });
    if (!r.ok) return { ok: false, errors: r.errors.map((e) => ({ path: 'guest.asm', message: formatAsmError(e) })) };
    ({ bytes, org, symbols } = r);
  } else {
    bytes = Uint8Array.from((guest.hex ?? '').match(/../g) ?? [], (b) => parseInt(b, 16));
  }
  if (org + bytes.length > ramBytes)
    return { ok: false, errors: [{ path: 'guest.asm', message: `the code (${bytes.length} bytes at 0x${org.toString(16)}) runs past the end of guest RAM` }] };
  let entry: number;
  if (typeof guest.entry === 'number') entry = guest.entry;
  else if (symbols.has(guest.entry)) entry = symbols.get(guest.entry)!;
  else return { ok: false, errors: [{ path: 'guest.entry', message: `no label "${guest.entry}" in guest.asm${didYouMean(guest.entry, symbols.keys())}` }] };
  return { ok: true, bytes, org, entry };
}
