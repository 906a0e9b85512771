// The two printf conversions the kernel-tool formats need, with C's rounding: %.Nf rounds an exact
// tie to even (glibc), where JS's toFixed rounds it up; "1.125" is "1.12" in perf's output.

/** printf("%*.*f", width, digits, x) for x ≥ 0. */
export function cFixed(x: number, digits: number, width = 0): string {
  let s = x.toFixed(digits);
  const exact = x.toFixed(Math.min(100, digits + 30)); // the double's decimal digits well past a tie
  const rest = exact.slice(exact.indexOf('.') + 1 + digits);
  if (/^50*$/.test(rest)) {
    const down = exact.slice(0, exact.length - rest.length).replace(/\.$/, '');
    if (Number(down.at(-1)) % 2 === 0) s = down;
  }
  return s.padStart(width);
}

/** printf("%0*x", width, n) for n ≥ 0. */
export function hexPad(n: number | bigint, width: number): string {
  return n.toString(16).padStart(width, '0');
}
