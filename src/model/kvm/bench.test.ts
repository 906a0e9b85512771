// The benchmark's guests really do what they claim: one HLT exit per timer period, woken by the LAPIC
// timer, with HLT exits enabled — counted the same with frames on and off; the PV EOI guest without
// its EOI exit. (Speed itself is not tested:
// no test depends on timing.)
import { expect, test } from 'vitest';
import { loadCore } from '../cpu/node';
import { benchHltRoundTrips } from './bench';

test.each([
  [false, false], [true, false], [false, true], [true, true],
])('frames %s, keepAll %s: every period is one HLT round trip, every frame recorded', async (frames, keepAll) => {
  // bench throws if a KVM_RUN passed the frame limit.
  const r = await benchHltRoundTrips(await loadCore(), { frames, keepAll, roundTrips: 2000 });
  // Four KVM_RUNs of 500 periods; the guest's first HLT of each may sit on either side of its edge.
  expect(Math.abs(r.roundTrips - 2000)).toBeLessThanOrEqual(4);
  expect(r.perSecond).toBeGreaterThan(0);
});

test.each([false, true])('frames %s: the PV EOI guest acknowledges every tick without an exit (one exit per round trip, two by WRMSR)', async (frames) => {
  const core = await loadCore();
  const pv = await benchHltRoundTrips(core, { frames, eoi: 'pv', roundTrips: 1000 });
  expect(Math.abs(pv.roundTrips - 1000)).toBeLessThanOrEqual(4);
  expect(pv.exitsPerRoundTrip).toBe(1);
  expect((await benchHltRoundTrips(core, { frames, roundTrips: 1000 })).exitsPerRoundTrip).toBe(2);
});
