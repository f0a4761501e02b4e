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

/** Rows [first, first + count) of a weight as f32 (count, k), decoded from its storage. */
export type DecodeRows = (first: number, count: number) => ArrayLike<number>;

/**
 * gemvRef over a weight read through `decode`, a block of rows at a time, for the 16-bit and
 * 4-bit formats (gemv.wgsl's FORMAT): the same products over the same decoded values, in f64.
 */
export function gemvRowsRef(
  x: ArrayLike<number>, // (rows, k)
  decode: DecodeRows,
  bias: ArrayLike<number> | undefined, // (n)
  rows: number,
  n: number,
  k: number,
  out: Float64Array = new Float64Array(rows * n), // (rows, n)
  accumulate = false,
  block = 256, // weight rows decoded at once: bounded memory for a 152k-row lm_head
): Float64Array {
  const part = new Float64Array(rows * block);
  for (let first = 0; first < n; first += block) {
    const count = Math.min(block, n - first);
    const w = decode(first, count);
    const b = bias ? Array.prototype.slice.call(bias, first, first + count) : undefined;
    gemvRef(x, w, b, rows, count, k, part);
    for (let t = 0; t < rows; t++) {
      for (let j = 0; j < count; j++) {
        const o = t * n + first + j;
        out[o] = accumulate ? out[o] + part[t * count + j] : part[t * count + j];
      }
    }
  }
  return out;
}
