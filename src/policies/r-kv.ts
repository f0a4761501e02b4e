/**
 * r-kv: R-KV, arXiv 2505.24133 ("R-KV: Redundancy-aware KV Cache Compression for Reasoning
 * Models"). Reasoning traces repeat themselves, so an entry is worth keeping when it is attended
 * (importance) and not redundant: score = lambda * importance - (1 - lambda) * redundancy, where
 * importance is the mean attention of the last 8 queries, max-pooled over neighbouring positions
 * (kernel 7), and redundancy is each key's mean cosine similarity to the head's other keys
 * (its similarity to its newest similar key, above 0.5, is not counted), softmax-normalised
 * over the head. Compression runs in bursts.
 *
 * Choices where the paper is silent or that we change: lambda 0.1; GQA takes the group's mean
 * attention; the 8 newest entries are protected (the observation window); the burst buffer
 * lives inside the budget, so memory never exceeds B like every other policy here: a full head
 * drops a quarter of its budget at once (the paper compresses B + 128 back to B); keys are
 * compared after RoPE, as stored; the answer stage continues unchanged.
 */
import { defaultsOf } from './params.ts';
import { definePolicy, type EvictionPolicy } from './policy.ts';

export interface RkvParams {
  lambda: number;
  window: number;
  pool: number;
  threshold: number;
  burst: number;
}

export const RKV_PARAMS = {
  lambda: { default: 0.1, min: 0, max: 1, doc: 'weight of importance against redundancy' },
  window: { default: 8, min: 1, max: 1024, integer: true, doc: 'last queries whose attention is the importance; also kept' },
  pool: { default: 7, min: 1, max: 255, odd: true, doc: 'max-pooling kernel over neighbouring positions' },
  threshold: { default: 0.5, min: -1, max: 1, doc: 'cosine above which a newer key makes an entry redundant' },
  burst: { default: 0.25, min: 0, max: 0.9, doc: 'share of the budget a full head drops at once' },
} as const;

export const RKV_DEFAULTS: RkvParams = defaultsOf(RKV_PARAMS);

export function createRkv(params: Partial<RkvParams> = {}): EvictionPolicy {
  const c = { ...RKV_DEFAULTS, ...params };
  return {
    id: 'r-kv',
    paper: 'arXiv 2505.24133, R-KV: Redundancy-aware KV Cache Compression for Reasoning Models',
    summary: 'Keeps attended entries and drops redundant ones (keys similar to newer keys), in bursts.',
    granularity: 'head',
    sinks: 0,
    recent: c.window,
    historyWindow: c.window,
    burst: c.burst,
    needsKeys: true,
    gpu: { update: { rule: 'window' }, rescore: { rule: 'r-kv', constants: { POOL: c.pool, LAMBDA: c.lambda, THRESHOLD: c.threshold } }, victim: { rule: 'score' } },
    observe(state, head, attention, position) {
      const ring = position % c.window;
      for (let i = 0; i < head.length; i++) state.history[head.slots[i] * c.window + ring] = attention[i];
    },
    score(state, head, _position, out) {
      const n = head.length;
      const keys = state.keys;
      if (!keys) throw new Error('r-kv needs the key pool: the engine must set state.keys');
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => head.positions[a] - head.positions[b]);
      // Importance: mean attention over the window, max-pooled in position order.
      const mean = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let sum = 0;
        for (let r = 0; r < c.window; r++) sum += state.history[head.slots[i] * c.window + r];
        mean[i] = sum / c.window;
      }
      const importance = new Float64Array(n);
      const half = c.pool >> 1;
      for (let r = 0; r < n; r++) {
        let best = 0;
        for (let j = Math.max(0, r - half); j <= Math.min(n - 1, r + half); j++) best = Math.max(best, mean[order[j]]);
        importance[order[r]] = best;
      }
      // Redundancy: mean cosine similarity to the other keys, less the one to its newest similar key.
      const d = keys.dim;
      const unit = new Float64Array(n * d);
      for (let i = 0; i < n; i++) {
        const base = head.slots[i] * d;
        let norm = 0;
        for (let k = 0; k < d; k++) norm += keys.data[base + k] ** 2;
        norm = Math.sqrt(norm) + 1e-8;
        for (let k = 0; k < d; k++) unit[i * d + k] = keys.data[base + k] / norm;
      }
      const redundancy = new Float64Array(n);
      const row = new Float64Array(n);
      let maxRed = -Infinity;
      for (let i = 0; i < n; i++) {
        let newest = -1;
        for (let j = 0; j < n; j++) {
          let dot = 0;
          if (j !== i) for (let k = 0; k < d; k++) dot += unit[i * d + k] * unit[j * d + k];
          row[j] = dot;
          if (dot > c.threshold && (newest < 0 || head.positions[j] > head.positions[newest])) newest = j;
        }
        if (newest >= 0) row[newest] = 0;
        let sum = 0;
        for (let j = 0; j < n; j++) sum += row[j];
        redundancy[i] = sum / n;
        maxRed = Math.max(maxRed, redundancy[i]);
      }
      let z = 0;
      for (let i = 0; i < n; i++) z += Math.exp(redundancy[i] - maxRed);
      for (let i = 0; i < n; i++) {
        const softRed = Math.exp(redundancy[i] - maxRed) / z;
        out[i] = c.lambda * importance[i] - (1 - c.lambda) * softRed;
      }
    },
  };
}

export const R_KV = definePolicy({ id: 'r-kv', params: RKV_PARAMS, create: (p) => createRkv(p) });
