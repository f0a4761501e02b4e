/**
 * How many bytes a model's weights take to download. Before its tensor-cache.json is known, an
 * estimate: parameters × bits per weight. MLC's q4f16_1 / q4f32_1 store every Linear and the
 * embedding as 4-bit codes plus one f16 / f32 scale per group of 32 (4 + 16/32 = 4.5 and
 * 4 + 32/32 = 5 bits); q0f16 / q0f32 store plain 16- / 32-bit values. Norms and biases are a
 * rounding error at these sizes. The parameter count comes from the model's name ("1B"), so a
 * model the name rounds down (Llama-3.2-1B has 1.24 B) is underestimated by as much. Once
 * tensor-cache.json is fetched, the exact figure: the sum of its shards' nbytes.
 */

export const QUANTIZATIONS = ['q4f16_1', 'q4f32_1', 'q0f16', 'q0f32'] as const;
export type Quantization = (typeof QUANTIZATIONS)[number];

export const BITS_PER_WEIGHT: Record<Quantization, number> = {
  q4f16_1: 4 + 16 / 32,
  q4f32_1: 4 + 32 / 32,
  q0f16: 16,
  q0f32: 32,
};

export function estimateDownloadBytes(parameters: number, quantization: Quantization): number {
  return Math.round((parameters * BITS_PER_WEIGHT[quantization]) / 8);
}

/** One shard file of tensor-cache.json (the fields downloads need; each also lists its tensors). */
export interface ShardRecord {
  dataPath: string;
  nbytes: number;
}

/** The exact download size of the weights: every shard once. */
export function tensorCacheBytes(records: readonly ShardRecord[]): number {
  const seen = new Map<string, number>();
  for (const r of records) seen.set(r.dataPath, r.nbytes);
  let sum = 0;
  for (const n of seen.values()) sum += n;
  return sum;
}

/** "1.23 GB" / "456 MB" / "12 KB": decimal units, as download sizes are usually given. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(bytes >= 1e8 ? 0 : 1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(0)} KB`;
  return `${bytes} B`;
}
