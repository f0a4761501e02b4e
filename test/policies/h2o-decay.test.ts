import { expect, test } from 'vitest';
import { createH2o } from '../../src/policies/h2o.ts';
import { createPolicy } from '../../src/policies/registry.ts';
import { makeHead, makeState, victimPosition } from './fixture.ts';

test('h2o-decay: score <- decay * score + attention per query, so old heavy hitters fade', () => {
  const policy = createPolicy('h2o-decay', { decay: 0.5, recent: 0 });
  const state = makeState(policy);
  const head = makeHead([0, 1, 2]);
  policy.observe!(state, head, Float64Array.from([0.8, 0.1, 0.1]), 2); // position 0 was a heavy hitter
  for (let t = 3; t < 8; t++) policy.observe!(state, head, Float64Array.from([0, 0.3, 0.7]), t);
  expect(state.score[0]).toBeCloseTo(0.8 * 0.5 ** 5, 12);
  expect(victimPosition(policy, state, head, 8)).toBe(0); // faded below position 1's steady 0.3
  // After one more query, plain h2o still keeps the early heavy hitter (0.8 against 0.4) where a strong decay lets it go.
  const plain = createH2o({ recent: 0 });
  const s2 = makeState(plain);
  plain.observe!(s2, head, Float64Array.from([0.8, 0.1, 0.1]), 2);
  plain.observe!(s2, head, Float64Array.from([0, 0.3, 0.7]), 3);
  expect(victimPosition(plain, s2, head, 4)).toBe(1); // 0.8 against 0.4
  const decayed = createPolicy('h2o-decay', { decay: 0.25, recent: 0 });
  const s3 = makeState(decayed);
  decayed.observe!(s3, head, Float64Array.from([0.8, 0.1, 0.1]), 2);
  decayed.observe!(s3, head, Float64Array.from([0, 0.3, 0.7]), 3);
  expect(victimPosition(decayed, s3, head, 4)).toBe(0); // 0.2 against 0.325
});

test('h2o is the decay-1 case exactly', () => {
  const a = createH2o();
  const b = createPolicy('h2o-decay', { decay: 1 });
  const sa = makeState(a);
  const sb = makeState(b);
  const head = makeHead([0, 1, 2, 3]);
  for (let t = 3; t < 40; t++) {
    const att = Float64Array.from([Math.sin(t) ** 2, 0.1 / t, 0.3, 1 / 3]);
    a.observe!(sa, head, att, t);
    b.observe!(sb, head, att, t);
  }
  expect(Array.from(sb.score)).toEqual(Array.from(sa.score));
});
