// Each policy states its parameters' ranges in the catalogue, and the engine's request check holds
// every one: the value just past either end, a fraction for a whole number, and an unknown name.
import { expect, test } from 'vitest';
import { POLICY_CATALOG } from '../../src/engine/policy-catalog.ts';
import { validateRequest } from '../../src/engine/validate-request.ts';
import type { GenerateRequest } from '../../src/engine/types.ts';

const requestWith = (policy: string, params: Record<string, number>): GenerateRequest => ({
  prompt: 'x',
  maxNewTokens: 1,
  sampling: { temperature: 0, topP: 1, seed: 0 },
  cache: { policy, budget: 64, params },
});

test.each(POLICY_CATALOG.map((p) => [p.id, p] as const))('%s: its ranges are stated and enforced', (id, info) => {
  for (const [name, spec] of Object.entries(info.params)) {
    expect(spec.min).toBeLessThanOrEqual(spec.default);
    expect(spec.default).toBeLessThanOrEqual(spec.max);
    expect(() => validateRequest(requestWith(id, { [name]: spec.default }))).not.toThrow();
    const step = spec.integer || spec.odd ? 1 : Math.max(1e-6, (spec.max - spec.min) * 1e-3);
    for (const bad of [spec.min - step, spec.max + step, ...(spec.integer ? [spec.default + 0.5] : [])]) {
      expect(() => validateRequest(requestWith(id, { [name]: bad })), `${id}.${name} = ${bad}`).toThrow(expect.objectContaining({ name: 'PolicyParamError' }));
    }
  }
  expect(() => validateRequest(requestWith(id, { lamda: 0.5 }))).toThrow(expect.objectContaining({ name: 'PolicyParamError', message: expect.stringContaining('unknown parameter "lamda"') }));
});
