// Test support for the kernel model's conformance tests: scenarios written as exitscope/1 JSON (run
// through the real parser), guest code with an IDT, and lookups in the recorded frames.
import { loadCore } from '../cpu/node';
import { parseScenario } from '../scenario/parse';
import type { Scenario } from '../scenario/types';
import { Simulator, type ResultDoc, type SimOptions, type StepResult } from '../sim';
import type { Frame } from '../trace/events';

export type Doc = Record<string, unknown> & { program?: unknown[] };

export function scenarioOf(doc: Doc): Scenario {
  const p = parseScenario({ format: 'exitscope/1', ...doc });
  if (!p.ok) throw new Error(p.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return p.scenario;
}

export async function simulator(doc: Doc, opts?: SimOptions): Promise<Simulator> {
  return Simulator.create(await loadCore(), scenarioOf(doc), opts);
}

/** Runs the whole program; the document and the simulator. */
export async function runDoc(doc: Doc, opts?: SimOptions): Promise<{ doc: ResultDoc; sim: Simulator; steps: StepResult[] }> {
  const sim = await simulator(doc, opts);
  const result = sim.runAll();
  return { doc: result, sim, steps: result.steps };
}

/** Every frame named `fn`, depth first. */
export function framesNamed(frames: readonly Frame[] | undefined, fn: string): Frame[] {
  const out: Frame[] = [];
  const walk = (fs: readonly Frame[]) => {
    for (const f of fs) {
      if (f.fn === fn) out.push(f);
      walk(f.calls);
    }
  };
  walk(frames ?? []);
  return out;
}

/** The return value of the first frame named `fn`. */
export function retOf(frames: readonly Frame[] | undefined, fn: string): number | string | undefined {
  return framesNamed(frames, fn)[0]?.ret;
}

/** Function names in call order (depth first). */
export function callOrder(frames: readonly Frame[] | undefined): string[] {
  const out: string[] = [];
  const walk = (fs: readonly Frame[]) => fs.forEach((f) => { out.push(f.fn); walk(f.calls); });
  walk(frames ?? []);
  return out;
}

/**
 * Guest code with an IDT: `body` runs first (after LIDT), `handlers` maps vectors to their code
 * (ending in IRETQ or wherever they like). Unlisted vectors have no gate (a fault delivering them ends
 * in a triple fault).
 */
export function withIdt(body: string, handlers: Record<number, string> = {}): string {
  const vectors = Object.keys(handlers).map(Number);
  const top = Math.max(31, ...vectors);
  const gates: string[] = [];
  for (let v = 0; v <= top; v++) {
    gates.push(handlers[v] !== undefined
      ? `  dw vec${v} & 0xffff, 0x08, 0x8e00, (vec${v} >> 16) & 0xffff\n  dd vec${v} >> 32, 0`
      : '  dq 0, 0');
  }
  return [
    '  lidt [idtr]',
    body,
    ...vectors.map((v) => `vec${v}:\n${handlers[v]}`),
    'align 16',
    'idt:',
    ...gates,
    'idtr:',
    `  dw ${(top + 1) * 16 - 1}`,
    '  dq idt',
  ].join('\n');
}

/** xAPIC: RBX = the APIC page, software-enabled through SPIV. */
export const XAPIC_ENABLE = '  mov rbx, 0xfee00000\n  mov dword [rbx+0xf0], 0x1ff';
/** The LAPIC timer in one-shot mode (divide by 1): fires `ns` after this, with `vector`. Needs XAPIC_ENABLE. */
export const oneShotTimer = (vector: number, ns: number) =>
  `  mov dword [rbx+0x3e0], 0xb\n  mov dword [rbx+0x320], ${vector}\n  mov dword [rbx+0x380], ${ns}`;
export const periodicTimer = (vector: number, ns: number) =>
  `  mov dword [rbx+0x3e0], 0xb\n  mov dword [rbx+0x320], ${vector | 0x20000}\n  mov dword [rbx+0x380], ${ns}`;
/** EOI through the xAPIC page (RBX). */
export const XAPIC_EOI = '  mov dword [rbx+0xb0], 0';
