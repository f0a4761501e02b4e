import { expect, test } from 'vitest';
import { kvGeometry } from '../../src/kv/kv-layout.ts';
import { createLaprox } from '../../src/policies/laprox.ts';
import { hostEviction, makeHead, makeState } from './fixture.ts';

test('laprox scores ||attention over the window|| x value norm, pooled over positions', () => {
  const policy = createLaprox({ window: 2, pool: 1, recent: 0 });
  const state = makeState(policy);
  const head = makeHead([0, 1, 2]);
  [2, 0.5, 1].forEach((norm, slot) => policy.admit!(state, slot, slot, norm));
  policy.observe!(state, head, Float64Array.from([0.3, 0.4, 0.3]), 3);
  policy.observe!(state, head, Float64Array.from([0.4, 0.3, 0.3]), 4);
  const scores = new Float64Array(3);
  policy.score(state, head, 5, scores);
  // ||(0.3, 0.4)|| = 0.5 -> 1.0; ||(0.4, 0.3)|| = 0.5 -> 0.25; ||(0.3, 0.3)|| = 0.4243 -> 0.4243
  expect(Array.from(scores).map((v) => +v.toFixed(4))).toEqual([1, 0.25, 0.4243]);
});

test('laprox compares layer-normalised scores across the model: one layer may give up more', async () => {
  // Two layers, one KV head each; total budget 2 x 2 = 4 entries (all mode) out of 6 held.
  const g = kvGeometry({ numLayers: 2, numKvHeads: 1, headDim: 4, pageSize: 4, capacityPerHead: 8, maxStepTokens: 4 });
  const { cache, runner, driver } = hostEviction(createLaprox({ window: 1, pool: 1, recent: 0 }), g, { mode: 'all', budget: 2 }, 1);
  const layout = cache.layout;
  const slotMap = cache.append(0, 3);
  // Layer 0: value norms 1, 1, 1; layer 1: value norms 10, 10, 10 (normalisation cancels the scale).
  runner.admit(0, slotMap, 3, 0, () => 1);
  runner.admit(1, slotMap, 3, 0, () => 10);
  const probs = (a: number[]) => Float64Array.from([...a, 0, 0, 0, 0, 0]);
  // Layer 0 attention is spread; layer 1 is concentrated on position 2.
  runner.observe(0, probs([0.3, 0.3, 0.4]), 1, 2, 1, 8);
  runner.observe(1, probs([0.05, 0.05, 0.9]), 1, 2, 1, 8);
  await driver.afterPrefill(3);
  // Normalised: layer 0 [0.9, 0.9, 1.2], layer 1 [0.15, 0.15, 2.7]: both evictions come from layer 1.
  expect(driver.decisions.map((d) => [d.layer, d.position])).toEqual([
    [1, 0],
    [1, 1],
  ]);
  expect(Array.from(layout.count)).toEqual([3, 1]);
});
