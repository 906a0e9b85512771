import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../../model/trace/events';
import { Timeline } from '../../../model/trace/timeline';
import { adjacentExit, exitDetails, timeInKvm } from './details';
import { countInView, exitsInView, TimelineView, viewSummary } from './TimelineView';

/** vCPU 0 halts (HLT exit, blocked, woken) and vCPU 1 does port IO to userspace. */
function twoVcpus(): Timeline {
  const ev: TraceEvent[] = [
    { kind: 'activity', t: 0, vcpu: 0, activity: 'guest' },
    { kind: 'activity', t: 0, vcpu: 1, activity: 'guest' },
    { kind: 'kvm_exit', t: 1000, vcpu: 0, exit: 0, reason: 12, rip: 0x1001n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 },
    { kind: 'activity', t: 1000, vcpu: 0, activity: 'kvm' },
    { kind: 'activity', t: 1500, vcpu: 0, activity: 'blocked' },
    { kind: 'kvm_exit', t: 2000, vcpu: 1, exit: 0, reason: 30, rip: 0x2000n, info1: 0x3f80008n, info2: 0n, intrInfo: 0, errorCode: 0 },
    { kind: 'activity', t: 2000, vcpu: 1, activity: 'kvm' },
    { kind: 'kvm_userspace_exit', t: 2600, vcpu: 1, reason: 2, errno: 0 },
    { kind: 'activity', t: 2600, vcpu: 1, activity: 'userspace' },
    { kind: 'activity', t: 9000, vcpu: 0, activity: 'kvm' },
    { kind: 'kvm_entry', t: 9500, vcpu: 0, rip: 0x1001n },
    { kind: 'activity', t: 9500, vcpu: 0, activity: 'guest' },
    { kind: 'activity', t: 10000, vcpu: 0, activity: 'guest' },
  ];
  const tl = new Timeline();
  tl.append(ev);
  return tl;
}

describe('exit details', () => {
  it('reads reason, rip, qualification and the time KVM held the exit', () => {
    const tl = twoVcpus();
    const hlt = exitDetails(tl.lane(0)!, 0);
    expect(hlt.title).toBe('vCPU 0 exit #0: HLT at 1.00 µs');
    expect(Object.fromEntries(hlt.rows)).toEqual({
      reason: 'HLT (12)', rip: '0x1001', qualification: '0x0', at: '1.00 µs', 'time in KVM': '8.50 µs', 'until next entry': '8.50 µs',
    });
    const io = Object.fromEntries(exitDetails(tl.lane(1)!, 0).rows);
    expect(io).toMatchObject({ reason: 'IO_INSTRUCTION (30)', qualification: '0x3f80008', 'time in KVM': '600 ns', 'KVM_RUN returned': '0, KVM_EXIT_IO' });
    expect(io['until next entry']).toBeUndefined();
  });

  it('says when KVM has not let go of an exit yet', () => {
    const tl = new Timeline();
    tl.append([{ kind: 'kvm_exit', t: 5, vcpu: 2, exit: 3, reason: 40, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 }]);
    expect(timeInKvm(tl.lane(2)!, 0)).toBeNaN();
    expect(Object.fromEntries(exitDetails(tl.lane(2)!, 0).rows)['time in KVM']).toBe('still in KVM');
  });
});

describe('text alternative', () => {
  it('lists the exits in view in time order, and how each vCPU spent the window', () => {
    const tl = twoVcpus();
    const v = exitsInView(tl, 0, 10000);
    expect(v.count).toBe(2);
    expect(v.first.map((d) => d.title)).toEqual(['vCPU 0 exit #0: HLT at 1.00 µs', 'vCPU 1 exit #0: IO_INSTRUCTION at 2.00 µs']);
    expect(exitsInView(tl, 0, 10000, 1).first).toHaveLength(1);
    expect(viewSummary(tl, 0, 10000, v.count)).toBe(
      'Showing 0 ns to 10.0 µs, 2 exits. vCPU 0: 1 exit; blocked in kvm_vcpu_block 75%, running guest code 15%, handling an exit in KVM 10%. ' +
        'vCPU 1: 1 exit; back in userspace 74%, running guest code 20%, handling an exit in KVM 6%.',
    );
    expect(viewSummary(new Timeline(), 0, 1, 0)).toContain('The timeline is empty');
  });

  it('runs the open spans on to now, and counts shares of the whole window', () => {
    const tl = twoVcpus();
    expect(viewSummary(tl, 0, 20000, 2, 20000)).toBe(
      'Showing 0 ns to 20.0 µs, 2 exits. vCPU 0: 1 exit; running guest code 57%, blocked in kvm_vcpu_block 38%, handling an exit in KVM 5%. ' +
        'vCPU 1: 1 exit; back in userspace 87%, running guest code 10%, handling an exit in KVM 3%.',
    );
    const m = renderToStaticMarkup(createElement(TimelineView, { timeline: tl, version: tl.version, now: 20000 }));
    expect(m).toContain('2 exits, 0 ns to 20.0 µs');
  });

  it('renders the region "Timeline" with its controls, legend and summary', () => {
    const tl = twoVcpus();
    const m = renderToStaticMarkup(createElement(TimelineView, { timeline: tl, version: tl.version }));
    expect(m).toMatch(/<section[^>]*aria-labelledby="([^"]+)"[\s\S]*<h2 id="\1">Timeline<\/h2>/);
    for (const b of ['Zoom in', 'Zoom out', 'Pan left', 'Pan right', 'Reset zoom']) expect(m).toContain(`>${b}</button>`);
    expect(m).toContain('2 exits, 0 ns to 10.0 µs');
    expect(m).toMatch(/aria-label="Exit reasons"[\s\S]*HLT[\s\S]*IO_INSTRUCTION/);
    expect(m).toContain('Exits in view (2)');
    expect(m).not.toContain('exit #0'); // the list's rows are made when it is opened
  });

  it('counts the window\'s last instant as in view (the exit a run stopped at)', () => {
    const tl = twoVcpus();
    expect([countInView(tl, 0, 2000), countInView(tl, 0, 1999), countInView(tl, 1000, 1000)]).toEqual([2, 1, 1]);
    expect(exitsInView(tl, 1500, 2000).first.map((d) => d.title)).toEqual(['vCPU 1 exit #0: IO_INSTRUCTION at 2.00 µs']);
    expect(viewSummary(tl, 0, 2000, 2)).toMatch(/vCPU 0: 1 exit;.* vCPU 1: 1 exit;/);
  });
});

describe('adjacentExit', () => {
  const ev = (t: number, vcpu: number, exit: number): TraceEvent =>
    ({ kind: 'kvm_exit', t, vcpu, exit, reason: 12, rip: 0n, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 });

  it('steps through exits in time order across vCPUs, ties by vCPU', () => {
    const tl = new Timeline();
    tl.append([ev(10, 0, 0), ev(20, 0, 1), ev(20, 0, 2), ev(5, 1, 0), ev(20, 1, 1), ev(30, 1, 2)]);
    const walk = (dir: 1 | -1) => {
      const out: string[] = [];
      for (let r = adjacentExit(tl, null, dir, dir > 0 ? tl.t0 : tl.t1 + 1); r; r = adjacentExit(tl, r, dir)) out.push(`${r.vcpu}#${r.exit}`);
      return out;
    };
    expect(walk(1)).toEqual(['1#0', '0#0', '0#1', '0#2', '1#1', '1#2']);
    expect(walk(-1)).toEqual(['1#2', '1#1', '0#2', '0#1', '0#0', '1#0']);
    expect(adjacentExit(tl, { vcpu: 3, exit: 0 }, 1)).toBeNull();
  });

  it('visits every exit once, in (time, vCPU, number) order, both ways', () => {
    const lanesArb = fc.array(fc.array(fc.nat(3), { maxLength: 8 }), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(lanesArb, (lanes) => {
        const tl = new Timeline();
        const all: [number, number, number][] = [];
        lanes.forEach((gaps, vcpu) => {
          let t = 0;
          tl.append(gaps.map((g, i) => {
            t += g;
            all.push([t, vcpu, i]);
            return ev(t, vcpu, i);
          }));
        });
        all.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
        const names = all.map(([, v, e]) => `${v}#${e}`);
        const walk = (dir: 1 | -1) => {
          const out: string[] = [];
          for (let r = adjacentExit(tl, null, dir, dir > 0 ? -1 : Infinity); r && out.length <= all.length; r = adjacentExit(tl, r, dir)) out.push(`${r.vcpu}#${r.exit}`);
          return out;
        };
        expect(walk(1)).toEqual(names);
        expect(walk(-1)).toEqual([...names].reverse());
      }),
    );
  });
});
