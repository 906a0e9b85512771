// The simulation worker's heap after a long flat-out run (Node): the Host driven as its tests drive
// it, on the lab bench's four busy vCPUs, with a clock that stands still (one slice grows to its
// cap, as on a fast machine). Run: node --expose-gc --import tsx scripts/bench/worker-heap.ts [ms of virtual time]
import { loadCore } from '../../src/model/cpu/node';
import { Host } from '../../src/model/worker/host';
import type { Draft, Reply } from '../../src/model/worker/protocol';
import { BUSY } from './scenarios';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const ms = Number(process.argv[2] ?? 1000);
const { program, guest, ...rest } = BUSY(ms * 1e6) as unknown as { program: unknown; guest: { asm: string } };
const draft: Draft = { doc: rest as Draft['doc'], code: guest.asm, codeKind: 'asm', program: JSON.stringify(program) };

let clock = 0, peak = 0;
const replies: Reply[] = [];
const host = new Host({
  post: (r) => {
    if (r.type !== 'batch') replies.push(r);
  },
  crash: (e) => { throw e; },
  newCore: loadCore,
  yieldNow: async () => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  },
  now: () => (clock += 1),
});
const MB = 2 ** 20;
const heap = () => { gc!(); return process.memoryUsage().heapUsed / MB; };
const before = heap();
const t0 = performance.now();
host.receive({ type: 'load', seq: 1, draft, moves: [] });
host.receive({ type: 'move', seq: 2, move: { kind: 'run' } });
await host.idle();
const wall = performance.now() - t0;
const view = [...replies].reverse().find((r) => r.type === 'view') as Extract<Reply, { type: 'view' }>;
const made = view.view.vcpus.reduce((n, v) => n + v.exits, 0);
const after = heap(); // the host stays referenced below: its session and event log are live
const buffers = process.memoryUsage().arrayBuffers / MB;
console.log(
  `${ms} ms virtual, ${made} exits, ${(wall / 1000).toFixed(1)} s wall; heap ${before.toFixed(0)} → ${after.toFixed(0)} MB after gc ` +
    `(peak seen between slices ${(peak / MB).toFixed(0)} MB), array buffers ${buffers.toFixed(0)} MB; ${host.constructor.name} alive`,
);
