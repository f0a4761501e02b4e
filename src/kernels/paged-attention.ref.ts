/**
 * CPU reference of paged-attention.wgsl, in f64 so the reference is better than the kernel.
 * The CPU reference engine calls it every step, so it avoids allocation inside its loops: pass
 * `out` and `probs` to reuse buffers.
 */
export interface PagedAttentionRefArgs {
  heads: number;
  kvHeads: number;
  headDim: number;
  pageSize: number;
  maxPages: number;
  scale: number;
  rows: number;
  posStart: number; // absolute position of row 0
  q: ArrayLike<number>; // (rows, heads, headDim)
  kPool: ArrayLike<number>; // (numSlots, headDim)
  vPool: ArrayLike<number>; // (numSlots, headDim)
  slotPos: ArrayLike<number>; // (numSlots) absolute position, -1 if empty
  blockTable: ArrayLike<number>; // (kvHeads, maxPages): this layer's slice
  headSlots: ArrayLike<number>; // (kvHeads): this layer's slice
  out?: Float64Array; // (rows, heads, headDim)
  probs?: Float64Array; // (rows, heads, maxPages * pageSize); entries s >= headSlots[g] untouched
}

export function pagedAttentionRef(a: PagedAttentionRefArgs): { out: Float64Array; probs: Float64Array } {
  const { heads, kvHeads, headDim: D, pageSize, maxPages, scale, rows, posStart, q, kPool, vPool, slotPos, blockTable } = a;
  const maxSlots = maxPages * pageSize;
  const out = a.out ?? new Float64Array(rows * heads * D);
  const probs = a.probs ?? new Float64Array(rows * heads * maxSlots);
  const group = heads / kvHeads;
  for (let t = 0; t < rows; t++) {
    const p = posStart + t;
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / group);
      const n = Math.min(a.headSlots[g], maxSlots);
      const qBase = (t * heads + h) * D;
      const row = (t * heads + h) * maxSlots;
      const table = g * maxPages;
      let max = -Infinity;
      for (let s = 0; s < n; s++) {
        const phys = blockTable[table + Math.floor(s / pageSize)] * pageSize + (s % pageSize);
        const pos = slotPos[phys];
        if (pos < 0 || pos > p) {
          probs[row + s] = -Infinity; // exp gives exactly 0 below
          continue;
        }
        const kBase = phys * D;
        let dot = 0;
        for (let i = 0; i < D; i++) dot += q[qBase + i] * kPool[kBase + i];
        const score = scale * dot;
        probs[row + s] = score;
        if (score > max) max = score;
      }
      for (let i = 0; i < D; i++) out[qBase + i] = 0;
      if (max === -Infinity) {
        for (let s = 0; s < n; s++) probs[row + s] = 0; // no valid slot: zeros, not NaN
        continue;
      }
      let sum = 0;
      for (let s = 0; s < n; s++) {
        const e = Math.exp(probs[row + s] - max);
        probs[row + s] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let s = 0; s < n; s++) {
        const pr = probs[row + s] * inv;
        probs[row + s] = pr;
        if (pr === 0) continue;
        const phys = blockTable[table + Math.floor(s / pageSize)] * pageSize + (s % pageSize);
        const vBase = phys * D;
        for (let i = 0; i < D; i++) out[qBase + i] += pr * vPool[vBase + i];
      }
    }
  }
  return { out, probs };
}
