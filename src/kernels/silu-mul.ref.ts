/** CPU reference of gemv.wgsl's GATED epilogue (SwiGLU), in f64: out[t, i] = silu(gate[t, i]) * up[t, i]. */
export function siluMulRef(
  gateUp: ArrayLike<number>, // (rows, 2 * intermediate): gate, then up
  rows: number,
  intermediate: number,
  out: Float64Array = new Float64Array(rows * intermediate), // (rows, intermediate)
): Float64Array {
  for (let t = 0; t < rows; t++) {
    const gate = t * 2 * intermediate;
    const up = gate + intermediate;
    const dst = t * intermediate;
    for (let i = 0; i < intermediate; i++) {
      const g = gateUp[gate + i];
      out[dst + i] = (g / (1 + Math.exp(-g))) * gateUp[up + i];
    }
  }
  return out;
}
