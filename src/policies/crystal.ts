/**
 * crystal: Crystal-KV, arXiv 2601.16986, in full: the attention-based LRFU of crystal-lite plus
 * adaptive budgets. Every R decode steps each head's utilisation (its entries' decayed CRF summed,
 * over its budget) re-divides the total budget, first across layers, then across the heads of
 * each layer, with a floor per head (a share of the uniform budget); a head whose budget shrinks
 * evicts its lowest entries at once and is compacted into its first pages (kv/compact.ts), so the
 * freed pages serve the heads that grow and the pool is sized for the total budget.
 *
 * Choices where the paper is silent (beyond crystal-lite's): R 32 decode steps, floor 0.2 of the
 * uniform per-head budget, utilisation measured over every entry the budget counts (the
 * generated ones in `think` mode), layer utilisation = layer load / layer budget; budgets move
 * only during decoding (the prompt cut uses the uniform budget).
 */
import { createCrystalLite, CRYSTAL_DEFAULTS, type CrystalParams } from './crystal-lite.ts';
import type { EvictionPolicy } from './policy.ts';

export interface CrystalRebalance {
  period: number;
  floor: number; // share of the uniform per-head budget every head keeps
}

export const REBALANCE_DEFAULTS: CrystalRebalance = { period: 32, floor: 0.2 };

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
