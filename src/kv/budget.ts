/**
 * KV budgets (DESIGN.md section 3), decided here once: the cache settings a request carries,
 * whether they evict at all, and each head's limit. B = the most entries one (layer, kvHead) may hold.
 *   all:   the prompt counts; it is prefilled with full attention, then cut to B.
 *   think: the prompt is always kept whole; B counts generated tokens only.
 * A budget at or below what the policy always keeps is an error, never a silent clamp.
 */
import { BudgetTooSmallError } from '../errors.ts';

export type BudgetMode = 'all' | 'think';

/** Which entries the cache keeps: a policy from the registry and a budget (none: the full cache). */
export interface CacheConfig {
  policy: string;
  /** Entries per KV head. */
  budget?: number;
  mode?: BudgetMode;
  params?: Record<string, number>;
}

/** The budget of a cache that evicts. */
export interface BudgetSpec {
  mode: BudgetMode;
  budget: number;
}

/** The budget a cache config evicts to; null for the full cache (no config, no budget, or `full`). */
export function evictionSpec(cache: CacheConfig | undefined): BudgetSpec | null {
  if (!cache || cache.policy === 'full' || cache.budget === undefined) return null;
  return { mode: cache.mode ?? 'all', budget: cache.budget };
}

/** The most entries a head with budget `budget` may hold: the kept prompt in `think` mode counts on top. */
export function headLimit(mode: BudgetMode, budget: number, promptLength: number): number {
  return mode === 'think' ? promptLength + budget : budget;
}

/** Entries of a head that count against the budget and that the policy always keeps. */
export function checkBudget(spec: BudgetSpec, policy: { id: string; sinks: number; recent: number }): void {
  const kept = spec.mode === 'all' ? policy.sinks + policy.recent : policy.recent;
  if (!Number.isInteger(spec.budget) || spec.budget <= kept || spec.budget < 1) {
    throw new BudgetTooSmallError(spec.budget, kept, policy.id);
  }
}

/**
 * Pages one sequence needs under a budget (memory is allocated for the budget, not the context).
 * Before the cut every head holds the whole prompt. After it, a head's logical slots never pass
 * max(prompt, limit): holes are refilled before a head grows. When budgets move between heads
 * (crystal), a head whose budget shrinks is compacted to ceil(n / pageSize) pages (kv/compact.ts),
 * so head h never holds more than ceil(limit_h / pageSize) pages, and the limits sum to
 * heads * the uniform limit: the pool needs at most sum_h ceil(limit_h / pageSize) pages.
 */
export function budgetPages(
  spec: BudgetSpec,
  promptLength: number,
  heads: number, // layers * kvHeads
  pageSize: number,
  movesBudgets: boolean,
): number {
  const limit = headLimit(spec.mode, spec.budget, promptLength); // each head's uniform limit
  const prefill = heads * Math.ceil(promptLength / pageSize);
  if (!movesBudgets) return heads * Math.ceil(Math.max(promptLength, limit) / pageSize);
  // sum_h ceil(l_h / P) <= sum_h (l_h + P - 1) / P, an integer: its floor.
  return Math.max(prefill, Math.floor((heads * limit + heads * (pageSize - 1)) / pageSize));
}
