import { expect, test } from 'vitest';
import { createH2o } from '../../src/policies/h2o.ts';
import { makeHead, makeState, victimPosition } from './fixture.ts';

test('h2o accumulates attention over queries and evicts the least, outside the recent window', () => {
  const policy = createH2o({ recent: 2 });
  const state = makeState(policy);
  const head = makeHead([0, 1, 2, 3, 4]);
  // Two queries. Sums: pos0 0.5+0.1=0.6, pos1 0.1+0.1=0.2, pos2 0.3+0.2=0.5, pos3 0.1+0.3=0.4, pos4 0+0.3=0.3
  policy.observe!(state, head, Float64Array.from([0.5, 0.1, 0.3, 0.1, 0]), 3);
  policy.observe!(state, head, Float64Array.from([0.1, 0.1, 0.2, 0.3, 0.3]), 4);
  expect(Array.from(state.score.subarray(0, 5)).map((v) => +v.toFixed(6))).toEqual([0.6, 0.2, 0.5, 0.4, 0.3]);
  expect(victimPosition(policy, state, head, 5)).toBe(1);
  // Without pos1 the lowest is pos4 (0.3), but it is in the recent window: pos3 (0.4) is recent too,
  // so pos2 (0.5) goes.
  const rest = makeHead([0, 2, 3, 4], [0, 2, 3, 4]);
  expect(victimPosition(policy, state, rest, 5)).toBe(2);
});
