import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeState } from '../../model/scenario/url';
import { emptySim } from '../store/replies';
import { labView, vcpuView } from '../store/testing';
import { embedStatus, parseEmbedMessage } from './embed-api';

describe('embed API messages', () => {
  it('ignores messages that are not for it', () => {
    for (const m of [null, 'run', 42, { type: 'run' }, [1]]) expect(parseEmbedMessage(m)).toBeNull();
  });

  it('reads each command', () => {
    expect(parseEmbedMessage({ exitscope: 1, type: 'step', unit: 'exit' })).toEqual({ type: 'step', unit: 'exit' });
    expect(parseEmbedMessage({ exitscope: 1, type: 'step', unit: 'instruction', vcpu: 1 })).toEqual({ type: 'step', unit: 'instruction', vcpu: 1 });
    expect(parseEmbedMessage({ exitscope: 1, type: 'run' })).toEqual({ type: 'run' });
    expect(parseEmbedMessage({ exitscope: 1, type: 'goto', vcpu: 1, exit: 7 })).toEqual({ type: 'goto', vcpu: 1, exit: 7 });
    const scenario = { format: 'exitscope/1', guest: { asm: 'hlt' } };
    expect(parseEmbedMessage({ exitscope: 1, type: 'load', scenario })).toEqual({ type: 'load', scenario });
    const link = { doc: scenario, view: { step: 1 } };
    expect(parseEmbedMessage({ exitscope: 1, type: 'open', link: `https://x.test/lab/#${encodeState(link)}` })).toEqual({ type: 'open', link });
    expect(parseEmbedMessage({ exitscope: 1, type: 'open', link: encodeState(link) })).toEqual({ type: 'open', link });
  });

  it.each([
    [{ exitscope: 2, type: 'run' }, 'unsupported API version 2'],
    [{ exitscope: 1, type: 'fly' }, 'unknown message type "fly"'],
    [{ exitscope: 1, type: 'step', unit: 'cycle' }, 'step: "unit" must be one of'],
    [{ exitscope: 1, type: 'load', scenario: 'hlt' }, 'load: "scenario" must be'],
    [{ exitscope: 1, type: 'open', link: 'es1.AAAA' }, 'open: the link is damaged'],
    [{ exitscope: 1, type: 'open' }, 'open: "link" must be a string'],
    [{ exitscope: 1, type: 'goto', vcpu: 1, exit: -7 }, 'goto: "vcpu" (a vCPU id) and "exit"'],
    [{ exitscope: 1, type: 'step', unit: 'instruction', vcpu: '1' }, 'step: "vcpu", when given, must be a vCPU id'],
  ])('answers %j with an error', (m, error) => {
    expect(parseEmbedMessage(m)).toEqual({ error: expect.stringContaining(error) });
  });

  it('never throws', () => {
    fc.assert(fc.property(fc.record({ exitscope: fc.constantFrom(1, 2, undefined), type: fc.oneof(fc.constantFrom('step', 'goto', 'load', 'open', 'run'), fc.string()), unit: fc.oneof(fc.constantFrom('instruction', 'exit'), fc.jsonValue()), vcpu: fc.jsonValue(), exit: fc.jsonValue(), link: fc.jsonValue(), scenario: fc.jsonValue() }, { requiredKeys: [] }), (m) => {
      parseEmbedMessage(m);
    }));
  });

  it('reports where the lab stands', () => {
    const view = labView({ next: 2, total: 5, vcpus: [vcpuView(0, { exits: 3 }), vcpuView(1, { mpState: 'KVM_MP_STATE_HALTED' })],
      results: [{ index: 1, op: 'enable_cap', fd: 'vm', summary: 'vm KVM_ENABLE_CAP(…)', ret: -1, errno: 'EINVAL', detail: {} }] });
    expect(embedStatus({ ...emptySim(), view })).toMatchObject({
      exitscope: 1, type: 'state', next: 2, total: 5, done: false, running: false,
      exits: [{ vcpu: 0, exits: 3, mp_state: 'KVM_MP_STATE_RUNNABLE' }, { vcpu: 1, exits: 0, mp_state: 'KVM_MP_STATE_HALTED' }],
      last: { summary: 'vm KVM_ENABLE_CAP(…)', ret: -1, errno: 'EINVAL' },
      inProgress: null,
    });
    // Stopped at an exit inside KVM_RUN: "next 3 of 3" alone would read as "every operation issued".
    const under = labView({ next: 3, total: 3, inProgress: { index: 2, summary: 'vcpu0 KVM_RUN' } });
    expect(embedStatus({ ...emptySim(), view: under })).toMatchObject({ next: 3, total: 3, done: false, inProgress: { index: 2, summary: 'vcpu0 KVM_RUN' } });
  });
});
