import { createRng } from '../../src/engine/rng.ts';

/**
 * Tolerance check in the style of llm.c's validate_result: |actual - expected| <= atol + rtol*|expected|.
 * On failure the message gives the max difference and the first mismatches.
 */
export interface Tolerance {
  atol: number;
  rtol?: number;
}

export function expectClose(
  label: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol, rtol = 0 }: Tolerance,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length} != expected ${expected.length}`);
  }
  let maxDiff = 0;
  const mismatches: string[] = [];
  let mismatchCount = 0;
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    const bad = !(diff <= atol + rtol * Math.abs(expected[i])); // NaN counts as bad
    if (bad) {
      mismatchCount++;
      if (mismatches.length < 5) mismatches.push(`[${i}] got ${actual[i]} want ${expected[i]}`);
    }
    if (diff > maxDiff || Number.isNaN(diff)) maxDiff = Number.isNaN(diff) ? Infinity : diff;
  }
  if (mismatchCount > 0) {
    throw new Error(
      `${label}: ${mismatchCount}/${actual.length} outside atol ${atol} rtol ${rtol}; max diff ${maxDiff}; ` +
        `first mismatches: ${mismatches.join(', ')}`,
    );
  }
}

/** Deterministic test data, so failures reproduce: the engine's own seeded generator. */
export const seededRandom = createRng;

/** Values in [-scale, scale) with a few larger outliers, so reductions are not trivially uniform. */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const rand = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * scale * (rand() < 0.05 ? 4 : 1);
  return out;
}
