import { expect, test } from 'vitest';
import { PolicyParamError } from '../../src/errors.ts';
import { resolveParams } from '../../src/policies/params.ts';
import { createPolicy, policyDefinition, POLICY_IDS, USER_POLICY_IDS } from '../../src/policies/registry.ts';

test('every policy resolves its own defaults, and every user policy can be created with them', () => {
  for (const id of POLICY_IDS) {
    const d = policyDefinition(id);
    const defaults = Object.fromEntries(Object.entries(d.params).map(([k, s]) => [k, s.default]));
    expect(resolveParams(id, d.params, {})).toEqual(defaults);
  }
  for (const id of USER_POLICY_IDS) expect(createPolicy(id).id).toBe(id);
});

test('an unknown parameter is a named error that lists what the policy takes', () => {
  expect(() => createPolicy('h2o', { recnet: 8 })).toThrow(PolicyParamError);
  expect(() => createPolicy('h2o', { recnet: 8 })).toThrow(/unknown parameter "recnet".*recent \(integer 0\.\.4096, default 16/);
  expect(() => createPolicy('tova', { window: 8 })).toThrow(/takes no parameters/);
});

test('out-of-range, non-integer and even pooling values are refused', () => {
  expect(() => createPolicy('crystal-lite', { p: 1.5 })).toThrow(/p = 1.5 is out of range/);
  expect(() => createPolicy('crystal', { period: 2.5 })).toThrow(/period = 2.5 is out of range/);
  expect(() => createPolicy('snapkv-d', { pool: 4 })).toThrow(/pool = 4 is out of range.*odd 1\.\.255/);
  expect(() => createPolicy('r-kv', { burst: -0.1 })).toThrow(PolicyParamError);
  expect(() => createPolicy('h2o', { recent: Number.NaN })).toThrow(PolicyParamError);
});

test('resolved parameters reach the rule: CPU fields and the GPU description alike', () => {
  const c = createPolicy('crystal-lite', { lambda: 0.5, p: 0.8, init: 2 });
  expect(c.gpu).toEqual({ update: { rule: 'crystal', constants: { LAMBDA: 0.5, P: 0.8, INIT: 2 } }, victim: { rule: 'crystal', constants: { LAMBDA: 0.5 } } });
  expect(createPolicy('crystal-lite', { gqaMax: 1 }).gpu).toHaveProperty('cpuOnly');
  expect(createPolicy('r-kv', { pool: 5 }).gpu).toMatchObject({ rescore: { rule: 'r-kv', constants: { POOL: 5, LAMBDA: 0.1, THRESHOLD: 0.5 } } });
  expect(createPolicy('laprox', { pool: 3 }).gpu).toMatchObject({ victim: { rule: 'model', constants: { POOL: 3 } } });
  expect(createPolicy('h2o').gpu).toMatchObject({ update: { rule: 'h2o', constants: { DECAY: 1 } } });
  expect(createPolicy('h2o-decay', { decay: 0.9 }).gpu).toMatchObject({ update: { rule: 'h2o', constants: { DECAY: 0.9 } } });
  expect(createPolicy('random', { seed: 7 }).gpu).toEqual({ victim: { rule: 'random', constants: { SEED: 7 } } });
});

test('the oracle is a research instrument: registered, not offered, and it needs hindsight', () => {
  expect(POLICY_IDS).toContain('oracle');
  expect(USER_POLICY_IDS).not.toContain('oracle');
  expect(() => createPolicy('oracle')).toThrow(/hindsight/);
});
