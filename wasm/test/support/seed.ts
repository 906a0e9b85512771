// fast-check parameters for every property here: a fixed seed by default, so CI runs the same cases
// each time; FC_SEED (a number, or `random`) and FC_RUNS override it for long local soaks. fast-check
// prints the seed and the shrunk counterexample path when a property fails.
import type { Parameters } from 'fast-check';

const DEFAULT_SEED = 0x5eed;

function envSeed(): number {
  const s = process.env.FC_SEED;
  if (s === undefined || s === '') return DEFAULT_SEED;
  if (s === 'random') {
    const seed = (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
    console.log(`FC_SEED=${seed}`);
    return seed;
  }
  const n = Number(s);
  if (!Number.isInteger(n)) throw new Error(`FC_SEED must be an integer or "random", got ${JSON.stringify(s)}`);
  return n | 0;
}

function envRuns(): number | undefined {
  const s = process.env.FC_RUNS;
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`FC_RUNS must be a positive integer, got ${JSON.stringify(s)}`);
  return n;
}

export const seed = envSeed();
export const runsOverride = envRuns();

/** Parameters for fc.assert: `runs` unless FC_RUNS says otherwise. */
export function fcParams<T>(runs: number): Parameters<T> {
  return { seed, numRuns: runsOverride ?? runs };
}
