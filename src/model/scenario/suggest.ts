// "did you mean HLT?" for a misspelt name: the closest candidate by edit distance, where swapping
// two neighbouring letters counts as one edit ("HTL" → "HLT").

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  a = a.toUpperCase();
  b = b.toUpperCase();
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest candidate, if it is close enough to be a plausible typo (about a third of its letters). */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const letters = (s: string) => [...s.toUpperCase()].sort().join('');
  for (const c of candidates) {
    // On a tie, a candidate with the same letters wins: "rpi" is rip misordered, not rsi mistyped.
    const dist = editDistance(input, c) - (letters(c) === letters(input) ? 0.5 : 0);
    if (dist < bestDistance) { best = c; bestDistance = dist; }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** " (did you mean X?)", or "" when nothing is close. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const c = closest(input, candidates);
  return c === undefined ? '' : ` (did you mean ${c}?)`;
}
