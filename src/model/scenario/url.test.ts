import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scenarioArb } from './arbitrary';
import { toDocument } from './document';
import { decodeState, encodeState, LinkError, STATE_VERSION, type LabState } from './url';

/** One link per state version ever released, frozen: each must decode to its state forever. */
const FROZEN: Record<number, [string, LabState]> = {
  1: [
    'es1.eNpFT9FqAjEQ_JVjn694LaUP915oafsmRRA5QtzT4HmJm1wUjvy7syr4lOzM7MzOTFtvqZ2p93I0iVrii0vR-sCLV6opuTQw0K_fZXVjquSrKbLEYCxDcGAZeYBCevuS34Hko_o5Odm9CyCe6lLTbuKIlJlMhIz2Q1I0iN-JAbCeyeuOFTaJu2zDBEe3pbYp9YOTaQTWAyPlGwx8CWxvtkri0VM7eESPkX7-_7rP1feyQwsqpWwQmR2fVZmNODNq8XuBxYdW0Ny2UWMHCp-YGNlvpVwBHWhjUA',
    {
      doc: {
        format: 'exitscope/1', title: 'HLT exits to userspace', kernel: 'rfc-v4', vm: { irqchip: 'userspace' }, guest: { asm: 'hlt' },
        program: [{ op: 'create_vcpu', id: 0 }, { op: 'run', fd: 'vcpu0', expect: { run: { exit_reason: 'KVM_EXIT_HLT' } } }],
      },
      view: { variant: 'rfc-v4/6', vcpu: 0, exit: 0, step: 2 },
    },
  ],
};

const viewArb = fc.record(
  { variant: fc.string(), vcpu: fc.nat(15), exit: fc.nat(), step: fc.nat(), extra: fc.jsonValue() },
  { requiredKeys: [] },
) as fc.Arbitrary<LabState['view']>;

describe('URL state codec', () => {
  it('has a frozen link for every version up to the current one', () => {
    expect(Object.keys(FROZEN).map(Number)).toEqual(Array.from({ length: STATE_VERSION }, (_, i) => i + 1));
  });

  it.each(Object.entries(FROZEN))('still decodes a version %s link', (_, [link, state]) => {
    expect(decodeState(link)).toEqual(state);
  });

  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(scenarioArb, viewArb, (s, view) => {
        const state = JSON.parse(JSON.stringify({ doc: toDocument(s), view })) as LabState;
        const link = encodeState(state);
        expect(link).toMatch(/^es1\.[A-Za-z0-9_-]+$/);
        expect(decodeState(link)).toEqual(state);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps a document that is not (yet) valid', () => {
    const state: LabState = { doc: { format: 'exitscope/1', guest: { asm: 'hlt\nmov eax, [' } }, view: {} };
    expect(decodeState(encodeState(state))).toEqual(state);
  });

  it.each([
    ['', 'not an exitscope link'],
    ['https://godbolt.org/z/abc123', 'not an exitscope link'],
    ['g:eJxVj8', 'not an exitscope link'],
    ['es0.eNpF', 'there is no state version 0'],
    ['es9.eNpF', 'made by a newer exitscope (state version 9'],
    ['es1.eNpFT9FqAjEQ_JVjn694LaUP915', 'the link is damaged'],
    ['es1.', 'the link is damaged'],
    ['es1.AAAAAAAAAAAAAAAA', 'the link is damaged'],
    ['es1.' + Buffer.from('{"doc":1}').toString('base64url'), 'the link is damaged'],
  ])('refuses %j with a clear reason', (link, reason) => {
    const r = decodeState(link);
    expect(r).toBeInstanceOf(LinkError);
    expect((r as LinkError).message).toContain(reason);
  });

  it('never turns a damaged character into a different state', () => {
    // Either the damage is refused, or it only touched bits that carry nothing (deflate padding
    // after the last block, unused base64 bits) and the state is exactly the original.
    const [link, state] = FROZEN[1];
    for (let i = 4; i < link.length; i++) {
      for (const ch of 'A9_') {
        if (ch === link[i]) continue;
        const r = decodeState(link.slice(0, i) + ch + link.slice(i + 1));
        if (!(r instanceof LinkError)) expect(r).toEqual(state);
      }
    }
  });
});
