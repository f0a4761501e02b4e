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
      let sum = 0;
      for (let i = 0; i < k; i++) sum += x[xBase + i] * w[wBase + i];
      const o = t * n + j;
      out[o] = accumulate ? out[o] + sum + b : sum + b;
    }
  }
  return out;
}
