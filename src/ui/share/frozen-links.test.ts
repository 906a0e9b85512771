// Links made by the lab must open in every later version. One frozen link per release of the
// lab's own view keys (variant, vcpu, exit, step, moves) on top of the codec's versions (whose own
// frozen strings are in src/model/scenario/url.test.ts): each must still decode, still be accepted
// by the worker and still reach the position it was made at. A change to the moves' shape adds a
// migration (url.ts) and a new entry here; the old entries stay.
import { describe, expect, it } from 'vitest';
import { loadCore } from '../../model/cpu/node';
import { Host } from '../../model/worker/host';
import { PROTOCOL_VERSION, type Reply } from '../../model/worker/protocol';
import { draftFromDocument } from '../store/draft';
import { createLab } from '../store/lab';
import { readAddress } from './link';

const FROZEN: { made: string; link: string; opens: { variant: string; vcpu: number; exit: number; next: number; moves: number; vcpu0Debug: string[] } }[] = [
  {
    made: 'lab 0.1 (state version 1): default scenario, three operations, an EXIT_USERSPACE checkbox, an exit and a frame',
    link: 'https://lab.example/#es1.eNqlU11vGjEQ_CuWX_pyTaBK0oo3SqkaNaloSKJINDoZ3wIWh-3YviMI8d87a1CVRk3UqggJvB-zs-PxVlZOy95WzlxYqSR7kh5Nitp5Ou7KQiaTakL06vNAtCfi9Ph9T3y5uBa5SlQmqmlNlXAWXxLtYHSDP_UGnRVFHYxPxln0j1TSC24XSmvy6E0LElp5NTW1SRtGUPv-WVUI5X1tKAqTRHIoVSnn3kQxq9U8CmUr8dBQg5Kvt5fl1fB7-el83P94MSyHd-fX40KsFwYDA62DSRkoitvLwVgAiSdbekyCbAqbo_3UjlgS-ZgXM3bOfHhPwNSHvbpioWrAGBtNRRllDgLpCMsuKViqsWeY6bftCSKeF6Yoe6eFbFessAkPemE8ippIIXqlSe4KmTE4ryLK5KJOPyzHfXDzoBCabKXjLrKsdQnNAD-rEAFuIfnck6zCoD8q7z6c_a4EKlSYg8dEjvo346G8L3DFnnSeGQg_nd2uOMzQgVSistW-QaPBkM4rue6v3B-4oYwN9Pf0IPfr5EJjn6J3cHheXOQiHPkaSxCO2X08nseVPGP3IuLe8CtyTSotOL3r5M_TMdPa6SWhIYWGdrt7XFRraM2pVgWjLD-hvQmOzwCX1ep1GcLsCcZEGA1XrFzL_sD1Lo1lCjlTyMZyJRNknv-ZM06nGkle97B0pFRm05UVTZv5c0m1w6tw8PJEDr_xRSGWtYN5rsaj_gAWygr-M7MswYvZGcyOBwHsn0nndrA',
    opens: { variant: 'rfc-v4/6', vcpu: 1, exit: 0, next: 5, moves: 7, vcpu0Debug: ['KVM_GUESTDBG_ENABLE', 'KVM_GUESTDBG_EXIT_USERSPACE'] },
  },
];

describe.each(FROZEN)('a link made by $made', ({ link, opens }) => {
  it('still opens at the same variant, selection and position', async () => {
    const address = readAddress(link);
    expect(address.error).toBeNull();
    const sent: unknown[] = [];
    const lab = createLab(
      { send: (r) => sent.push(r), restart: () => {}, nextFrame: () => {}, later: () => () => {} },
      { draft: draftFromDocument({ format: 'exitscope/1', guest: { asm: 'hlt' } }) },
    );
    lab.openLink(address.state!);
    lab.reply({ type: 'hello', protocol: PROTOCOL_VERSION, isolated: false });
    expect(lab.linkState().view).toMatchObject({ variant: opens.variant, vcpu: opens.vcpu, exit: opens.exit });

    // The worker takes the load the page sends, every move included.
    const replies: Reply[] = [];
    const host = new Host({ post: (r) => replies.push(r), crash: (e) => { throw e; }, newCore: loadCore, yieldNow: async () => {} });
    host.receive({ ...(sent[0] as object), seq: 1 } as Parameters<Host['receive']>[0]);
    await host.idle();
    expect(replies.filter((r) => r.type === 'refused' || r.type === 'rejected')).toEqual([]);
    const view = [...replies].reverse().find((r) => r.type === 'view') as Extract<Reply, { type: 'view' }>;
    expect(view.moves).toHaveLength(opens.moves);
    expect(view.view.next).toBe(opens.next);
    expect(view.view.vcpus[0].guestDebugNames).toEqual(opens.vcpu0Debug);
  });
});
