/**
 * head-choice (policies/head-choice.ts): every rule names its would-be victim, a query that pays
 * attention to some rules' victims charges those rules, and the head then follows another; random
 * until a rule beats it; and a whole generation on the CPU reference, with its report.
 */
import { expect, test } from 'vitest';
import { generate } from '../../src/engine/decode-loop.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { createHeadChoice, HEAD_CHOICE_RULES } from '../../src/policies/head-choice.ts';
import { createPolicyState } from '../../src/policies/policy.ts';
import { BUNDLED_MODEL_DIR, readGolden } from '../helpers/golden.ts';
import { loadModelFromDir } from '../helpers/node-model.ts';
import { makeHead } from './fixture.ts';

/** The rules some head of layer 0 followed. */
const followed = (report: Record<string, number>) => HEAD_CHOICE_RULES.filter((r) => report[`layer 0/${r}`] > 0);

test('a query that reads some rules\' victims charges those rules; the head turns to another', () => {
  const policy = createHeadChoice({ recent: 0 });
  const state = createPolicyState(8, 0);
  // Dimension 2, one query head over one KV head, no rotation.
  const keys = [[1, 0], [0, 1], [0, -1], [-1, 0]];
  state.keys = { data: Float64Array.from([...keys.flat(), ...new Array(8).fill(0)]), dim: 2 };
  state.values = { data: new Float64Array(16).fill(1), dim: 2 };
  state.rope = { cos: new Float64Array(64).fill(1), sin: new Float64Array(64), heads: 1, kvHeads: 1 };
  state.score.set([5, 5, 5, 1]); // h2o names slot 3
  state.stamp.set([5, 5, 1, 5]); // h2o-decay names slot 2
  const head = makeHead([0, 1, 2, 3]);
  const out = new Float64Array(4);
  policy.score(state, head, 4, out);
  expect(followed(policy.report!())).toEqual(['random']); // nothing beats random yet
  // The query at 4 looks at slot 0, the oldest: what recency, the probe (none marked: recency) and
  // expected attention (no statistics yet: all equal, the lowest slot) named.
  policy.observeQueries!(state, 0, Float64Array.from([8, 0]), 4);
  policy.observe!(state, head, Float64Array.from([0.97, 0.01, 0.01, 0.01]), 4);
  policy.score(state, head, 5, out);
  const second = policy.report!();
  // Not a rule that named slot 0: h2o (it named slot 3, which the query hardly sees), or random
  // (named a slot the query sees as little, and random wins ties).
  const now = HEAD_CHOICE_RULES.filter((r) => second[`layer 0/${r}`] > (r === 'random' ? 1 : 0));
  expect(now).toHaveLength(1);
  expect(['h2o', 'random']).toContain(now[0]);
  expect(['recency', 'probe', 'expected attention', 'h2o-decay'].map((r) => second[`layer 0/${r}`])).toEqual([0, 0, 0, 0]);
});

test('a generation on the CPU reference: it evicts, probes, and reports what each head followed', async () => {
  const model = await loadModelFromDir(BUNDLED_MODEL_DIR);
  const backend = createReferenceBackend(model);
  const r = await generate(backend, { prompt: readGolden()[0].user, maxNewTokens: 400, sampling: GREEDY, cache: { policy: 'head-choice', budget: 48, mode: 'think' } });
  expect(r.generatedIds.length).toBeGreaterThan(48);
  expect(backend.evictions().length).toBeGreaterThan(0);
  const report = backend.eviction().runner.policy.report!();
  const layers = model.config.numLayers;
  expect(Object.keys(report)).toEqual(Array.from({ length: layers }, (_, l) => HEAD_CHOICE_RULES.map((r) => `layer ${l}/${r}`)).flat());
  const decisions = Object.values(report).reduce((a, b) => a + b, 0);
  expect(decisions).toBeGreaterThan(0);
  expect(followed(report).length).toBeGreaterThan(1); // the heads do not all stay on random
});
