import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Json } from '../../model/scenario/document';
import { documentFromDraft, draftFromDocument, formatProgram, withSetting, withVariant } from './draft';

const doc: { [key: string]: Json } = {
  format: 'exitscope/1', title: 'HLT', kernel: 'rfc-v4', host: { mwait: false },
  guest: { asm: 'sti\nhlt\n', org: '0x10000' },
  program: [{ op: 'create_vcpu', id: 0 }, { op: 'run', fd: 'vcpu0' }],
};

describe('draft', () => {
  it('splits the guest code and the program out for their editors', () => {
    const d = draftFromDocument(doc);
    expect(d.code).toBe('sti\nhlt\n');
    expect(d.codeKind).toBe('asm');
    expect(d.program).toBe('[\n  { "op": "create_vcpu", "id": 0 },\n  { "op": "run", "fd": "vcpu0" }\n]');
    expect(d.doc).toEqual({ format: 'exitscope/1', title: 'HLT', kernel: 'rfc-v4', host: { mwait: false }, guest: { org: '0x10000' } });
  });

  it('gives the document back', () => {
    expect(documentFromDraft(draftFromDocument(doc))).toEqual(doc);
  });

  it('keeps guest code given as hex bytes as hex', () => {
    const hex = { ...doc, guest: { hex: 'f4' } };
    const d = draftFromDocument(hex);
    expect([d.code, d.codeKind]).toEqual(['f4', 'hex']);
    expect(documentFromDraft(d)).toEqual(hex);
  });

  it('keeps a program that is not JSON (yet) as its text, both ways', () => {
    const d = { ...draftFromDocument(doc), program: '[ { "op": "create_vcpu", ' };
    const back = documentFromDraft(d);
    expect(back.program).toBe('[ { "op": "create_vcpu", ');
    expect(draftFromDocument(back).program).toBe(d.program);
  });

  it('round-trips any program text through a document', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        const d = { ...draftFromDocument(doc), program: text };
        const again = draftFromDocument(documentFromDraft(d));
        // Valid JSON may be reformatted, but never changes meaning; anything else comes back verbatim.
        let parsed: unknown;
        try { parsed = JSON.parse(text); } catch { parsed = undefined; }
        if (parsed === undefined || typeof parsed === 'string') expect(again.program).toBe(text);
        else expect(JSON.parse(again.program)).toEqual(parsed);
      }),
    );
  });

  it('writes a program one operation a line, and any JSON back to the same value', () => {
    fc.assert(fc.property(fc.array(fc.jsonValue()), (v) => {
      expect(JSON.parse(formatProgram(v as Json))).toEqual(JSON.parse(JSON.stringify(v)));
    }));
    expect(formatProgram([])).toBe('[]');
    const long = { op: 'enable_cap', fd: 'vcpu1', cap: 'KVM_CAP_X86_DISABLE_EXITS', args: ['HLT', 'OVERRIDE'], expect: { ret: -1, errno: 'EINVAL' } };
    expect(formatProgram([{ op: 'create_vcpu', id: 0 }, long])).toBe(
      '[\n  { "op": "create_vcpu", "id": 0 },\n  {\n    "op": "enable_cap",\n    "fd": "vcpu1",\n    "cap": "KVM_CAP_X86_DISABLE_EXITS",\n    "args": ["HLT", "OVERRIDE"],\n    "expect": { "ret": -1, "errno": "EINVAL" }\n  }\n]',
    );
  });

  it('changes the kernel, writing patches only for rfc-v4 and only when not all six', () => {
    const d = draftFromDocument({ ...doc, patches: 3 });
    expect(withVariant(d, 'rfc-v4', 1).doc).toMatchObject({ kernel: 'rfc-v4', patches: 1 });
    expect(withVariant(d, 'rfc-v4', 6).doc.patches).toBeUndefined();
    expect(withVariant(d, 'mainline', 2).doc).not.toHaveProperty('patches');
  });

  it('changes one host or VM setting and keeps the others', () => {
    const d = withSetting(draftFromDocument(doc), 'host', 'pcpus', 8);
    expect(d.doc.host).toEqual({ mwait: false, pcpus: 8 });
    expect(withSetting(d, 'vm', 'irqchip', 'userspace').doc.vm).toEqual({ irqchip: 'userspace' });
  });
});
