import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../trace/events';
import type { SentView } from './protocol';
import { HeldRecording } from './recording';
import type { FramesView, LabView } from './view';

const view = (frames: SentView['frames']): SentView => ({ title: 't', next: 0, frames } as unknown as SentView);
const framesOf = (recording: number, roots?: Frame[]): SentView['frames'] =>
  ({ vcpu: 0, ioctl: 'KVM_RUN', recording, cursor: 0, total: 2, ...(roots && { roots }) }) as FramesView;

describe('HeldRecording', () => {
  it('gives back, for any run of views, every view whole when the sender leaves out only what it sent last', () => {
    // Views naming recordings (or none), each recording its own roots; the sender's rule is the host's.
    fc.assert(
      fc.property(fc.array(fc.option(fc.nat(3), { nil: null }), { maxLength: 30 }), (ids) => {
        const rootsOf = (id: number): Frame[] => [{ fn: `r${id}`, t: id, calls: [] }];
        const held = new HeldRecording();
        let sent: number | null = null;
        for (const id of ids) {
          const whole = id === null ? null : framesOf(id, rootsOf(id));
          const out = held.resolve(view(id === null ? null : framesOf(id, id === sent ? undefined : rootsOf(id))));
          sent = id;
          expect(out).toEqual(view(whole));
        }
      }),
    );
  });

  it('keeps the very array it was given, so an unchanged recording is the same object to the page', () => {
    const held = new HeldRecording();
    const roots: Frame[] = [{ fn: 'vcpu_run', t: 0, calls: [] }];
    held.resolve(view(framesOf(1, roots)));
    expect((held.resolve(view(framesOf(1))) as LabView).frames!.roots).toBe(roots);
  });

  it('says so when a recording is left out that it does not hold (after forgetting, or another number)', () => {
    const held = new HeldRecording();
    held.resolve(view(framesOf(1, [])));
    expect(held.resolve(view(framesOf(2)))).toMatch(/recording #2/);
    held.forget();
    expect(held.resolve(view(framesOf(1)))).toMatch(/recording #1/);
  });
});
