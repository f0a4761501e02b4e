/**
 * The seeded random eviction score both engines compute alike (select-victim.wgsl random_score):
 * an integer hash (lowbias32) of (seed, step, physical slot), its top 24 bits as a float in
 * [0, 1), exact in f32 and in f64. The slot names the entry (unique across layers and heads), the
 * step re-draws every decision, and the seed picks the run.
 */

function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

export function randomScore(seed: number, step: number, slot: number): number {
  return (mix32((mix32((seed ^ mix32(step)) >>> 0) ^ slot) >>> 0) >>> 8) / 16777216;
}
