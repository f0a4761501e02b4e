import { expect, test } from 'vitest';
import { createSnapkvD } from '../../src/policies/snapkv-d.ts';
import { makeHead, makeState, victimPosition } from './fixture.ts';

test('snapkv-d sums the last `window` queries and average-pools over neighbouring positions', () => {
  const policy = createSnapkvD({ window: 2, pool: 3, recent: 1 });
  const state = makeState(policy);
  const head = makeHead([0, 1, 2, 3, 4]);
  // Three queries; only the last two (positions 5 and 6) are in the window of 2.
  policy.observe!(state, head, Float64Array.from([9, 9, 9, 9, 9]), 4);
  policy.observe!(state, head, Float64Array.from([0.4, 0.1, 0.1, 0.2, 0.2]), 5);
  policy.observe!(state, head, Float64Array.from([0.4, 0.0, 0.2, 0.1, 0.3]), 6);
  // Window sums: [0.8, 0.1, 0.3, 0.3, 0.5]; pooled with kernel 3 (divided by 3, zero padding):
  // [0.3, 0.4, 0.2333, 0.3667, 0.2667]
  const scores = new Float64Array(5);
  policy.score(state, head, 7, scores);
  expect(Array.from(scores).map((v) => +v.toFixed(4))).toEqual([0.3, 0.4, 0.2333, 0.3667, 0.2667]);
  // pos 4 is recent (window 1): pos 2 goes.
  expect(victimPosition(policy, state, head, 7)).toBe(2);
});
