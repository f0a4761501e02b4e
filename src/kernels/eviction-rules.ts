/**
 * The eviction kernels' rules and the constants they share with the hosts. A kernel with several
 * rules (score-update, select-victim, policy-score) numbers them once, in its own shader, as
 * `const RULE_H2O = 1u;`, and branches on `RULE == RULE_H2O`. A policy names the branch it runs
 * and the override constants that branch reads (a KernelRule, in the policy's GPU rule), and
 * ruleOverrides finds the number in the shader's text: a new rule is its branch in the shader,
 * and its name and constants in the policy file, and nothing here or in the kernel's host.
 */

/** One branch of an eviction kernel: its rule's name (the shader's RULE_<NAME>) and the override constants it reads. */
export interface KernelRule {
  /** e.g. 'h2o' for RULE_H2O, 'r-kv' for RULE_R_KV. */
  rule: string;
  /** Override constants of this branch, by their WGSL names (e.g. { LAMBDA: 0.6, P: 0.9 }). */
  constants?: Readonly<Record<string, number>>;
}

/** select-victim / select-model: victims[g] when head g is not full (and what ends a shorter list). */
export const NOT_FULL = 0xffffffff;
/** select-victim / select-model: victims[g] when head g is full but every entry is protected. */
export const NO_CANDIDATE = 0xfffffffe;

/** The WGSL name of rule `name`: 'r-kv' -> RULE_R_KV. */
export const ruleConstantName = (name: string) => `RULE_${name.toUpperCase().replace(/-/g, '_')}`;

/** Every rule a shader numbers: { RULE_H2O: 1, ... } from its `const RULE_<NAME> = <n>u;` lines. */
export function shaderRules(code: string): Record<string, number> {
  const rules = Object.fromEntries([...code.matchAll(/^const (RULE_[A-Z0-9_]+)\s*=\s*(\d+)u?;/gm)].map((m) => [m[1], Number(m[2])]));
  const numbers = Object.values(rules);
  if (new Set(numbers).size !== numbers.length) throw new Error(`two rules share a number: ${JSON.stringify(rules)}`);
  return rules;
}

/** The override constants that select `rule`'s branch of `kernel` (its shader's `code`): RULE and the branch's own. */
export function ruleOverrides(kernel: string, code: string, rule: KernelRule): Record<string, number> {
  const rules = shaderRules(code);
  const n = rules[ruleConstantName(rule.rule)];
  if (n === undefined) throw new Error(`${kernel}.wgsl has no rule "${rule.rule}" (${ruleConstantName(rule.rule)}); its rules: ${Object.keys(rules).join(', ')}.`);
  return { RULE: n, ...rule.constants };
}
