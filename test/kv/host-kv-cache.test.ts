/** The CPU cache's policy state: a grown pool keeps it where it is, a reset clears it, the probe's scores included. */
import { expect, test } from 'vitest';
import { HostKvCache } from '../../src/kv/host-kv-cache.ts';
import { kvGeometry } from '../../src/kv/kv-layout.ts';

const geometry = kvGeometry({ numLayers: 1, numKvHeads: 2, headDim: 4, pageSize: 4, capacityPerHead: 8, maxStepTokens: 4 });
const larger = { ...geometry, numPages: geometry.numPages + 4 }; // a pool grown by pages, as continuationGeometry grows it

test('grownTo keeps every per-slot score and the rotary tables; reset clears the scores', () => {
  const cache = new HostKvCache(geometry, 2, false);
  cache.append(0, 3);
  const rope = { cos: [1], sin: [0], heads: 2, kvHeads: 2 };
  cache.state.rope = rope;
  for (const a of [cache.state.score, cache.state.stamp, cache.state.probe, cache.state.history]) a.forEach((_, i) => (a[i] = i + 1));
  const grown = cache.grownTo(larger);
  for (const k of ['score', 'stamp', 'probe', 'history'] as const) {
    expect(Array.from(grown.state[k].subarray(0, cache.state[k].length)), k).toEqual(Array.from(cache.state[k]));
  }
  expect(grown.state.rope).toBe(rope);
  grown.reset();
  for (const k of ['score', 'stamp', 'probe', 'history'] as const) expect(grown.state[k].every((x) => x === 0), k).toBe(true);
});
