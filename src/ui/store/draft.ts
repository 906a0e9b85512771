// The document as the person edits it (protocol Draft) and back: the guest code and the program go
// to their editors as text, everything else stays JSON for the scenario bar. A document that is not
// (yet) valid survives both ways, so a link never loses what was typed.
import { stringifyDocument, type Json } from '../../model/scenario/document';
import type { Draft } from '../../model/worker/protocol';

type Obj = { [key: string]: Json };
const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function draftFromDocument(doc: Obj): Draft {
  const guest = isObj(doc.guest) ? doc.guest : {};
  const codeKind = typeof guest.hex === 'string' && typeof guest.asm !== 'string' ? 'hex' : 'asm';
  const code = guest[codeKind];
  const program = doc.program === undefined ? [] : doc.program;
  const rest: Obj = { ...doc };
  delete rest.program;
  if (isObj(doc.guest)) {
    const g: Obj = { ...doc.guest };
    delete g.asm;
    delete g.hex;
    rest.guest = g;
  }
  return {
    doc: rest,
    code: typeof code === 'string' ? code : '',
    codeKind,
    // A program that did not parse travels as its text (a string), and comes back as that text.
    program: typeof program === 'string' ? program : formatProgram(program),
  };
}

/** The whole document: the program parsed when its text is JSON, else kept as the text itself. */
export function documentFromDraft(d: Draft): Obj {
  let program: Json = d.program;
  try {
    const parsed = JSON.parse(d.program) as Json;
    if (typeof parsed !== 'string') program = parsed;
  } catch {
    // kept as text: the person is still typing it
  }
  const guest: Obj = { ...(isObj(d.doc.guest) ? d.doc.guest : {}), [d.codeKind]: d.code };
  return { ...d.doc, guest, program };
}

/** The program one operation a line (a long one wrapped), so that a line is an operation in diffs. */
export function formatProgram(program: Json): string {
  if (!Array.isArray(program) || !program.length) return stringifyDocument(program).trimEnd();
  const op = (o: Json) => `  ${stringifyDocument(o, 98).trimEnd().replace(/\n/g, '\n  ')}`;
  return `[\n${program.map(op).join(',\n')}\n]`;
}

/** The draft with another kernel (and, for rfc-v4, patches applied). */
export function withVariant(d: Draft, kernel: string, patches?: number): Draft {
  const doc: Obj = { ...d.doc, kernel };
  if (kernel === 'rfc-v4' && patches !== undefined && patches !== 6) doc.patches = patches;
  else delete doc.patches;
  return { ...d, doc };
}

/** The draft with one field of `host` or `vm` changed (host.mwait, vm.irqchip). */
export function withSetting(d: Draft, part: 'host' | 'vm', key: string, value: Json): Draft {
  const prev = d.doc[part];
  return { ...d, doc: { ...d.doc, [part]: { ...(isObj(prev) ? prev : {}), [key]: value } } };
}
