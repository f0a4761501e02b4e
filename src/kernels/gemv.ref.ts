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
  const put = (t: number, j: number, sum: number) => {
    const o = t * n + j;
    const b = bias ? bias[j] : 0;
    out[o] = accumulate ? out[o] + sum + b : sum + b;
  };
  // Four weight rows at a time: each x value is loaded once for four products (the reference
  // runs every step of the evaluation), and the four rows stay in cache while every x row passes.
  let j = 0;
  for (; j + 3 < n; j += 4) {
    const w0 = j * k;
    const w1 = w0 + k;
    const w2 = w1 + k;
    const w3 = w2 + k;
    for (let t = 0; t < rows; t++) {
      const xBase = t * k;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < k; i++) {
        const xi = x[xBase + i];
        s0 += xi * w[w0 + i];
        s1 += xi * w[w1 + i];
        s2 += xi * w[w2 + i];
        s3 += xi * w[w3 + i];
      }
      put(t, j, s0);
      put(t, j + 1, s1);
      put(t, j + 2, s2);
      put(t, j + 3, s3);
    }
  }
  for (; j < n; j++) {
    for (let t = 0; t < rows; t++) {
      let sum = 0;
      for (let i = 0; i < k; i++) sum += x[t * k + i] * w[j * k + i];
      put(t, j, sum);
    }
  }
  return out;
}
