/**
 * What a model at a context needs of the device's limits, checked before anything is allocated:
 * every activation buffer (the attention row of every slot grows with the context; the logits
 * with the vocabulary) must fit one binding and one buffer. Weights need not: they are bound in
 * row ranges (model/linear-dispatch.ts). The K and V pools are checked when a sequence sizes them
 * (KvCache.allocate), since a budget lets a long context fit. A miss is a GpuLimitError that says
 * which buffer, and what would shrink it.
 */
import { GpuLimitError } from '../errors.ts';
import type { KvGeometry } from '../kv/kv-layout.ts';
import type { ModelConfig } from '../model/config.ts';
import { activationSizes } from '../model/forward.ts';

export interface StorageLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

export function checkDeviceLimits(limits: StorageLimits, c: ModelConfig, maxStepTokens: number, geometry: KvGeometry): void {
  const maxSlots = geometry.maxPagesPerHead * geometry.pageSize;
  const bound = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  for (const [name, bytes] of Object.entries(activationSizes(c, maxStepTokens, maxSlots))) {
    if (bytes > bound) {
      const hint = name === 'probs' ? 'a shorter context' : name === 'logitsAll' ? 'a smaller prefill tile' : 'a smaller model';
      throw new GpuLimitError(`maxStorageBufferBindingSize (for the ${name} activations; ${hint} needs less)`, bytes, bound);
    }
  }
}
