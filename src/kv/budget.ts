/**
 * KV budgets (DESIGN.md section 3). B = the most entries one (layer, kvHead) may hold.
 *   all:   the prompt counts; it is prefilled with full attention, then cut to B.
 *   think: the prompt is always kept whole; B counts generated tokens only.
 * A budget at or below what the policy always keeps is an error, never a silent clamp.
 */
import { BudgetTooSmallError } from '../errors.ts';

export type BudgetMode = 'all' | 'think';

export interface BudgetSpec {
  mode: BudgetMode;
  budget: number;
}

/** Entries of a head that count against the budget and that the policy always keeps. */
export function checkBudget(spec: BudgetSpec, policy: { id: string; sinks: number; recent: number }): void {
  const kept = spec.mode === 'all' ? policy.sinks + policy.recent : policy.recent;
  if (!Number.isInteger(spec.budget) || spec.budget <= kept || spec.budget < 1) {
    throw new BudgetTooSmallError(spec.budget, kept, policy.id);
  }
}
