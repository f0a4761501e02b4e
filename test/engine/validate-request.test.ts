/** The engine boundary refuses each bad request field by name (issue 13's list), and lets good requests through. */
import { describe, expect, test } from 'vitest';
import { validateRequest } from '../../src/engine/validate-request.ts';
import { GREEDY, type GenerateRequest } from '../../src/engine/types.ts';
import { InvalidRequestError, PolicyParamError } from '../../src/errors.ts';

const ok: GenerateRequest = { prompt: 'hi', maxNewTokens: 8, sampling: GREEDY, cache: { policy: 'crystal-lite', budget: 64, mode: 'all', params: { lambda: 0.5 } } };
const withCache = (cache: Partial<NonNullable<GenerateRequest['cache']>>): GenerateRequest => ({ ...ok, cache: { ...ok.cache!, ...cache } });

describe('validateRequest', () => {
  test('a good request, and one without a cache, pass', () => {
    expect(() => validateRequest(ok)).not.toThrow();
    expect(() => validateRequest({ ...ok, cache: undefined, sampling: { temperature: 0.7, topP: 0.9, seed: 3 } })).not.toThrow();
  });
  const bad: [string, GenerateRequest, string][] = [
    ['empty prompt', { ...ok, prompt: '  ' }, 'prompt'],
    ['maxNewTokens -5', { ...ok, maxNewTokens: -5 }, 'maxNewTokens'],
    ['maxNewTokens 0', { ...ok, maxNewTokens: 0 }, 'maxNewTokens'],
    ['maxNewTokens 2.5', { ...ok, maxNewTokens: 2.5 }, 'maxNewTokens'],
    ['temperature NaN', { ...ok, sampling: { ...GREEDY, temperature: NaN } }, 'sampling.temperature'],
    ['temperature -1', { ...ok, sampling: { ...GREEDY, temperature: -1 } }, 'sampling.temperature'],
    ['topP 5', { ...ok, sampling: { ...GREEDY, topP: 5 } }, 'sampling.topP'],
    ['topP 0', { ...ok, sampling: { ...GREEDY, topP: 0 } }, 'sampling.topP'],
    ['seed 1.5', { ...ok, sampling: { ...GREEDY, seed: 1.5 } }, 'sampling.seed'],
    ['mode xyz', withCache({ mode: 'xyz' as 'all' }), 'cache.mode'],
    ['budget 64.5', withCache({ budget: 64.5 }), 'cache.budget'],
    ['budget -5', withCache({ budget: -5 }), 'cache.budget'],
    ['unknown policy', withCache({ policy: 'h3o' }), 'cache.policy'],
    ['research policy on the engine', withCache({ policy: 'oracle', params: {} }), 'cache.policy'],
  ];
  for (const [what, request, field] of bad) {
    test(`${what}: InvalidRequestError naming ${field}`, () => {
      let error: unknown;
      try {
        validateRequest(request);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect((error as InvalidRequestError).field).toBe(field);
      expect((error as Error).name).toBe('InvalidRequestError');
      expect((error as Error).message).toContain(field);
    });
  }
  for (const [what, params] of [
    ['a misspelt parameter (lamda)', { lamda: 0.5 }],
    ['lambda 5', { lambda: 5 }],
    ['p -1', { p: -1 }],
  ] as const) {
    test(`${what}: PolicyParamError listing the parameters`, () => {
      expect(() => validateRequest(withCache({ params }))).toThrow(PolicyParamError);
      expect(() => validateRequest(withCache({ params }))).toThrow(/lambda/);
    });
  }
});
