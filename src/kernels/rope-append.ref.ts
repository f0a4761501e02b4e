/**
 * CPU reference of rope-append.wgsl, in f64: the fused q/k/v rows split into heads, q and k
 * normalised per head (Qwen3) and rotated. The append itself is kvAppendRef (the CPU reference
 * model lets its policy admit the entries between the two).
 */
import { rmsnormRef } from './rmsnorm.ref.ts';
import { ropeRef } from './rope.ref.ts';

export interface RopeAppendRefArgs {
  heads: number;
  kvHeads: number;
  headDim: number;
  rows: number;
  posStart: number;
  qkv: ArrayLike<number>; // (rows, heads + 2 * kvHeads, headDim)
  qkNorm?: { q: ArrayLike<number>; k: ArrayLike<number>; eps: number }; // (headDim) each
  cos: ArrayLike<number>; // (maxPositions, headDim / 2)
  sin: ArrayLike<number>; // (maxPositions, headDim / 2)
}

/**
 * q (rows, heads, headDim) and k (rows, kvHeads, headDim) after norm and RoPE; v (rows, kvHeads,
 * headDim) as projected; qPre: q after its norm, before RoPE (policies that keep query statistics).
 */
export function ropeAppendRef(a: RopeAppendRefArgs): { q: Float64Array; k: Float64Array; v: Float64Array; qPre: Float64Array } {
  const { rows, headDim } = a;
  const qDim = a.heads * headDim;
  const kvDim = a.kvHeads * headDim;
  const width = qDim + 2 * kvDim;
  const q = new Float64Array(rows * qDim);
  const k = new Float64Array(rows * kvDim);
  const v = new Float64Array(rows * kvDim);
  for (let t = 0; t < rows; t++) {
    for (let i = 0; i < qDim; i++) q[t * qDim + i] = a.qkv[t * width + i];
    for (let i = 0; i < kvDim; i++) {
      k[t * kvDim + i] = a.qkv[t * width + qDim + i];
      v[t * kvDim + i] = a.qkv[t * width + qDim + kvDim + i];
    }
  }
  if (a.qkNorm) {
    rmsnormRef(q, a.qkNorm.q, rows * a.heads, headDim, a.qkNorm.eps, q);
    rmsnormRef(k, a.qkNorm.k, rows * a.kvHeads, headDim, a.qkNorm.eps, k);
  }
  const qPre = q.slice();
  ropeRef(q, rows, a.heads, headDim, a.posStart, a.cos, a.sin);
  ropeRef(k, rows, a.kvHeads, headDim, a.posStart, a.cos, a.sin);
  return { q, k, v, qPre };
}
