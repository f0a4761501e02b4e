/**
 * Expected future attention (policies/expected-attention.ts) on hand-made heads of dimension 2
 * (one rotary pair): the closed form against the statistics, the rotation to future positions,
 * the variance term, and the value-norm weight; and answer-probe's base rule 2 built on it.
 */
import { expect, test } from 'vitest';
import { createAnswerProbe } from '../../src/policies/answer-probe.ts';
import { expectedAttention, QueryStats } from '../../src/policies/expected-attention.ts';
import { createPolicyState, type PolicyState } from '../../src/policies/policy.ts';
import { makeHead } from './fixture.ts';

/** One query head over one KV head, dimension 2, rotary tables of angle `angle` at every position. */
function state(keys: number[][], values: number[][], angle = 0): PolicyState {
  const s = createPolicyState(keys.length, 0);
  s.keys = { data: Float64Array.from(keys.flat()), dim: 2 };
  s.values = { data: Float64Array.from(values.flat()), dim: 2 };
  s.rope = { cos: new Float64Array(100).fill(Math.cos(angle)), sin: new Float64Array(100).fill(Math.sin(angle)), heads: 1, kvHeads: 1 };
  return s;
}

test('the closed form: E[exp(q.k/sqrt d)] over the horizon, shared over the head, times ||v||', () => {
  const stats = new QueryStats(0.5);
  stats.observe(0, Float64Array.from([1, 0]));
  stats.observe(0, Float64Array.from([3, 0])); // mean (2, 0); variance (1, 0) -> pair-averaged 0.5
  const { mean, variance } = stats.of(0)!;
  expect(Array.from(mean)).toEqual([2, 0]);
  expect(Array.from(variance)).toEqual([1, 0]);
  const keys = [[1, 0], [0, 1], [-1, 0]];
  const values = [[1, 0], [0, 2], [1, 0]];
  const out = new Float64Array(3);
  expectedAttention(stats, state(keys, values), makeHead([0, 1, 2]), 5, 4, out);
  // Identity rotation: every horizon step the same; log-term = mu.k / sqrt2 + 0.5 * 0.5 * |k|^2 / 2.
  const logits = keys.map(([a, b]) => (2 * a) / Math.SQRT2 + (0.25 * (a * a + b * b)) / 2);
  const z = logits.reduce((s, l) => s + Math.exp(l), 0);
  const want = logits.map((l, i) => (Math.exp(l) / z) * Math.hypot(...values[i]));
  out.forEach((x, i) => expect(x).toBeCloseTo(want[i], 12));
});

test('the mean is rotated to the future positions: a quarter turn favours the key it turns to', () => {
  const stats = new QueryStats(0.9);
  stats.observe(0, Float64Array.from([1, 0]));
  const keys = [[1, 0], [0, 1]];
  const values = [[1, 0], [1, 0]];
  const still = new Float64Array(2);
  const turned = new Float64Array(2);
  expectedAttention(stats, state(keys, values, 0), makeHead([0, 1]), 3, 2, still);
  expectedAttention(stats, state(keys, values, Math.PI / 2), makeHead([0, 1]), 3, 2, turned);
  expect(still[0]).toBeGreaterThan(still[1]);
  expect(turned[1]).toBeGreaterThan(turned[0]);
});

test('answer-probe base 2: expected attention ranks, weight 0 runs no probe, the probe still dominates with weight', () => {
  expect(createAnswerProbe({ base: 2, weight: 0 }).probe).toBeUndefined();
  expect(createAnswerProbe({ base: 2 }).probe).toEqual({ answer: 3, look: 0, decay: 0.98 });
  const policy = createAnswerProbe({ base: 2, weight: 10, recent: 0 });
  const s = state([[1, 0], [0, 1], [-1, 0]], [[1, 0], [1, 0], [1, 0]]);
  policy.observeQueries!(s, 0, Float64Array.from([2, 0]), 0);
  const out = new Float64Array(3);
  policy.score(s, makeHead([0, 1, 2]), 5, out);
  expect(out[0]).toBeGreaterThan(out[1]);
  expect(out[1]).toBeGreaterThan(out[2]);
  s.probe[2] = 0.5; // the probe marks the least expected entry: it is kept first
  policy.score(s, makeHead([0, 1, 2]), 5, out);
  expect(out[2]).toBeGreaterThan(Math.max(out[0], out[1]));
});
