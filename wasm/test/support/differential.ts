// One batch of programs on both sides: the native harness works on it in its own process while the
// core runs the same cases here; then every pair is compared. Counts what it ran, for the report.
import { differences, flagMaskFor, report } from './compare';
import type { CoreRunner } from './core-runner';
import type { NativeHarness } from './native';
import { resolve, toCase, type Program } from './program';
import { assemble } from './assemble';

export class Differential {
  compared = 0;
  /** Programs an SDM-undefined flag or result reaches, on a vendor where those are masked. */
  unverifiable = 0;
  private first = 0;
  private last = 0;

  /** `emulate`: the core runs each case with emulate(), one instruction at a time, instead of run(). */
  constructor(readonly native: NativeHarness, readonly core: CoreRunner, readonly path: 'run' | 'emulate' = 'run') {}

  /** Throws an Error whose message is the reproduction of the first mismatch. */
  async check(programs: readonly Program[]): Promise<void> {
    this.first ||= performance.now();
    const items = programs.map(resolve);
    const cases = programs.map((p, k) => toCase(p, assemble(items[k])));
    const nativeOuts = this.native.run(cases);
    const coreOuts = cases.map((c) => (this.path === 'run' ? this.core.run(c) : this.core.emulate(c)));
    const outs = await nativeOuts;
    this.last = performance.now();
    for (let k = 0; k < programs.length; k++) {
      const mask = flagMaskFor(this.native.cpu.vendor, items[k]);
      if (mask === null) {
        this.unverifiable++;
        continue;
      }
      this.compared++;
      const diffs = differences(cases[k], outs[k], coreOuts[k], mask);
      if (diffs.length) throw new Error(`core and CPU differ:\n${report(programs[k], cases[k], outs[k], coreOuts[k], diffs)}`);
    }
  }

  /** Counts, and the rate from the first batch to the last, generation and shrinking included. */
  summary(): string {
    const seconds = (this.last - this.first) / 1000;
    const rate = seconds > 0 ? Math.round((this.compared + this.unverifiable) / seconds) : 0;
    const masked = this.unverifiable ? `, ${this.unverifiable} unverifiable (an SDM-undefined flag or result reaches them)` : '';
    return `${this.compared} programs compared through ${this.path}()${masked} on ${this.native.cpu.vendor}, ${rate} programs/s end to end`;
  }
}
