/**
 * crystal: Crystal-KV, arXiv 2601.16986, in full: the attention-based LRFU of crystal-lite plus
 * adaptive budgets. The paper moves budget by "the dynamic proportion of CrystalKV" per layer and
 * head; here every R decode steps each head's utilisation (its live share: the entries the budget
 * counts that were hit, or written, within the last R steps, over its budget) re-divides the
 * total budget, first across layers, then across the heads of each layer, with a floor per head
 * (a share of the uniform budget); a head whose budget shrinks evicts its lowest entries at once
 * and is compacted into its first pages (kv/compact.ts), so the freed pages serve the heads that
 * grow and the pool is sized for the total budget.
 *
 * Choices where the paper is silent (beyond crystal-lite's): R 32 decode steps; floor 0.5 of the
 * uniform per-head budget; budgets move only once every head holds its limit (before that a
 * re-division could only evict entries no budget asked to drop); layer utilisation = layer load /
 * layer budget; budgets move only during decoding (the prompt cut uses the uniform budget).
 * Measured on the bundled model (40 prompts, think 64 / 96): utilisation as the summed decayed
 * CRF instead of the live share scored 2.5% / 17.5% at floor 0.2 and 22.5% / 37.5% at 0.5; the
 * live share 27.5% / 47.5% at 0.2 and 27.5% / 55.0% at 0.5 (docs/eval/crystal-sweep.md).
 */
import { createCrystalLite, CRYSTAL_DEFAULTS, CRYSTAL_LITE_PARAMS, type CrystalParams } from './crystal-lite.ts';
import { definePolicy, type EvictionPolicy } from './policy.ts';

export interface CrystalRebalance {
  period: number;
  floor: number; // share of the uniform per-head budget every head keeps
}

export const CRYSTAL_PARAMS = {
  ...CRYSTAL_LITE_PARAMS,
  period: { default: 32, min: 1, max: 4096, integer: true, doc: 'decode steps between budget re-divisions' },
  floor: { default: 0.5, min: 0, max: 1, doc: 'share of the uniform per-head budget every head keeps' },
} as const;

export const REBALANCE_DEFAULTS: CrystalRebalance = { period: CRYSTAL_PARAMS.period.default, floor: CRYSTAL_PARAMS.floor.default };

export function createCrystal(params: Partial<CrystalParams & CrystalRebalance> = {}): EvictionPolicy & { rebalance: CrystalRebalance } {
  const lite = createCrystalLite({ ...CRYSTAL_DEFAULTS, ...params });
  return {
    ...lite,
    id: 'crystal',
    paper: 'arXiv 2601.16986, Crystal-KV (LRFU + adaptive layer and head budgets)',
    summary: 'Crystal-KV: LRFU eviction plus budgets that move to the layers and heads that use them.',
    rebalance: { period: params.period ?? REBALANCE_DEFAULTS.period, floor: params.floor ?? REBALANCE_DEFAULTS.floor },
  };
}

export const CRYSTAL = definePolicy({ id: 'crystal', params: CRYSTAL_PARAMS, create: (p) => createCrystal(p) });
