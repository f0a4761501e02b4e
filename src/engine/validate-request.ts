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

/** What each checked number may be, in the words of the errors (the page shows the same words beside its fields). */
export const ALLOWED = {
  positiveInteger: 'a positive integer',
  budget: 'a positive integer (KV entries per head)',
  temperature: 'a finite number >= 0 (0: greedy)',
  topP: 'a number in (0, 1]',
  seed: 'an integer',
} as const;

/** The sampling and length checks, by the field's name in the caller's request (the web-llm adapter's are OpenAI's). */
export const checkField = {
  positiveInteger(field: string, v: unknown): void {
    if (!isPositiveInteger(v)) throw new InvalidRequestError(field, ALLOWED.positiveInteger, v);
  },
  temperature(field: string, v: unknown): void {
    if (!Number.isFinite(v) || (v as number) < 0) throw new InvalidRequestError(field, ALLOWED.temperature, v);
  },
  topP(field: string, v: unknown): void {
    if (!Number.isFinite(v) || (v as number) <= 0 || (v as number) > 1) throw new InvalidRequestError(field, ALLOWED.topP, v);
  },
  seed(field: string, v: unknown): void {
    if (!Number.isInteger(v)) throw new InvalidRequestError(field, ALLOWED.seed, v);
  },
  budget(field: string, v: unknown): void {
    if (!isPositiveInteger(v)) throw new InvalidRequestError(field, ALLOWED.budget, v);
  },
};

export function validateRequest(r: GenerateRequest, policyIds: readonly string[] = USER_POLICY_IDS): void {
  checkPrompt(r);
  if (r.enableThinking !== undefined && typeof r.enableThinking !== 'boolean') throw new InvalidRequestError('enableThinking', 'true or false', r.enableThinking);
  if (r.reusePrefix !== undefined && typeof r.reusePrefix !== 'boolean') throw new InvalidRequestError('reusePrefix', 'true or false', r.reusePrefix);
  if (r.stop !== undefined && !(Array.isArray(r.stop) && r.stop.every((t) => typeof t === 'string' && t !== ''))) {
    throw new InvalidRequestError('stop', 'an array of non-empty strings', r.stop);
  }
  checkField.positiveInteger('maxNewTokens', r.maxNewTokens);
  const s = r.sampling;
  checkField.temperature('sampling.temperature', s?.temperature);
  checkField.topP('sampling.topP', s.topP);
  checkField.seed('sampling.seed', s.seed);
  const c = r.cache;
  if (!c) return;
  if (!policyIds.includes(c.policy)) throw new InvalidRequestError('cache.policy', `one of ${policyIds.join(', ')}`, c.policy);
  if (c.mode !== undefined && c.mode !== 'all' && c.mode !== 'think') throw new InvalidRequestError('cache.mode', '"all" or "think"', c.mode);
  if (c.budget !== undefined) checkField.budget('cache.budget', c.budget);
  resolveParams(c.policy, policyDefinition(c.policy).params, c.params ?? {}); // PolicyParamError: an unknown name or a value out of range
}

/** The roles a conversation's messages may have. */
const CHAT_ROLES = ['system', 'user', 'assistant'];

/** A prompt, or a conversation of system, user and assistant turns that ends with the user's. */
function checkPrompt(r: GenerateRequest): void {
  if (r.messages === undefined) {
    if (typeof r.prompt !== 'string' || r.prompt.trim() === '') throw new InvalidRequestError('prompt', 'a non-empty string', r.prompt);
    return;
  }
  if (r.prompt !== undefined) throw new InvalidRequestError('prompt', 'absent when messages are given (one or the other)', r.prompt);
  if (!Array.isArray(r.messages) || r.messages.length === 0) throw new InvalidRequestError('messages', 'a non-empty array of messages', r.messages);
  r.messages.forEach((m, i) => {
    if (!CHAT_ROLES.includes(m?.role)) throw new InvalidRequestError(`messages[${i}].role`, CHAT_ROLES.join(', '), m?.role);
    if (typeof m.content !== 'string') throw new InvalidRequestError(`messages[${i}].content`, 'a string', m.content);
  });
  const last = r.messages[r.messages.length - 1];
  if (last.role !== 'user' || last.content.trim() === '') {
    throw new InvalidRequestError(`messages[${r.messages.length - 1}]`, 'a user message with text, last', last.role === 'user' ? last.content : last.role);
  }
}
