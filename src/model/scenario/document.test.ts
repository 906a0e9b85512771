import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scenarioArb } from './arbitrary';
import { stringifyDocument, toDocument, type Json } from './document';
import { parseScenario, parseScenarioText } from './parse';

describe('toDocument', () => {
  it('gives back the same scenario when parsed again, through JSON text', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const r = parseScenarioText(JSON.stringify(toDocument(s), null, 2));
        expect(r).toEqual({ ok: true, scenario: s });
      }),
      { numRuns: 300 },
    );
  });

  it('writes a minimal, readable document: names, no defaults', () => {
    const r = parseScenario({
      format: 'exitscope/1', title: 't', kernel: 'rfc-v4', patches: 6,
      host: { mwait: false, pcpus: 4 }, vm: { memory: 8 << 20, irqchip: 'kernel' },
      guest: { asm: 'hlt', org: 65536 },
      program: [
        { op: 'create_vcpu', id: 0, regs: { rax: 5 } },
        { op: 'enable_cap', fd: 'vcpu0', cap: 143, args: '0x8000000000000002', flags: 0 },
        { op: 'enable_cap', fd: 'vm', cap: 143, args: '0x40' },
        { op: 'set_guest_debug', fd: 'vcpu0', control: 5 },
        { op: 'run', fd: 'vcpu0', timeout_ns: 1e9, expect: { ret: 0 } },
      ],
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(toDocument(r.scenario)).toEqual({
      format: 'exitscope/1', title: 't', kernel: 'rfc-v4',
      host: { mwait: false }, vm: { memory: '8M' }, guest: { asm: 'hlt' },
      program: [
        { op: 'create_vcpu', id: 0, regs: { rax: '0x5' } },
        { op: 'enable_cap', fd: 'vcpu0', cap: 'KVM_CAP_X86_DISABLE_EXITS', args: ['HLT', 'OVERRIDE'] },
        { op: 'enable_cap', fd: 'vm', cap: 'KVM_CAP_X86_DISABLE_EXITS', args: '0x40' },
        { op: 'set_guest_debug', fd: 'vcpu0', control: ['ENABLE', 'EXIT_USERSPACE'] },
        { op: 'run', fd: 'vcpu0', expect: { ret: 0 } },
      ],
    });
  });
});

describe('stringifyDocument', () => {
  it('writes JSON that reads back the same', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      expect(JSON.parse(stringifyDocument(v as Json))).toEqual(JSON.parse(JSON.stringify(v)));
    }), { numRuns: 300 });
  });

  it('keeps short objects and arrays on one line', () => {
    expect(stringifyDocument({ program: [{ op: 'create_vcpu', id: 0 }], guest: { asm: 'hlt' } }, 60)).toBe(
      '{\n  "program": [{ "op": "create_vcpu", "id": 0 }],\n  "guest": { "asm": "hlt" }\n}\n',
    );
  });
});
