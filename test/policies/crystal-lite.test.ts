import { expect, test } from 'vitest';
import { createCrystalLite, hitThreshold, NEVER_HIT } from '../../src/policies/crystal-lite.ts';
import { makeHead, makeState, victimPosition } from './fixture.ts';

test('the hit set is the smallest set of entries holding at least p of the mass (ties included)', () => {
  const a = Float64Array.from([0.05, 0.5, 0.2, 0.2, 0.05]);
  const scratch = new Float64Array(8);
  expect(hitThreshold(a, 5, 0.5, scratch)).toBe(0.5); // {0.5}
  expect(hitThreshold(a, 5, 0.6, scratch)).toBe(0.2); // {0.5, 0.2, 0.2}: both 0.2s hit
  expect(hitThreshold(a, 5, 0.95, scratch)).toBe(0.05);
});

test('LRFU: hits update CRF = lambda^(t - tau) * CRF + 1, misses decay lazily, the lowest decayed CRF goes', () => {
  const policy = createCrystalLite({ lambda: 0.5, p: 0.6 });
  const state = makeState(policy);
  const head = makeHead([0, 1, 2]);
  for (let s = 0; s < 3; s++) policy.admit!(state, s, s, 0); // CRF 0, tau = own position
  // t=2: mass [0.7, 0.2, 0.1] -> hit {0}: CRF0 = 0.5^2 * 0 + 1 = 1, tau0 = 2
  policy.observe!(state, head, Float64Array.from([0.7, 0.2, 0.1]), 2);
  // t=3: mass [0.1, 0.3, 0.6] -> hit {2, 1} (0.6 < 0.6? no: 0.6 >= 0.6 alone): hit {2}
  policy.observe!(state, head, Float64Array.from([0.1, 0.3, 0.6]), 3);
  expect([state.score[0], state.stamp[0], state.score[2], state.stamp[2]]).toEqual([1, 2, 1, 3]);
  expect(state.score[1]).toBe(0);
  // t=5: decayed CRF: pos0 1 * 0.5^3 = 0.125, pos1 0, pos2 1 * 0.5^2 = 0.25 -> pos1 goes
  expect(victimPosition(policy, state, head, 5)).toBe(1);
  // t=4 hit on pos0 again: CRF0 = 0.5^2 * 1 + 1 = 1.25 (frequency counts), tau0 = 4
  policy.observe!(state, head, Float64Array.from([0.9, 0.05, 0.05]), 4);
  expect(state.score[0]).toBeCloseTo(1.25, 12);
  const scores = new Float64Array(3);
  policy.score(state, head, 5, scores);
  // Scores are the decayed CRF's log2 (never hit: NEVER_HIT, below everything).
  expect(scores[0]).toBeCloseTo(Math.log2(0.625), 12);
  expect(Array.from(scores.subarray(1))).toEqual([NEVER_HIT, -2]);
});

test('decayed CRFs within the near-tie are equal: the lowest logical slot goes', () => {
  const policy = createCrystalLite();
  const state = makeState(policy);
  const head = makeHead([10, 11, 12]);
  // Slots 0 and 1 share their recent hits and differ by a hit 50 steps back (0.6^50 ~ 8e-12), which
  // f32 cannot see; slot 2 sits 0.1% above them, far beyond the near-tie of 1e-4 on the log2 scale.
  state.score.set([1.56736 + 8e-12, 1.56736, 1.56736 * 1.001]);
  state.stamp.set([20, 20, 20]);
  expect(victimPosition(policy, state, head, 40)).toBe(10); // slot 0, though slot 1 is lower by 8e-12
  state.score[2] = 1.56736 * 0.999;
  expect(victimPosition(policy, state, head, 40)).toBe(12);
});
