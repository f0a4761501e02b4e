/**
 * The only list of eviction policies. A policy file exports its definition (parameters, CPU
 * rule, GPU rule; policy.ts); adding a policy is that file, its test and one line here
 * (docs/internals.md "Adding a policy"). The matrix test, the kernel tests, the eval, the page
 * and the GPU engine read this list.
 */
import { ANSWER_PROBE } from './answer-probe.ts';
import { CRYSTAL } from './crystal.ts';
import { CRYSTAL_LITE } from './crystal-lite.ts';
import { FULL } from './full.ts';
import { H2O } from './h2o.ts';
import { H2O_DECAY } from './h2o-decay.ts';
import { HEAD_CHOICE } from './head-choice.ts';
import { LAPROX } from './laprox.ts';
import { resolveParams } from './params.ts';
import type { EvictionPolicy, PolicyDefinition } from './policy.ts';
import { ORACLE } from './oracle.ts';
import { R_KV } from './r-kv.ts';
import { RANDOM } from './random.ts';
import { SNAPKV_D } from './snapkv-d.ts';
import { STREAMING } from './streaming.ts';
import { TOVA } from './tova.ts';

export type PolicyParams = Record<string, number>;

const DEFINITIONS: readonly PolicyDefinition[] = [FULL, STREAMING, RANDOM, H2O, H2O_DECAY, TOVA, SNAPKV_D, R_KV, LAPROX, CRYSTAL, CRYSTAL_LITE, ORACLE, ANSWER_PROBE, HEAD_CHOICE];

/** Every registered policy, research instruments included (the eval and the CPU reference). */
export const POLICY_IDS = DEFINITIONS.map((d) => d.id);

/** The policies a user is offered (the page, the GPU engine): research instruments left out. */
export const USER_POLICY_IDS = DEFINITIONS.filter((d) => !d.research).map((d) => d.id);

export function policyDefinition(id: string): PolicyDefinition {
  const d = DEFINITIONS.find((x) => x.id === id);
  if (!d) throw new Error(`Unknown eviction policy "${id}". Available: ${POLICY_IDS.join(', ')}.`);
  return d;
}

/** The policy `id` with `params` validated against its schema (PolicyParamError lists what is allowed). */
export function createPolicy(id: string, params: PolicyParams = {}): EvictionPolicy {
  const d = policyDefinition(id);
  return d.create(resolveParams(id, d.params, params));
}

/** The user policies the GPU engine evicts with (their default parameters have a GPU rule), `full` aside. */
export function gpuPolicyIds(): string[] {
  return USER_POLICY_IDS.filter((id) => id !== 'full' && !('cpuOnly' in createPolicy(id).gpu));
}
