/**
 * What the eviction driver needs of a cache, whichever engine holds it: the paged layout (the
 * host's mirror of the GPU tables), appending a step's tokens, freeing one entry, and compacting the heads whose limit
 * shrank, which moves K, V, slot positions and the policy state together. Two caches implement
 * it: host-kv-cache.ts (the CPU reference's f64 pools) and kv-cache.ts (GPU buffers).
 */
import type { KvLayout } from './kv-layout.ts';

export interface KvStore {
  readonly layout: KvLayout;
  /**
   * Reserves slots for `count` tokens at posStart.. (kv-layout.ts appendTokens); returns the slot
   * map. `probeRows` probe rows after them get scratch slots where the engine keeps their K/V apart (the GPU's).
   */
  append(posStart: number, count: number, probeRows?: number): Uint32Array;
  /** Frees logical slot `logical` of head (layer, kvHead). */
  evict(layer: number, kvHead: number, logical: number): void;
  /** Compacts every head holding more pages than its limit needs (kv/compact.ts); limits (layers * kvHeads). */
  compact(limits: ArrayLike<number>): void;
}
