/**
 * h2o: Heavy-Hitter Oracle, arXiv 2306.14048 ("H2O: Heavy-Hitter Oracle for Efficient
 * Generative Inference of Large Language Models"), in the decoding-time form that "Hold Onto
 * That Thought" (arXiv 2512.12008) found strongest on reasoning. Each entry accumulates the
 * attention it receives from every query (the prompt's queries at prefill, then each decode
 * step); the entry with the least accumulated attention goes, outside a recent window.
 *
 * Choices where the paper is silent: GQA combines the group's query heads by the mean of their
 * probabilities (the argmin is the same as with the sum the model card's simulation used); a
 * new entry starts at 0 and receives its own query's attention in the step it is written;
 * recent window 16, no sinks; ties go to the lowest logical slot (select.ts); the answer stage continues unchanged.
 */
import { defaultsOf } from './params.ts';
import { definePolicy, type EvictionPolicy } from './policy.ts';

export const H2O_PARAMS = {
  recent: { default: 16, min: 0, max: 4096, integer: true, doc: 'newest entries always kept' },
  decay: { default: 1, min: 0, max: 1, doc: 'factor the accumulated attention keeps per query (1: plain h2o)' },
} as const;

/** h2o, or with `decay` < 1 its decayed form (h2o-decay.ts): score <- decay * score + attention, per query. */
export function createH2o(params: { recent?: number; decay?: number } = {}, id = 'h2o'): EvictionPolicy {
  const c = { ...defaultsOf(H2O_PARAMS), ...params };
  return {
    id,
    paper: 'arXiv 2306.14048, H2O: Heavy-Hitter Oracle (decoding variant of arXiv 2512.12008)',
    summary: 'Evicts the entry with the least attention accumulated over all queries so far.',
    granularity: 'head',
    sinks: 0,
    recent: c.recent,
    historyWindow: 0,
    gpu: { update: { rule: 'h2o', constants: { DECAY: c.decay } }, victim: { rule: 'score' } },
    observe(state, head, attention) {
      // decay 1 is exact (1 * x + a = x + a), so h2o is unchanged by the decayed form.
      for (let i = 0; i < head.length; i++) state.score[head.slots[i]] = c.decay * state.score[head.slots[i]] + attention[i];
    },
    score(state, head, _position, out) {
      for (let i = 0; i < head.length; i++) out[i] = state.score[head.slots[i]];
    },
  };
}

export const H2O = definePolicy({ id: 'h2o', params: H2O_PARAMS, create: (p) => createH2o(p) });
