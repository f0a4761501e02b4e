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
import type { EvictionPolicy } from './policy.ts';

export function createH2o(params: { recent?: number } = {}): EvictionPolicy {
  return {
    id: 'h2o',
    paper: 'arXiv 2306.14048, H2O: Heavy-Hitter Oracle (decoding variant of arXiv 2512.12008)',
    summary: 'Evicts the entry with the least attention accumulated over all queries so far.',
    granularity: 'head',
    sinks: 0,
    recent: params.recent ?? 16,
    historyWindow: 0,
    observe(state, head, attention) {
      for (let i = 0; i < head.length; i++) state.score[head.slots[i]] += attention[i];
    },
    score(state, head, _position, out) {
      for (let i = 0; i < head.length; i++) out[i] = state.score[head.slots[i]];
    },
  };
}
