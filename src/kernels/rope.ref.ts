/**
 * CPU reference of the rotation in rope-append.wgsl, and the cos/sin tables both read. The tables are built the way
 * Hugging Face builds them (transformers' default rope init and LlamaRotaryEmbedding): every
 * operation rounded to float32, so the GPU engine and the reference see the same angles as
 * PyTorch does.
 */

/** inv_freq[i] = 1 / theta^(2i / headDim), as `1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))` in float32. */
export function defaultInvFreq(headDim: number, theta: number): Float32Array {
  const f = Math.fround;
  const half = headDim / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const e = f(f(2 * i) / headDim);
    out[i] = f(1 / f(theta ** e));
  }
  return out;
}

/** cos/sin of angle = fround(pos * invFreq[i]), each rounded to float32: (maxPositions, headDim / 2). */
export function ropeTables(
  headDim: number,
  maxPositions: number,
  invFreq: Float32Array, // (headDim / 2)
): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(maxPositions * half);
  const sin = new Float32Array(maxPositions * half);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(p * invFreq[i]);
      cos[p * half + i] = Math.cos(angle); // the Float32Array store rounds to float32
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * Rotates x in place (rotate-half, in f64 from the given tables) for tokens at positions
 * posStart.. and returns it.
 */
export function ropeRef(
  x: Float64Array, // (rows, heads, headDim)
  rows: number,
  heads: number,
  headDim: number,
  posStart: number,
  cos: ArrayLike<number>, // (maxPositions, headDim / 2)
  sin: ArrayLike<number>, // (maxPositions, headDim / 2)
): Float64Array {
  const half = headDim / 2;
  for (let t = 0; t < rows; t++) {
    const table = (posStart + t) * half;
    for (let h = 0; h < heads; h++) {
      const base = (t * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const c = cos[table + i];
        const s = sin[table + i];
        const a = x[base + i];
        const b = x[base + half + i];
        x[base + i] = a * c - b * s;
        x[base + half + i] = b * c + a * s;
      }
    }
  }
  return x;
}
