import { expect, test } from 'vitest';
import { lowestPosition } from '../../src/kernels/select.ts';
import { createTova } from '../../src/policies/tova.ts';
import { kvGeometry } from '../../src/kv/kv-layout.ts';
import { hostEviction, makeHead, makeState, victimPosition } from './fixture.ts';

test('tova scores by the latest query only', () => {
  const policy = createTova();
  const state = makeState(policy);
  const head = makeHead([0, 1, 2]);
  policy.observe!(state, head, Float64Array.from([0.1, 0.6, 0.3]), 2);
  policy.observe!(state, head, Float64Array.from([0.5, 0.1, 0.4]), 3);
  expect(victimPosition(policy, state, head, 4)).toBe(1);
});

test('tova evicts one position per layer, by the mean over the layer heads', async () => {
  // One layer, two KV heads of one query head each, budget 3 (all mode).
  const g = kvGeometry({ numLayers: 1, numKvHeads: 2, headDim: 4, pageSize: 4, capacityPerHead: 8, maxStepTokens: 4 });
  const { cache, runner, driver } = hostEviction(createTova(), g, { mode: 'all', budget: 3 }, 2);
  const layout = cache.layout;
  const slotMap = cache.append(0, 4);
  runner.admit(0, slotMap, 4, 0);
  // Last query's probabilities (rows 1, heads 2, 8 logical slots): head 0 prefers pos 1 least,
  // head 1 prefers pos 2 least, but the mean is lowest at pos 2: (0.3 + 0.05) / 2 < (0.1 + 0.4) / 2.
  const probs = new Float64Array(2 * 8);
  probs.set([0.2, 0.1, 0.3, 0.4], 0);
  probs.set([0.25, 0.4, 0.05, 0.3], 8);
  runner.observe(0, probs, 1, 3, 2, 8);
  await driver.afterPrefill(4);
  expect(driver.decisions.map((d) => [d.kvHead, d.position])).toEqual([
    [0, 2],
    [1, 2],
  ]);
  expect(Array.from(layout.count)).toEqual([3, 3]);
});

test('tova: a near-tie (within 1e-5 relative of the lowest) goes to the older position, like a tie', () => {
  expect(createTova().nearTie).toBe(1e-5);
  const total = new Map([
    [9, 3.454864e-13], // the lowest
    [4, 3.454867e-13], // 9e-7 above it, older: goes
    [2, 3.4549e-13], // 1e-5 above: no tie
  ]);
  expect(lowestPosition(total, 1e-5)).toBe(4);
  expect(lowestPosition(total, 0)).toBe(9);
  expect(lowestPosition(new Map([[5, 0.2], [3, 0.2]]), 0)).toBe(3); // an exact tie: the older
  expect(lowestPosition(new Map([[5, -0.2], [3, -0.2 * (1 - 2e-6)]]), 1e-5)).toBe(3); // negative scores
  expect(lowestPosition(new Map(), 1e-5)).toBe(-1);
});
