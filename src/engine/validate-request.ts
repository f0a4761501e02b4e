/**
 * The engine boundary's check of a generation request: every field against what it may be, before
 * anything runs, so a bad value is a named InvalidRequestError (or the policy's PolicyParamError,
 * which lists its parameters with their ranges) instead of a silently odd generation.
 */
import { InvalidRequestError } from '../errors.ts';
import { resolveParams } from '../policies/params.ts';
import { policyDefinition, USER_POLICY_IDS } from '../policies/registry.ts';
import type { GenerateRequest } from './types.ts';

const isPositiveInteger = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;

export function validateRequest(r: GenerateRequest, policyIds: readonly string[] = USER_POLICY_IDS): void {
  if (typeof r.prompt !== 'string' || r.prompt.trim() === '') throw new InvalidRequestError('prompt', 'a non-empty string', r.prompt);
  if (!isPositiveInteger(r.maxNewTokens)) throw new InvalidRequestError('maxNewTokens', 'a positive integer', r.maxNewTokens);
  const s = r.sampling;
  if (!Number.isFinite(s?.temperature) || s.temperature < 0) throw new InvalidRequestError('sampling.temperature', 'a finite number >= 0 (0: greedy)', s?.temperature);
  if (!Number.isFinite(s.topP) || s.topP <= 0 || s.topP > 1) throw new InvalidRequestError('sampling.topP', 'a number in (0, 1]', s.topP);
  if (!Number.isInteger(s.seed)) throw new InvalidRequestError('sampling.seed', 'an integer', s.seed);
  const c = r.cache;
  if (!c) return;
  if (!policyIds.includes(c.policy)) throw new InvalidRequestError('cache.policy', `one of ${policyIds.join(', ')}`, c.policy);
  if (c.mode !== undefined && c.mode !== 'all' && c.mode !== 'think') throw new InvalidRequestError('cache.mode', '"all" or "think"', c.mode);
  if (c.budget !== undefined && !isPositiveInteger(c.budget)) throw new InvalidRequestError('cache.budget', 'a positive integer (KV entries per head)', c.budget);
  resolveParams(c.policy, policyDefinition(c.policy).params, c.params ?? {}); // PolicyParamError: an unknown name or a value out of range
}
