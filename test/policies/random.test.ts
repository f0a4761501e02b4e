import { expect, test } from 'vitest';
import { randomScore } from '../../src/kernels/random-score.ts';
import { createRandom } from '../../src/policies/random.ts';
import { makeHead, makeState, victimPosition } from './fixture.ts';

test('the draw is lowbias32 of (seed, step, slot): 24-bit floats in [0, 1), reproducible', () => {
  const draws = Array.from({ length: 1000 }, (_, slot) => randomScore(3, 17, slot));
  for (const d of draws) {
    expect(d).toBeGreaterThanOrEqual(0);
    expect(d).toBeLessThan(1);
    expect(Number.isInteger(d * 2 ** 24)).toBe(true); // exact in f32
  }
  expect(Array.from({ length: 1000 }, (_, slot) => randomScore(3, 17, slot))).toEqual(draws);
  // Roughly uniform: each tenth of [0, 1) holds 100 +- 40 of 1000 draws.
  for (let b = 0; b < 10; b++) expect(Math.abs(draws.filter((d) => Math.floor(d * 10) === b).length - 100)).toBeLessThan(40);
  // lowbias32(0) = 0, so seed 0 at step 0 draws slot 0 as 0 exactly.
  expect(randomScore(0, 0, 0)).toBe(0);
});

test('random evicts an older entry chosen by the seed, afresh each step, never the 16 newest', () => {
  const policy = createRandom({ seed: 1 });
  const head = makeHead(Array.from({ length: 40 }, (_, i) => i));
  const state = makeState(policy);
  const victims = Array.from({ length: 30 }, (_, step) => victimPosition(policy, state, head, 40 + step));
  for (const v of victims) expect(v).toBeLessThan(40 - 16);
  expect(new Set(victims).size).toBeGreaterThan(10); // spread over the candidates, not one slot
  expect(Array.from({ length: 30 }, (_, step) => victimPosition(policy, state, head, 40 + step))).toEqual(victims);
  const other = createRandom({ seed: 2 });
  expect(Array.from({ length: 30 }, (_, step) => victimPosition(other, state, head, 40 + step))).not.toEqual(victims);
});
