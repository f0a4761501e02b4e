/**
 * The eviction rules the WGSL kernels know, numbered once. The numbers reach the shaders as
 * override constants named RULE_<NAME> (ruleConstants), so a shader compares `RULE == RULE_H2O`
 * and never spells a number; a policy names its rules by these keys (policies/policy.ts GpuRule).
 */

/** score-update: how each query's attention folds into the per-slot state. */
export const SCORE_RULES = { h2o: 1, tova: 2, crystal: 3, window: 4 } as const;
/** select-victim: the eviction score a full head's candidates are ordered by. */
export const VICTIM_RULES = { position: 0, score: 1, crystal: 2, layer: 3, random: 4 } as const;
/** policy-score: scores that depend on the head's other entries, written before the choice. */
export const RESCORE_RULES = { 'snapkv-d': 0, 'r-kv': 1 } as const;

/** select-victim / select-model: victims[g] when head g is not full (and what ends a shorter list). */
export const NOT_FULL = 0xffffffff;
/** select-victim / select-model: victims[g] when head g is full but every entry is protected. */
export const NO_CANDIDATE = 0xfffffffe;

export type ScoreRule = keyof typeof SCORE_RULES;
export type VictimRule = keyof typeof VICTIM_RULES;
export type RescoreRule = keyof typeof RESCORE_RULES;

/** { RULE_H2O: 1, ... }: the override constants that name a table's rules in its shader. */
export function ruleConstants(table: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(table).map(([name, n]) => [`RULE_${name.toUpperCase().replace(/-/g, '_')}`, n]));
}
