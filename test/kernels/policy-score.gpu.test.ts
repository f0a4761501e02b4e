import { describe, expect, test } from 'vitest';
import { createBufferFrom, readF32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { policyScore } from '../../src/kernels/policy-score.ts';
import { rankScratchWords } from '../../src/kernels/position-rank.ts';
import { policyScoreRef } from '../../src/kernels/policy-score.ref.ts';
import { createRkv, RKV_DEFAULTS } from '../../src/policies/r-kv.ts';
import { createSnapkvD } from '../../src/policies/snapkv-d.ts';
import { floatToHalf, roundHalf } from '../../src/gpu/half.ts';
import { expectClose, seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';
import { gpuRuleOf } from '../helpers/gpu-rule.ts';
import { layerTables, shuffledPagedGeometry } from '../helpers/paged-fixture.ts';

// snapkv-d's scores are sums of <= window * pool attention values divided by pool, r-kv's a mean
// of <= 8 values max-pooled minus a softmax of summed cosines: f32 against f64 lands within a few
// ulps of the sums, so 1e-5 relative + 1e-6 absolute. The data keeps every cosine at least 1e-3
// away from r-kv's threshold, so no near-tie decides the newest similar key; one wrong newest key,
// neighbour or missing entry moves a score by > 1e-3 relative. Heads that are not full keep their
// old scores exactly.
const TOL = { atol: 1e-6, rtol: 1e-5 };
const PAGE_SIZE = 16;

interface Case {
  name: string;
  rule: 'snapkv-d' | 'r-kv'; // policy-score's rule, run by that policy
  window: number;
  pool: number;
  headDim: number;
  lengths: number[]; // logical slots per KV head; head 1 is not full
  holeRate: number;
  duplicates?: boolean; // some positions held twice in a head: neighbours ordered by (position, slot)
  wg?: number;
}

const cases: Case[] = [
  { name: 'snapkv-d, window 32 pool 5', rule: 'snapkv-d', window: 32, pool: 5, headDim: 4, lengths: [40, 17, 100, 3, 64], holeRate: 0.1 },
  { name: 'snapkv-d, window 8 pool 7, duplicates, wg 32', rule: 'snapkv-d', window: 8, pool: 7, headDim: 4, lengths: [70, 20, 33],
    holeRate: 0.2, duplicates: true, wg: 32 },
  { name: 'snapkv-d, pool 1 (no pooling), one entry', rule: 'snapkv-d', window: 4, pool: 1, headDim: 4, lengths: [1, 5, 16], holeRate: 0 },
  { name: 'r-kv, window 8 pool 7, headDim 32', rule: 'r-kv', window: 8, pool: 7, headDim: 32, lengths: [40, 17, 97], holeRate: 0.1 },
  { name: 'r-kv, headDim 8, duplicates, wg 32', rule: 'r-kv', window: 8, pool: 7, headDim: 8, lengths: [65, 9, 30, 2], holeRate: 0.15,
    duplicates: true, wg: 32 },
];

// Each case with f32 keys and with the f16 keys of 16-bit models (r-kv reads them; the reference
// reads the same halves).
for (const kvF16 of [false, true]) describe(`policy-score${kvF16 ? ', f16 keys' : ''}`, () => {
  cases.forEach((c, ci) => {
    if (kvF16 && (c.rule !== 'r-kv' || c.headDim % 2 !== 0)) return;
    test(c.name, async () => {
      const key = kvF16 ? roundHalf : (x: number) => x;
      const gpu = await testGpu();
      const kvHeads = c.lengths.length;
      const D = c.headDim;
      const W = c.window;
      const rand = seededRandom(1300 + ci);
      const randInt = (n: number) => Math.floor(rand() * n);
      const tables = layerTables(shuffledPagedGeometry(rand, kvHeads, c.lengths, PAGE_SIZE), c.lengths);
      const { maxPages, numSlots, blockTable, headSlots, phys } = tables;
      const maxPos = 400;
      // Unowned slots hold valid-looking positions, keys and history: reading one changes a score.
      const slotPos = new Int32Array(numSlots).map(() => randInt(maxPos));
      const history = new Float32Array(numSlots * W).map(() => rand() * rand());
      const kPool = new Float32Array(numSlots * D).map(() => key(rand() * 2 - 1));
      const held = new Uint32Array(kvHeads);
      for (let g = 0; g < kvHeads; g++) {
        const len = c.lengths[g];
        const positions = Array.from({ length: maxPos }, (_, i) => i).sort(() => rand() - 0.5);
        const entries: number[] = [];
        for (let s = 0; s < len; s++) {
          const slot = phys(g, s);
          if (rand() < c.holeRate) {
            slotPos[slot] = -1;
            continue;
          }
          slotPos[slot] = c.duplicates && entries.length > 0 && rand() < 0.2 ? slotPos[entries[randInt(entries.length)]] : positions.pop()!;
          if (rand() < 0.1) history.fill(0, slot * W, (slot + 1) * W); // never attended: pooling still sees neighbours
          // r-kv: a third of the keys are noisy copies of an earlier one, so some cosines pass the threshold.
          if (entries.length > 0 && rand() < 0.35) {
            const from = entries[randInt(entries.length)];
            for (let d = 0; d < D; d++) kPool[slot * D + d] = key(kPool[from * D + d] + (rand() - 0.5) * 0.6);
          }
          entries.push(slot);
        }
        held[g] = entries.length;
        if (c.rule === 'r-kv') {
          // No cosine within 1e-3 of the threshold (f32 keys, f64 check): nudge such a key away.
          for (const i of entries) {
            for (const j of entries) {
              if (i === j) continue;
              const cos = cosine(kPool, i, j, D);
              if (Math.abs(cos - RKV_DEFAULTS.threshold) < 1e-3) throw new Error(`test data has a near-threshold cosine ${cos}`);
            }
          }
        }
      }
      const limits = held.map((n, g) => (g === 1 ? n + 1 : g === 2 ? Math.max(0, n - 2) : n));
      const score = new Float32Array(numSlots).fill(7); // kept where a head is not full

      const dev = gpu.device;
      const scoreBuf = createBufferFrom(dev, 'score', score);
      // The policy's GPU rule (gpu.rescore: the branch and its constants) and its score, the branch's CPU mirror; r-kv at its defaults.
      const policy = c.rule === 'snapkv-d' ? createSnapkvD({ window: W, pool: c.pool }) : createRkv({ window: W, pool: c.pool });
      const rule = gpuRuleOf(policy).rescore!;
      expect(rule.rule).toBe(c.rule);
      const d = policyScore(gpu, {
        rule,
        window: W,
        headDim: D,
        kvHeads,
        pageSize: PAGE_SIZE,
        maxPages,
        slotPos: createBufferFrom(dev, 'slotPos', slotPos),
        ...tables.bind(dev),
        history: createBufferFrom(dev, 'history', history),
        kPool: createBufferFrom(dev, 'kPool', kvF16 ? Uint16Array.from(kPool, floatToHalf) : kPool),
        kvF16,
        limits: createBufferFrom(dev, 'limits', limits),
        counts: createBufferFrom(dev, 'counts', held),
        score: scoreBuf,
        positions: maxPos,
        // Scratch starts as garbage: the kernel must clear what it reads.
        rankScratch: createBufferFrom(dev, 'rankScratch', new Uint32Array(kvHeads * rankScratchWords(maxPos)).fill(0xa5a5a5a5)),
        order: createBufferFrom(dev, 'order', new Uint32Array(numSlots).fill(7)),
        wg: c.wg,
      });
      await runDispatches(gpu, [d], 1);
      const got = await readF32(dev, scoreBuf, numSlots);
      const scoreOf = policy.score;
      const want = policyScoreRef({
        scoreOf,
        headDim: D,
        kvHeads,
        pageSize: PAGE_SIZE,
        maxPages,
        slotPos,
        blockTable,
        headSlots,
        history,
        kPool,
        limits,
        counts: held,
        score,
      });
      expectClose('score', got, want, TOL);
      // The data exercises what it claims: head 1 kept its scores, the full heads got new ones,
      // and (r-kv) some entries have a similar newer key.
      for (let s = 0; s < c.lengths[1]; s++) if (slotPos[phys(1, s)] >= 0) expect(got[phys(1, s)]).toBe(7);
      expect(Array.from(want).filter((v) => v !== 7).length).toBeGreaterThan(10);
      if (c.rule === 'r-kv') {
        let similar = 0;
        for (let s = 0; s < c.lengths[0]; s++) {
          for (let o = 0; o < c.lengths[0]; o++) {
            const [i, j] = [phys(0, s), phys(0, o)];
            if (s !== o && slotPos[i] >= 0 && slotPos[j] >= 0 && cosine(kPool, i, j, D) > RKV_DEFAULTS.threshold) similar++;
          }
        }
        expect(similar).toBeGreaterThan(4);
      }
    });
  });
});

function cosine(k: Float32Array, i: number, j: number, D: number): number {
  let dot = 0;
  let ni = 0;
  let nj = 0;
  for (let d = 0; d < D; d++) {
    dot += k[i * D + d] * k[j * D + d];
    ni += k[i * D + d] ** 2;
    nj += k[j * D + d] ** 2;
  }
  return dot / ((Math.sqrt(ni) + 1e-8) * (Math.sqrt(nj) + 1e-8));
}
