// Tick labels for virtual time: the unit follows the size of the values, the decimals follow the
// tick step, so neighbouring ticks never read the same however far one zooms in.
const UNITS: [number, string][] = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']];

export function timeTickFormat(step: number, maxAbs: number): (ns: number) => string {
  const [size, unit] = UNITS.find(([s]) => maxAbs >= s) ?? UNITS[UNITS.length - 1];
  const decimals = step > 0 ? Math.min(9, Math.max(0, Math.ceil(-Math.log10(step / size) - 1e-9))) : 0;
  return (ns) => `${(ns / size).toFixed(decimals)} ${unit}`;
}
