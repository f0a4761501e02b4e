/**
 * CPU reference of value-norm.wgsl, in f64: the formula of valueNorm in src/model/reference.ts
 * (the mean over the KV group's query heads h of ||W_O^h v||), written at each new entry's slot.
 */
export interface ValueNormRefArgs {
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  rows: number;
  v: ArrayLike<number>; // (rows, kvHeads, headDim)
  o: ArrayLike<number>; // (hidden, heads * headDim)
  slotMap: ArrayLike<number>; // (rows, kvHeads)
  stamp: ArrayLike<number>; // (numSlots) before
}

/** (numSlots) stamp after the kernel. */
export function valueNormRef(a: ValueNormRefArgs): Float64Array {
  const out = Float64Array.from(a.stamp);
  const group = a.heads / a.kvHeads;
  const qDim = a.heads * a.headDim;
  for (let t = 0; t < a.rows; t++) {
    for (let g = 0; g < a.kvHeads; g++) {
      const slot = a.slotMap[t * a.kvHeads + g];
      if (slot >= out.length) continue;
      const vBase = (t * a.kvHeads + g) * a.headDim;
      let total = 0;
      for (let q = 0; q < group; q++) {
        const col = (g * group + q) * a.headDim;
        let sq = 0;
        for (let r = 0; r < a.hidden; r++) {
          let dot = 0;
          for (let d = 0; d < a.headDim; d++) dot += a.o[r * qDim + col + d] * a.v[vBase + d];
          sq += dot * dot;
        }
        total += Math.sqrt(sq);
      }
      out[slot] = total / group;
    }
  }
  return out;
}
