// One batch of programs on both sides: the native harness works on it in its own process while the
// core runs the same cases here; then every pair is compared. Counts what it ran, for the report.
import { differences, flagMaskFor, report } from './compare';
import type { CoreRunner } from './core-runner';
import type { NativeHarness } from './native';
import { resolve, toCase, type Program } from './program';
import { assemble } from './assemble';

export class Differential {
  compared = 0;
  /** Programs that read a flag the SDM leaves undefined, on a vendor whose undefined flags are masked. */
  unverifiable = 0;
  busyMs = 0;

  constructor(readonly native: NativeHarness, readonly core: CoreRunner) {}

  /** Throws an Error whose message is the reproduction of the first mismatch. */
  async check(programs: readonly Program[]): Promise<void> {
    const started = performance.now();
    const items = programs.map(resolve);
    const cases = programs.map((p, k) => toCase(p, assemble(items[k])));
    const nativeOuts = this.native.run(cases);
    const coreOuts = cases.map((c) => this.core.run(c));
    const outs = await nativeOuts;
    this.busyMs += performance.now() - started;
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

  summary(): string {
    const rate = this.busyMs ? Math.round((this.compared + this.unverifiable) / (this.busyMs / 1000)) : 0;
    return `${this.compared} programs compared (${this.unverifiable} unverifiable on ${this.native.cpu.vendor}), ${rate} programs/s`;
  }
}
