/** CPU reference of gemv.wgsl: out[t, j] (+)= sum_i x[t, i] * w[j, i] + bias[j], in f64. */
export function gemvRef(
  x: ArrayLike<number>, // (rows, k)
  w: ArrayLike<number>, // (n, k), Hugging Face Linear layout
  bias: ArrayLike<number> | undefined, // (n)
  rows: number,
  n: number,
  k: number,
  out: Float64Array = new Float64Array(rows * n), // (rows, n)
  accumulate = false,
): Float64Array {
  // Weight row outermost: it stays in cache while every row of x passes over it.
  for (let j = 0; j < n; j++) {
    const wBase = j * k;
    const b = bias ? bias[j] : 0;
    for (let t = 0; t < rows; t++) {
      const xBase = t * k;
      // Four partial sums: independent chains the JIT can overlap (the reference runs every step).
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i + 3 < k; i += 4) {
        s0 += x[xBase + i] * w[wBase + i];
        s1 += x[xBase + i + 1] * w[wBase + i + 1];
        s2 += x[xBase + i + 2] * w[wBase + i + 2];
        s3 += x[xBase + i + 3] * w[wBase + i + 3];
      }
      for (; i < k; i++) s0 += x[xBase + i] * w[wBase + i];
      const sum = s0 + s1 + s2 + s3;
      const o = t * n + j;
      out[o] = accumulate ? out[o] + sum + b : sum + b;
    }
  }
  return out;
}
