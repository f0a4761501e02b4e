/**
 * laprox: LaProx, arXiv 2605.07234 (output-aware KV eviction). An entry's score is the L2 norm
 * of the attention it received from the last 32 queries times ||v_i W_O^h||, the size of what it
 * contributes through the output projection (a per-entry constant, computed once when the entry
 * is written), average-pooled over neighbouring positions (kernel 7); scores are divided by their
 * layer's mean and compared across the whole model, so per-head cache sizes vary.
 *
 * Choices where the paper is silent: GQA takes the group's mean attention and the mean of the
 * group heads' ||W_O^h v||; the observation window is kept per slot in a ring of 32; the recent
 * 16 entries of each head are protected; the budget is the total B x layers x kvHeads; a new
 * entry starts with an empty history; ties go to the older entry; the answer stage continues.
 */
import { defaultsOf } from './params.ts';
import { definePolicy, type EvictionPolicy } from './policy.ts';
import { poolByPosition } from './pooling.ts';

export const LAPROX_PARAMS = {
  window: { default: 32, min: 1, max: 1024, integer: true, doc: 'last queries whose attention is kept' },
  pool: { default: 7, min: 1, max: 255, odd: true, doc: 'max-pooling kernel over neighbouring positions' },
  recent: { default: 16, min: 0, max: 4096, integer: true, doc: 'newest entries always kept' },
} as const;

export function createLaprox(params: { window?: number; pool?: number; recent?: number } = {}): EvictionPolicy {
  const { window, pool, recent } = { ...defaultsOf(LAPROX_PARAMS), ...params };
  let raw = new Float64Array(0);
  return {
    id: 'laprox',
    paper: 'arXiv 2605.07234, LaProx (output-aware scores compared across the model)',
    summary: 'Attention x value norm through the output projection, evicted model-wide.',
    granularity: 'model',
    sinks: 0,
    recent,
    historyWindow: window,
    needsValueNorm: true,
    gpu: { update: { rule: 'window' }, victim: { rule: 'model', constants: { POOL: pool } } },
    admit(state, slot, _position, valueNorm) {
      state.score[slot] = 0;
      state.stamp[slot] = valueNorm;
      state.history.fill(0, slot * window, (slot + 1) * window);
    },
    observe(state, head, attention, position) {
      const ring = position % window;
      for (let i = 0; i < head.length; i++) state.history[head.slots[i] * window + ring] = attention[i];
    },
    score(state, head, _position, out) {
      if (raw.length < head.length) raw = new Float64Array(head.length * 2);
      for (let i = 0; i < head.length; i++) {
        const slot = head.slots[i];
        let sq = 0;
        for (let r = 0; r < window; r++) sq += state.history[slot * window + r] ** 2;
        raw[i] = Math.sqrt(sq) * state.stamp[slot];
      }
      poolByPosition(head.positions, raw, head.length, pool, out);
    },
  };
}

export const LAPROX = definePolicy({ id: 'laprox', params: LAPROX_PARAMS, create: (p) => createLaprox(p) });
