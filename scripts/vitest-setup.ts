// Every fast-check property in the suite runs with one fixed seed unless FC_SEED says otherwise
// (a number, or `random` for exploration), so CI sees the same cases on every run.
import fc from 'fast-check';
import { seed, runsOverride } from '../wasm/test/support/seed';

fc.configureGlobal({ seed, ...(runsOverride ? { numRuns: runsOverride } : {}) });
