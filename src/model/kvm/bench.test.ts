// The benchmark's guest really does what it claims: one HLT exit per timer period, woken by the LAPIC
// timer, with HLT exits enabled — counted the same with frames on and off. (Speed itself is not tested:
// no test depends on timing.)
import { expect, test } from 'vitest';
import { loadCore } from '../cpu/node';
import { benchHltRoundTrips } from './bench';

test.each([false, true])('frames %s: every period is one HLT round trip', async (frames) => {
  const r = await benchHltRoundTrips(await loadCore(), { frames, roundTrips: 2000 });
  // The window is 2000 periods; the guest's first HLT of the window may sit on either side of its edge.
  expect(Math.abs(r.roundTrips - 2000)).toBeLessThanOrEqual(1);
  expect(r.perSecond).toBeGreaterThan(0);
});
