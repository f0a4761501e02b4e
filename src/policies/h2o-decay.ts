/**
 * h2o-decay: a decayed-attention-mass heavy hitter. H2O (arXiv 2306.14048) keeps the entries with
 * the most attention accumulated over every query so far; on a long think the oldest queries then
 * outvote the current line of thought. Here the accumulated mass decays by a factor per query,
 * score <- decay * score + attention, so an entry must keep being attended to stay: h2o is the
 * decay-1 case of the same rule (h2o.ts), and the GPU runs it as score-update's h2o rule with
 * DECAY < 1.
 *
 * Choices: decay 0.9 per query (a half-life of about 7 tokens), chosen on the first 50 prompts of
 * both bundled models among 0.8 / 0.9 / 0.95 / 0.99 (docs/eval/h2o-decay.md): on qwen3 at think 64
 * it scores 34% where h2o scores 10% (0.95: 32%); on llama at think 192 every factor scores 20%,
 * h2o 24%, so it lifts one model and costs the other little. The rest as h2o (recent window 16,
 * GQA mean, ties to the lowest logical slot, the prompt's queries count).
 */
import { createH2o, H2O_PARAMS } from './h2o.ts';
import { definePolicy } from './policy.ts';

export const H2O_DECAY_PARAMS = {
  recent: H2O_PARAMS.recent,
  decay: { ...H2O_PARAMS.decay, default: 0.9 },
} as const;

export const H2O_DECAY = definePolicy({
  id: 'h2o-decay',
  params: H2O_DECAY_PARAMS,
  create: (p) => ({
    ...createH2o(p, 'h2o-decay'),
    paper: 'arXiv 2306.14048, H2O, with the accumulated attention decayed per query',
    summary: 'Evicts the entry with the least recently-weighted attention: h2o whose mass decays each step.',
  }),
});
