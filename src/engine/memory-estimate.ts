/**
 * What a model needs on the GPU before it is loaded: weights in their storage, the KV cache as
 * the engine sizes it for the chosen context, policy and budget, and the working buffers
 * (activations, RoPE tables, the policy's per-slot state). The page shows it before a download;
 * a test holds it against the allocation ledger of a real load (within 10%).
 */
import { evictionStateOf, KvCache } from '../kv/kv-cache.ts';
import type { ModelConfig } from '../model/config.ts';
import { activationSizes } from '../model/forward.ts';
import { storageIs16Bit, weightBytesFor, type MatrixStorage } from '../model/weights.ts';
import { createPolicy } from '../policies/registry.ts';
import { backendSizes, sequenceGeometry, type BackendOptions } from '../model/forward-backend.ts';
import { evictionSpec, type CacheConfig } from '../kv/budget.ts';

export interface MemoryEstimate {
  weights: number;
  kv: number;
  working: number;
  total: number;
}

export function estimateMemory(
  c: ModelConfig,
  storage: MatrixStorage,
  options: BackendOptions & { cache?: CacheConfig; promptLength?: number } = {},
): MemoryEstimate {
  const kvDtype = options.kvDtype ?? (storageIs16Bit(storage) ? 'f16' : 'f32');
  const { contextLength, maxStepTokens, geometry } = backendSizes(c, { ...options, kvDtype });
  const policy = createPolicy(options.cache?.policy ?? 'full', options.cache?.params);
  const spec = evictionSpec(options.cache);
  const g = sequenceGeometry(geometry, spec, options.promptLength, policy);
  const activations = Object.values(activationSizes(c, maxStepTokens, geometry.maxPagesPerHead * geometry.pageSize)).reduce((a, b) => a + b, 0);
  const rope = 2 * contextLength * (c.headDim / 2) * 4;
  const weights = weightBytesFor(c, storage);
  // The cache holds the policy state (score, stamp, the observation window, the probe's scores and scratch) when it evicts.
  const kv = KvCache.bytesFor(g, spec ? evictionStateOf(policy, maxStepTokens) : null); // spec is null for the full cache, `full` included
  const working = activations + rope;
  return { weights, kv, working, total: weights + kv + working };
}
