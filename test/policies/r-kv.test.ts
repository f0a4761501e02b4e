import { expect, test } from 'vitest';
import { createRkv } from '../../src/policies/r-kv.ts';
import { makeHead, makeState, victimPosition } from './fixture.ts';

// Four keys of dim 2: positions 0-2 point the same way (a repeated thought), 3 is different.
const KEYS = [1, 0, 0.99, 0.14, 0.98, 0.2, 0, 1];

function setup(lambda: number, attention: number[]) {
  const policy = createRkv({ lambda, window: 1, pool: 1, burst: 0.25 });
  const state = makeState(policy);
  state.keys = { data: KEYS, dim: 2 };
  const head = makeHead([0, 1, 2, 3]);
  policy.observe!(state, head, Float64Array.from(attention), 4);
  return { policy, state, head };
}

test('with equal attention, the most redundant key goes and the unique key scores highest', () => {
  const { policy, state, head } = setup(0.1, [0.25, 0.25, 0.25, 0.25]);
  const scores = new Float64Array(4);
  policy.score(state, head, 5, scores);
  // Unit keys: cos(0,1) .990, cos(0,2) .980, cos(1,2) .998, cos(1,3) .140, cos(2,3) .200, cos(0,3) 0.
  // Each row drops its similarity to its newest similar key (> 0.5): row 0 drops 2, row 1 drops 2,
  // row 2 drops 1. Mean over 4: [.2475, .2825, .295, .085]: position 2 is the most redundant.
  const red = [0.99 / 4, (0.99 + 0.14) / 4, (0.98 + 0.2) / 4, 0.34 / 4];
  const z = red.reduce((s, r) => s + Math.exp(r), 0);
  const want = red.map((r) => 0.1 * 0.25 - 0.9 * (Math.exp(r) / z));
  scores.forEach((v, i) => expect(v).toBeCloseTo(want[i], 2));
  expect(scores[3]).toBeGreaterThan(Math.max(scores[0], scores[1], scores[2]));
  // The window of 1 protects position 3; among the rest, position 2 goes.
  expect(victimPosition(policy, state, head, 5)).toBe(2);
});

test('with lambda 1 the score is the attention alone', () => {
  const { policy, state, head } = setup(1, [0.4, 0.1, 0.3, 0.2]);
  const scores = new Float64Array(4);
  policy.score(state, head, 5, scores);
  expect(Array.from(scores)).toEqual([0.4, 0.1, 0.3, 0.2]);
});
