// Colours of the timeline: exit reasons from a fixed table (the same reason always has the same
// colour, in every run and theme), activities from the theme's CSS variables.
import * as abi from '../../../../wasm/src/abi';
import { color } from 'd3';
import { ACTIVITIES } from '../../../model/trace/timeline';

const BY_REASON: Record<number, string> = {
  [abi.EXIT_REASON_HLT]: '#d62728',
  [abi.EXIT_REASON_EXTERNAL_INTERRUPT]: '#1f77b4',
  [abi.EXIT_REASON_IO_INSTRUCTION]: '#9467bd',
  [abi.EXIT_REASON_PAUSE_INSTRUCTION]: '#ff7f0e',
  [abi.EXIT_REASON_MWAIT_INSTRUCTION]: '#e377c2',
  [abi.EXIT_REASON_MONITOR_INSTRUCTION]: '#bcbd22',
  [abi.EXIT_REASON_CPUID]: '#17becf',
  [abi.EXIT_REASON_MSR_READ]: '#8c564b',
  [abi.EXIT_REASON_MSR_WRITE]: '#a0785a',
  [abi.EXIT_REASON_PREEMPTION_TIMER]: '#2ca02c',
  [abi.EXIT_REASON_EXCEPTION_NMI]: '#7f7f7f',
  [abi.EXIT_REASON_INTERRUPT_WINDOW]: '#aec7e8',
  [abi.EXIT_REASON_EPT_VIOLATION]: '#c5b0d5',
  [abi.EXIT_REASON_EPT_MISCONFIG]: '#c49c94',
  [abi.EXIT_REASON_TRIPLE_FAULT]: '#000000',
  [abi.EXIT_REASON_VMCALL]: '#98df8a',
};
// The rest, by reason number: distinct from the table above and from each other for nearby numbers.
const OTHERS = ['#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#5254a3', '#8ca252', '#bd9e39', '#ad494a', '#a55194'];

export function reasonColour(reason: number): string {
  return BY_REASON[reason] ?? OTHERS[reason % OTHERS.length];
}

/** A CSS colour as the 32-bit RGBA word of a little-endian ImageData pixel. */
export function pixel(css: string): number {
  const c = color(css)?.rgb();
  if (!c) return 0;
  const a = Math.round((Number.isNaN(c.opacity) ? 1 : c.opacity) * 255);
  return ((a << 24) | (Math.round(c.b) << 16) | (Math.round(c.g) << 8) | Math.round(c.r)) >>> 0;
}

/** The activity colours the theme sets (--xs-act-<activity>) on `el`, in ACTIVITIES order. */
export function activityColours(el: Element): string[] {
  const style = getComputedStyle(el);
  return ACTIVITIES.map((a) => style.getPropertyValue(`--xs-act-${a}`).trim() || '#888');
}
