// A large, seeded, well-formed event stream for benchmarking the timeline (not a model run: the
// model's own scenarios are far shorter). Each vCPU loops guest → exit → KVM → (poll, block) →
// entry, with reasons and durations drawn from a seeded PRNG, so every run is the same.
import type { TraceEvent } from '../../src/model/trace/events';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// [basic reason, weight]: roughly the mix of a busy guest (anchors.md §4).
const MIX: [number, number][] = [[1, 35], [12, 20], [30, 15], [32, 15], [10, 8], [40, 5], [52, 2]];

export function syntheticRun(exits: number, vcpus: number, seed = 1): TraceEvent[] {
  const rnd = mulberry32(seed);
  const total = MIX.reduce((s, [, w]) => s + w, 0);
  const pick = () => {
    let r = rnd() * total;
    for (const [reason, w] of MIX) if ((r -= w) < 0) return reason;
    return MIX[0][0];
  };
  const out: TraceEvent[] = [];
  for (let v = 0; v < vcpus; v++) {
    let t = 0;
    out.push({ kind: 'activity', t, vcpu: v, activity: 'guest' });
    const n = Math.floor(exits / vcpus) + (v < exits % vcpus ? 1 : 0);
    for (let i = 0; i < n; i++) {
      t += Math.round(2000 + rnd() * 18000);
      const reason = pick();
      const rip = 0x1000n + BigInt(Math.floor(rnd() * 256));
      out.push({ kind: 'kvm_exit', t, vcpu: v, exit: i, reason, rip, info1: 0n, info2: 0n, intrInfo: 0, errorCode: 0 });
      out.push({ kind: 'activity', t, vcpu: v, activity: 'kvm' });
      t += Math.round(300 + rnd() * 1500);
      if (reason === 12) {
        out.push({ kind: 'activity', t, vcpu: v, activity: 'polling' });
        t += Math.round(rnd() * 20000);
        out.push({ kind: 'activity', t, vcpu: v, activity: 'blocked' });
        t += Math.round(rnd() * 60000);
        out.push({ kind: 'activity', t, vcpu: v, activity: 'kvm' });
        t += 400;
      } else if (reason === 30) {
        out.push({ kind: 'kvm_userspace_exit', t, vcpu: v, reason: 2, errno: 0 });
        out.push({ kind: 'activity', t, vcpu: v, activity: 'userspace' });
        t += Math.round(1000 + rnd() * 4000);
        out.push({ kind: 'activity', t, vcpu: v, activity: 'kvm' });
        t += 300;
      }
      out.push({ kind: 'kvm_entry', t, vcpu: v, rip });
      out.push({ kind: 'activity', t, vcpu: v, activity: 'guest' });
    }
  }
  return out;
}
