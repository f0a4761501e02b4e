/**
 * random: the floor every real policy must beat, as the bundled models' cards measure it ("keep
 * the 16 most recent tokens; evict a uniformly random older entry; per layer and KV head").
 *
 * Choices where the cards are silent: the draw is a seeded hash of (seed, step, physical slot)
 * (kernels/random-score.ts), so a run is reproducible and the GPU engine draws exactly what the
 * CPU reference draws; every step draws afresh; no sinks; the answer stage continues unchanged.
 */
import { randomScore } from '../kernels/random-score.ts';
import { defaultsOf } from './params.ts';
import { definePolicy, type EvictionPolicy } from './policy.ts';

export const RANDOM_PARAMS = {
  seed: { default: 0, min: 0, max: 0xffffffff, integer: true, doc: 'seed of the draws' },
  recent: { default: 16, min: 0, max: 4096, integer: true, doc: 'newest entries always kept' },
} as const;

export function createRandom(params: { seed?: number; recent?: number } = {}): EvictionPolicy {
  const c = { ...defaultsOf(RANDOM_PARAMS), ...params };
  return {
    id: 'random',
    paper: 'the baseline of the bundled models\' cards (a uniformly random older entry)',
    summary: 'Evicts a random entry outside the 16 newest: the floor a real policy must beat.',
    granularity: 'head',
    sinks: 0,
    recent: c.recent,
    historyWindow: 0,
    gpu: { victim: { rule: 'random', constants: { SEED: c.seed } } },
    score(_state, head, position, out) {
      for (let i = 0; i < head.length; i++) out[i] = randomScore(c.seed, position, head.slots[i]);
    },
  };
}

export const RANDOM = definePolicy({ id: 'random', params: RANDOM_PARAMS, create: (p) => createRandom(p) });
