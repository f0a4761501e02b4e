/**
 * Average pooling over neighbouring positions, as SnapKV, R-KV and LaProx smooth their scores
 * (PyTorch avg_pool1d with padding kernel/2, count_include_pad: the sum is divided by the kernel
 * size). Neighbours are the head's entries in position order, whatever slots they occupy.
 */
export function poolByPosition(positions: Int32Array, values: Float64Array, n: number, kernel: number, out: Float64Array): void {
  if (kernel <= 1) {
    out.set(values.subarray(0, n));
    return;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => positions[a] - positions[b]);
  const half = kernel >> 1;
  for (let r = 0; r < n; r++) {
    let sum = 0;
    for (let j = Math.max(0, r - half); j <= Math.min(n - 1, r + half); j++) sum += values[order[j]];
    out[order[r]] = sum / kernel;
  }
}
