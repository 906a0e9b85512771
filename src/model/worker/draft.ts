// Reads a draft (the document with its guest code and program as editor text) into a Scenario, or
// lists every problem on the line of the editor it belongs to: JSON syntax and scenario errors in
// the program editor, assembler errors in the guest-code editor, the rest against the document.
import { assemble } from '../asm';
import type { Json } from '../scenario/document';
import { JsonSyntaxError, parseJson, type JsonPath, type Pos } from '../scenario/json';
import { parseScenario, type ScenarioError } from '../scenario/parse';
import type { Scenario } from '../scenario/types';
import type { Draft, SourceProblem } from './protocol';

export type DraftResult = { ok: true; scenario: Scenario; doc: { [key: string]: Json } } | { ok: false; problems: SourceProblem[] };

export async function readDraft(d: Draft): Promise<DraftResult> {
  let program: { value: unknown; at(path: JsonPath): Pos | undefined };
  try {
    program = parseJson(d.program);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    return { ok: false, problems: [{ where: 'program', path: 'program', message: `not valid JSON: ${e.reason}`, ...e.pos }] };
  }
  const guest = typeof d.doc.guest === 'object' && d.doc.guest !== null && !Array.isArray(d.doc.guest) ? d.doc.guest : {};
  const doc = { ...d.doc, guest: { ...guest, [d.codeKind]: d.code }, program: program.value as Json };
  // Positions come from the program's own text; other fields have no text to point into.
  const at = (path: JsonPath) => (path[0] === 'program' ? program.at(path.slice(1)) : undefined);
  const parsed = parseScenario(doc, at);
  if (!parsed.ok) return { ok: false, problems: parsed.errors.map(toProblem) };

  const { scenario } = parsed;
  if (scenario.guest.asm !== undefined) {
    const asm = await assemble(scenario.guest.asm, { org: scenario.guest.org });
    if (!asm.ok)
      return { ok: false, problems: asm.errors.map((e) => ({ where: 'asm', path: 'guest.asm', message: e.message, line: e.line || undefined, col: e.col || undefined })) };
  }
  return { ok: true, scenario, doc };
}

function toProblem(e: ScenarioError): SourceProblem {
  const where = e.path.startsWith('program') ? 'program' : e.path === 'guest.asm' || e.path === 'guest.hex' ? 'asm' : 'document';
  return { where, path: e.path, message: e.message, ...(where === 'program' && e.pos) };
}
