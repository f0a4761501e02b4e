import { describe, expect, test } from 'vitest';
import { createBufferFrom, readBuffer } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { createStepBuffer, writeStep } from '../../src/gpu/step-params.ts';
import { rowArgmax } from '../../src/kernels/row-argmax.ts';
import { sampleRef } from '../../src/kernels/sample.ref.ts';
import { randomArray, seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';

// An exact answer: the kernel must choose the reference's token (greedy: the lowest index among
// the maxima) in every row, ties included; rows past step.rows keep what they held.
const GREEDY = { temperature: 0, topP: 1, u: 0 };

const cases = [
  { name: 'vocab 104, 9 rows, wg 4', vocab: 104, rows: 9, wg: 4 },
  { name: 'vocab 1000, 3 rows, ties at the maximum, wg 256', vocab: 1000, rows: 3, wg: 256, ties: true },
  { name: 'vocab 7 < wg 64, every logit equal in one row', vocab: 7, rows: 4, wg: 64, flat: true },
];

describe('row-argmax', async () => {
  const gpu = await testGpu();
  cases.forEach((c, ci) => {
    test(c.name, async () => {
      const rand = seededRandom(90 + ci);
      const logits = randomArray(c.rows * c.vocab, 300 + ci, 5);
      for (let t = 0; c.ties && t < c.rows; t++) {
        // The maximum twice, far apart: the lower index wins.
        const [a, b] = [Math.floor(rand() * 100), 500 + Math.floor(rand() * 400)];
        logits[t * c.vocab + a] = logits[t * c.vocab + b] = 10;
      }
      if (c.flat) logits.fill(0.25, 0, c.vocab);
      const dev = gpu.device;
      const step = createStepBuffer(dev);
      writeStep(dev, step, c.rows, 0);
      const tokens = createBufferFrom(dev, 'tokens', new Uint32Array(c.rows + 2).fill(77777));
      await runDispatches(gpu, [rowArgmax(gpu, { vocab: c.vocab, step, logits: createBufferFrom(dev, 'logits', logits), tokens, wg: c.wg })], c.rows);
      const got = Array.from(new Uint32Array(await readBuffer(dev, tokens, (c.rows + 2) * 4)));
      const want = Array.from({ length: c.rows }, (_, t) => sampleRef(logits.subarray(t * c.vocab, (t + 1) * c.vocab), GREEDY));
      expect(got).toEqual([...want, 77777, 77777]);
      if (c.flat) expect(want[0]).toBe(0);
    });
  });
});
