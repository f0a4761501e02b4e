/**
 * tova: Token Omission Via Attention, arXiv 2401.06104 ("Transformers are Multi-State RNNs").
 * At each step the entry with the lowest attention from the current query, averaged over the
 * layer's heads, is dropped: one decision per layer, so all KV heads of a layer hold the same
 * positions.
 *
 * Choices where the paper is silent: GQA averages the group's query heads, then the layer
 * averages its KV heads (together: the mean over all query heads); the score is the attention of
 * the latest query (a new entry's first score is its own query's attention); nothing is
 * protected; ties go to the older entry, and so do near-ties within 1e-5 relative of the lowest
 * (two entries' mean attention can agree to ~7e-7 relative, below what the GPU engine's f32
 * forward resolves; the shared rule keeps both engines' decisions identical); the answer stage
 * continues unchanged.
 */
import { definePolicy, type EvictionPolicy } from './policy.ts';

export function createTova(): EvictionPolicy {
  return {
    id: 'tova',
    paper: 'arXiv 2401.06104, Transformers are Multi-State RNNs (TOVA)',
    summary: "Evicts the entry the current query attends to least, averaged over the layer's heads.",
    granularity: 'layer',
    sinks: 0,
    recent: 0,
    historyWindow: 0,
    nearTie: 1e-5,
    gpu: { update: { rule: 'tova' }, victim: { rule: 'layer' } },
    observe(state, head, attention) {
      for (let i = 0; i < head.length; i++) state.score[head.slots[i]] = attention[i];
    },
    score(state, head, _position, out) {
      for (let i = 0; i < head.length; i++) out[i] = state.score[head.slots[i]];
    },
  };
}

export const TOVA = definePolicy({ id: 'tova', params: {}, create: () => createTova() });
