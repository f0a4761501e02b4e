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
  // Four weight rows by two x rows at a time: each loaded value feeds four or two products (the
  // reference runs every step of the evaluation, probe rows included), and every sum still adds
  // its products in the order of i, so the results are the same bits as one product at a time.
  let j = 0;
  for (; j + 3 < n; j += 4) {
    const w0 = j * k;
    const w1 = w0 + k;
    const w2 = w1 + k;
    const w3 = w2 + k;
    let t = 0;
    for (; t + 1 < rows; t += 2) {
      const a = t * k;
      const b = a + k;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let u0 = 0;
      let u1 = 0;
      let u2 = 0;
      let u3 = 0;
      for (let i = 0; i < k; i++) {
        const xa = x[a + i];
        const xb = x[b + i];
        const v0 = w[w0 + i];
        const v1 = w[w1 + i];
        const v2 = w[w2 + i];
        const v3 = w[w3 + i];
        s0 += xa * v0;
        s1 += xa * v1;
        s2 += xa * v2;
        s3 += xa * v3;
        u0 += xb * v0;
        u1 += xb * v1;
        u2 += xb * v2;
        u3 += xb * v3;
      }
      put(t, j, s0);
      put(t, j + 1, s1);
      put(t, j + 2, s2);
      put(t, j + 3, s3);
      put(t + 1, j, u0);
      put(t + 1, j + 1, u1);
      put(t + 1, j + 2, u2);
      put(t + 1, j + 3, u3);
    }
    for (; t < rows; t++) {
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

/** Inputs per q4 scale in MLC's q4f16_1 / q4f32_1, which gemv.wgsl and embed.wgsl are written for. */
export const Q4_GROUP = 32;

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

/**
 * gemv.wgsl's q4 formats straight from the codes, for matrices too large to dequantize whole
 * (a 152k-row lm_head): out[t, j] (+)= sum_g scale[j, g] * sum_{c in g} (code[j, c] - 7) * x[t, c].
 * (code - 7) * scale is exact in f32 for an f16 scale, so this is the kernel's arithmetic in f64.
 */
export function gemvQ4Ref(
  x: Float64Array, // (rows, k)
  codes: Uint32Array, // (n, wordsPerRow)
  scales: Float32Array, // (n, groupsPerRow) decoded
  bias: ArrayLike<number> | undefined, // (n)
  rows: number,
  n: number,
  k: number,
  out: Float64Array = new Float64Array(rows * n), // (rows, n)
  accumulate = false,
): Float64Array {
  const groups = Math.ceil(k / Q4_GROUP);
  const words = (groups * Q4_GROUP) / 8;
  const whole = Math.floor(k / 8); // words whose 8 codes all lie inside k
  // sum_c (code - 7) x_c = sum_c code x_c - 7 sum_c x_c: the second term once per (row, group).
  const groupSums = new Float64Array(rows * groups);
  for (let t = 0; t < rows; t++) {
    for (let c = 0; c < k; c++) groupSums[t * groups + Math.floor(c / Q4_GROUP)] += 7 * x[t * k + c];
  }
  for (let j = 0; j < n; j++) {
    const base = j * words;
    for (let t = 0; t < rows; t++) {
      const xb = t * k;
      let sum = 0;
      for (let g = 0; g < groups; g++) {
        let part = 0;
        const wEnd = Math.min(g * 4 + 4, whole);
        for (let wi = g * 4; wi < wEnd; wi++) {
          const word = codes[base + wi];
          const xi = xb + wi * 8;
          part +=
            (word & 15) * x[xi] + ((word >>> 4) & 15) * x[xi + 1] + ((word >>> 8) & 15) * x[xi + 2] + ((word >>> 12) & 15) * x[xi + 3] +
            ((word >>> 16) & 15) * x[xi + 4] + ((word >>> 20) & 15) * x[xi + 5] + ((word >>> 24) & 15) * x[xi + 6] + (word >>> 28) * x[xi + 7];
        }
        if (wEnd < g * 4 + 4) {
          for (let c = wEnd * 8; c < Math.min(k, (g + 1) * Q4_GROUP); c++) part += ((codes[base + (c >>> 3)] >>> ((c & 7) * 4)) & 15) * x[xb + c];
        }
        sum += (part - groupSums[t * groups + g]) * scales[j * groups + g];
      }
      const o = t * n + j;
      const v = sum + (bias ? bias[j] : 0);
      out[o] = accumulate ? out[o] + v : v;
    }
  }
  return out;
}
