/** Medians and formatting for benchmark output. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const fmt = (v: number, digits = 2) => v.toFixed(digits).padStart(9);
