// The core's speed beside this machine's: guest MIPS for the ALU, memory and CALL/RET loops of
// src/model/cpu/bench.ts (as the core runs them, hot loops compiled, and with the interpreter alone),
// the ALU loop natively (scripts/bench/native-alu.c, built with gcc -O2), and the cost of an exit's
// round trip through TypeScript.
//
//   npx tsx scripts/bench/core.ts [--json] [--runs N]
//
// The native and the core's ALU runs alternate, so both see the same load on a shared machine. Times
// are CPU time of the process (what it got, not what it waited), min/median/max over the runs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCore } from '../../src/model/cpu/node';
import {
  measureGuestMips, measureExitRoundTrip, runGuest, prepare, spread, GUESTS, type Clock, type Spread,
} from '../../src/model/cpu/bench';

const args = process.argv.slice(2);
const json = args.includes('--json');
const runsArg = args.indexOf('--runs');
const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : 9;
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs needs a positive whole number, not ${args[runsArg + 1]}`);

const NATIVE_ITERATIONS = 500_000_000; // 2e9 instructions: about half a second natively
const CORE_INSTRUCTIONS = 100_000_000;

const cpuClock: Clock = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Builds native-alu.c into the temp directory (again only when the source is newer). */
function nativeBinary(): string {
  const src = fileURLToPath(new URL('./native-alu.c', import.meta.url));
  const dir = join(tmpdir(), 'exitscope-bench');
  const bin = join(dir, 'native-alu');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
    execFileSync('gcc', ['-O2', '-o', bin, src], { stdio: 'inherit' });
  }
  return bin;
}

function nativeMips(bin: string): number {
  const [instructions, , cpu] = execFileSync(bin, [String(NATIVE_ITERATIONS)], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  return instructions / cpu / 1e6;
}

function cpuModel(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const bin = nativeBinary();
const core = await loadCore();

// The ALU loop, alternating with the native run.
prepare(core);
const aluN = CORE_INSTRUCTIONS / GUESTS.alu.perIteration;
runGuest(core, 'alu', 2_000_000, cpuClock); // warm-up: V8 tiers the core up for the calls after it
runGuest(core, 'alu', 2_000_000, cpuClock);
nativeMips(bin);
const native: number[] = [], alu: number[] = [];
for (let i = 0; i < runs; i++) {
  native.push(nativeMips(bin));
  const r = runGuest(core, 'alu', aluN, cpuClock);
  alu.push(r.instructions / r.ms / 1000);
}
const others = measureGuestMips(core, { runs, instructions: CORE_INSTRUCTIONS, guests: ['memory', 'call'], clock: cpuClock });
const interpreted = measureGuestMips(core, { runs, instructions: CORE_INSTRUCTIONS / 4, clock: cpuClock, jit: false });
const exit = measureExitRoundTrip(core, { runs, exits: 1_000_000, clock: cpuClock });

const nativeS = spread(native), aluS = spread(alu);
const report = {
  machine: { cpu: cpuModel(), node: process.version },
  runs,
  native: { description: 'add eax,ebx; xor ebx,eax; dec; jnz, gcc -O2 inline asm', mips: nativeS },
  guests: [
    { guest: 'alu', description: GUESTS.alu.description, instructions: CORE_INSTRUCTIONS, mips: aluS },
    ...others,
  ],
  interpreterOnly: interpreted,
  aluFractionOfNative: { median: aluS.median / nativeS.median, best: aluS.max / nativeS.max },
  interpreterAluFractionOfNative: interpreted[0].mips.median / nativeS.median,
  exitRoundTrip: exit,
};

if (json) console.log(JSON.stringify(report, null, 2));
else {
  const f = (s: Spread, d = 0) => `${s.min.toFixed(d)} / ${s.median.toFixed(d)} / ${s.max.toFixed(d)}`;
  console.log(`${report.machine.cpu}, Node ${report.machine.node}, ${runs} runs, CPU time (min / median / max)`);
  console.log(`native ALU loop       ${f(nativeS)} MIPS`);
  for (const g of report.guests) console.log(`core ${g.guest.padEnd(16)} ${f(g.mips)} MIPS   ${g.description}`);
  for (const g of interpreted) console.log(`interpreter ${g.guest.padEnd(9)} ${f(g.mips)} MIPS   (loop compiler off)`);
  console.log(`ALU loop vs native    1/${(1 / report.aluFractionOfNative.median).toFixed(1)} (medians), 1/${(1 / report.aluFractionOfNative.best).toFixed(1)} (best runs); target 1/8`);
  console.log(`  interpreter alone   1/${(1 / report.interpreterAluFractionOfNative).toFixed(1)} (medians)`);
  console.log(`exit round trip       ${f(exit.nsPerExit, 1)} ns (OUT → TypeScript → run)`);
}
