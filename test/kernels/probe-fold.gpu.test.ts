import { describe, expect, test } from 'vitest';
import { createBufferFrom, readF32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { createStepBuffer, writeStep } from '../../src/gpu/step-params.ts';
import { probeFold } from '../../src/kernels/probe-fold.ts';
import { probeFoldRef } from '../../src/kernels/probe-fold.ref.ts';
import { expectClose, seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';
import { layerTables, shuffledPagedGeometry } from '../helpers/paged-fixture.ts';

// Each seen value is a sum of at most 4 probabilities and a max: f32 against the f64 reference
// lands within ~1e-7, so 1e-6 absolute; a wrong row, head or block moves a score by ~0.1. Slots
// that are not a head's entries (holes, past headSlots, other layers' pages) keep their score.
const TOL = { atol: 1e-6 };

interface Case {
  name: string;
  heads: number;
  kvHeads: number;
  lengths: number[];
  rows: number;
  realRows: number;
  answerRows: number;
  decay: number;
  wg?: number;
}

const cases: Case[] = [
  { name: '1 real row, an answer block of 5 and a lookahead of 3, GQA 2', heads: 4, kvHeads: 2, lengths: [100, 37], rows: 9, realRows: 1, answerRows: 5, decay: 0.98 },
  { name: 'an answer block only, GQA 4, wg 4', heads: 8, kvHeads: 2, lengths: [16, 60], rows: 6, realRows: 1, answerRows: 5, decay: 0.5, wg: 4 },
  { name: 'a lookahead only (no answer rows), GQA 1, wg 256', heads: 3, kvHeads: 3, lengths: [5, 0, 70], rows: 4, realRows: 1, answerRows: 0, decay: 0.9, wg: 256 },
  { name: 'no probe rows (a prefill tile of 6): new entries start at 0, nothing folds', heads: 4, kvHeads: 2, lengths: [40, 41], rows: 6, realRows: 6, answerRows: 0, decay: 0.98 },
];

describe('probe-fold', async () => {
  const gpu = await testGpu();
  cases.forEach((c, ci) => {
    test(c.name, async () => {
      const rand = seededRandom(700 + ci);
      const pageSize = 16;
      const posStart = 200;
      const tables = layerTables(shuffledPagedGeometry(rand, c.kvHeads, c.lengths, pageSize), c.lengths, true);
      const { maxPages, maxSlots, numSlots, blockTable, headSlots, phys } = tables;
      // Entries: older positions, some holes, and the step's real rows (which start at 0).
      const slotPos = Int32Array.from({ length: numSlots }, () => Math.floor(rand() * posStart));
      let news = 0;
      c.lengths.forEach((len, g) => {
        for (let s = 0; s < len; s++) {
          const r = rand();
          if (r < 0.1) slotPos[phys(g, s)] = -1;
          else if (r < 0.2 && news < c.realRows) slotPos[phys(g, s)] = posStart + news++;
        }
      });
      const probs = Float32Array.from({ length: c.rows * c.heads * maxSlots }, () => rand() * rand());
      const before = Float32Array.from({ length: numSlots }, () => rand());
      const dev = gpu.device;
      const step = createStepBuffer(dev);
      writeStep(dev, step, c.rows, posStart, { realRows: c.realRows, answerRows: c.answerRows });
      const probe = createBufferFrom(dev, 'probe', before);
      const dispatch = probeFold(gpu, {
        heads: c.heads,
        kvHeads: c.kvHeads,
        pageSize,
        maxPages,
        decay: c.decay,
        step,
        probs: createBufferFrom(dev, 'probs', probs),
        slotPos: createBufferFrom(dev, 'slotPos', slotPos),
        ...tables.bind(dev),
        probe,
        wg: c.wg,
      });
      await runDispatches(gpu, [dispatch], c.rows);
      const got = await readF32(dev, probe, numSlots);
      const want = Float64Array.from(before);
      probeFoldRef({ ...c, pageSize, maxPages, posStart, probs, slotPos, blockTable, headSlots, probe: want });
      expectClose('probe', got, want, TOL);
      // The fixture exercises what it should: some scores changed, and every untouched slot kept its bits.
      const changed = got.filter((v, i) => v !== before[i]).length;
      expect(changed).toBeGreaterThan(0);
      for (let i = 0; i < numSlots; i++) if (want[i] === before[i]) expect(got[i], `slot ${i}`).toBe(before[i]);
    });
  });
});
