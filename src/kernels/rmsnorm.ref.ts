/** CPU reference of rmsnorm.wgsl, in f64 so the reference is better than the kernel. */
export function rmsnormRef(
  x: ArrayLike<number>, // (rows, dim)
  weight: ArrayLike<number>, // (dim)
  rows: number,
  dim: number,
  eps: number,
  out: Float64Array = new Float64Array(rows * dim), // (rows, dim)
): Float64Array {
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let sumSq = 0;
    for (let i = 0; i < dim; i++) sumSq += x[base + i] * x[base + i];
    const invRms = 1 / Math.sqrt(sumSq / dim + eps);
    for (let i = 0; i < dim; i++) out[base + i] = weight[i] * (x[base + i] * invRms);
  }
  return out;
}
