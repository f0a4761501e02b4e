/**
 * snapkv-d: SnapKV, arXiv 2404.14469 ("SnapKV: LLM Knows What You are Looking for Before
 * Generation"), recomputed during decoding as in "Hold Onto That Thought" (arXiv 2512.12008):
 * an entry's score is the attention it received from the last `window` queries, average-pooled
 * over neighbouring positions (kernel 5); the lowest goes.
 *
 * Choices where the paper is silent: the observation window is the last 32 queries (prompt
 * queries at prefill, then decode steps), kept per slot in a ring of 32; GQA takes the group's
 * mean; the protected recent window is 16 entries (not the whole 32-query observation window,
 * which would leave no candidate at a think budget of 32); a new entry starts with an empty
 * history; ties go to the lowest logical slot (select.ts); the answer stage continues unchanged.
 */
import { defaultsOf } from './params.ts';
import { definePolicy, type EvictionPolicy } from './policy.ts';
import { poolByPosition } from './pooling.ts';

export const SNAPKV_PARAMS = {
  window: { default: 32, min: 1, max: 1024, integer: true, doc: 'last queries whose attention is summed' },
  pool: { default: 5, min: 1, max: 255, odd: true, doc: 'average-pooling kernel over neighbouring positions' },
  recent: { default: 16, min: 0, max: 4096, integer: true, doc: 'newest entries always kept' },
} as const;

export function createSnapkvD(params: { window?: number; pool?: number; recent?: number } = {}): EvictionPolicy {
  const { window, pool, recent } = { ...defaultsOf(SNAPKV_PARAMS), ...params };
  let windowed = new Float64Array(0);
  return {
    id: 'snapkv-d',
    paper: 'arXiv 2404.14469, SnapKV (decoding-time variant of arXiv 2512.12008)',
    summary: 'Evicts the entry least attended by the last 32 queries, pooled over neighbours.',
    granularity: 'head',
    sinks: 0,
    recent,
    historyWindow: window,
    gpu: { update: { rule: 'window' }, rescore: { rule: 'snapkv-d', constants: { POOL: pool } }, victim: { rule: 'score' } },
    observe(state, head, attention, position) {
      const ring = position % window;
      for (let i = 0; i < head.length; i++) state.history[head.slots[i] * window + ring] = attention[i];
    },
    score(state, head, _position, out) {
      if (windowed.length < head.length) windowed = new Float64Array(head.length * 2);
      // The ring holds queries position-window+1..position; entries newer than a query have 0 there.
      for (let i = 0; i < head.length; i++) {
        const base = head.slots[i] * window;
        let sum = 0;
        for (let r = 0; r < window; r++) sum += state.history[base + r];
        windowed[i] = sum;
      }
      poolByPosition(head.positions, windowed, head.length, pool, out);
    },
  };
}

export const SNAPKV_D = definePolicy({ id: 'snapkv-d', params: SNAPKV_PARAMS, create: (p) => createSnapkvD(p) });
