// Prints `N passed, N failed` from Vitest's and Playwright's JSON reports (CI reads this last line).
// A missing or unreadable report counts as one failure, so a crashed runner cannot look green.
import { readFileSync } from 'node:fs';

const read = (f) => { try { return JSON.parse(readFileSync(f, 'utf8')); } catch { return null; } };
const [vitestFile, playwrightFile] = process.argv.slice(2);
const v = read(vitestFile), p = read(playwrightFile);
let passed = 0, failed = 0, skipped = 0;
if (v) { passed += v.numPassedTests; failed += v.numFailedTests; skipped += v.numPendingTests + v.numTodoTests; }
else { failed += 1; console.error(`no Vitest report at ${vitestFile}`); }
if (p) { passed += p.stats.expected + p.stats.flaky; failed += p.stats.unexpected; skipped += p.stats.skipped; }
else { failed += 1; console.error(`no Playwright report at ${playwrightFile}`); }
if (skipped) console.log(`(${skipped} skipped)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
