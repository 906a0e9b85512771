import { describe, expect, it } from 'vitest';
import type { Draft } from './protocol';
import { readDraft } from './draft';

const draft = (over: Partial<Draft> = {}): Draft => ({
  doc: { format: 'exitscope/1', title: 't', kernel: 'rfc-v4' },
  code: 'sti\nhlt\n',
  codeKind: 'asm',
  program: '[\n  { "op": "create_vcpu", "id": 0 },\n  { "op": "run", "fd": "vcpu0" }\n]',
  ...over,
});

describe('reading a draft', () => {
  it('gives the scenario and the whole document', async () => {
    const r = await readDraft(draft());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.scenario.program.map((o) => o.op)).toEqual(['create_vcpu', 'run']);
    expect(r.doc.guest).toEqual({ asm: 'sti\nhlt\n' });
  });

  it('puts a JSON syntax error on its line of the program', async () => {
    const r = await readDraft(draft({ program: '[\n  { "op": "create_vcpu", "id": 0 },,\n]' }));
    expect(r).toEqual({ ok: false, problems: [expect.objectContaining({ where: 'program', line: 2, col: 36 })] });
  });

  it('puts a scenario error on the line of the operation, with its path', async () => {
    const r = await readDraft(draft({ program: '[\n  { "op": "create_vcpu", "id": 0 },\n  { "op": "run", "fd": "vcpu7" }\n]' }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([expect.objectContaining({ where: 'program', path: 'program[1].fd', line: 3 })]);
    expect(r.problems[0].message).toMatch(/vcpu7/);
  });

  it('puts an assembler error on its line of the guest code', async () => {
    const r = await readDraft(draft({ code: 'sti\nhlt\nmovz eax, 1\n' }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([expect.objectContaining({ where: 'asm', path: 'guest.asm', line: 3 })]);
  });

  it('reports the rest against the document', async () => {
    const r = await readDraft(draft({ doc: { format: 'exitscope/1', kernel: 'v9' } }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([expect.objectContaining({ where: 'document', path: 'kernel' })]);
    expect(r.problems[0].line).toBeUndefined();
  });

  it('reads guest code given as hex', async () => {
    const r = await readDraft(draft({ code: 'fb f4', codeKind: 'hex' }));
    expect(r.ok && r.scenario.guest.hex).toBe('fbf4');
  });
});
