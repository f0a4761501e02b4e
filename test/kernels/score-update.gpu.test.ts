import { describe, expect, test } from 'vitest';
import { createBufferFrom, readF32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { createStepBuffer, writeStep } from '../../src/gpu/step-params.ts';
import { scoreUpdate } from '../../src/kernels/score-update.ts';
import { scoreUpdateRef } from '../../src/kernels/score-update.ref.ts';
import { createCrystalLite, CRYSTAL_DEFAULTS } from '../../src/policies/crystal-lite.ts';
import { createH2o } from '../../src/policies/h2o.ts';
import { createSnapkvD } from '../../src/policies/snapkv-d.ts';
import type { EvictionPolicy } from '../../src/policies/policy.ts';
import { createTova } from '../../src/policies/tova.ts';
import { expectClose, seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';
import { gpuRuleOf } from '../helpers/gpu-rule.ts';
import { layerTables, shuffledPagedGeometry } from '../helpers/paged-fixture.ts';

// Scores are sums of <= 5 rows of group means (h2o), one group mean (tova) or LRFU values <= 1/(1-lambda)
// (crystal, f32 pow): f32 against f64 lands within a few ulps, so 1e-5 relative (+1e-6 absolute for
// values near 0). One wrong hit or a missed row moves a score by >= 1e-3. Stamps are integers: exact.
// The window ring holds single group means (the same tolerance); a value in the wrong ring cell
// or a stale cell left by a new entry is off by far more.
const TOL = { atol: 1e-6, rtol: 1e-5 };
const PAGE_SIZE = 16;

interface Case {
  name: string;
  policy: 'h2o' | 'tova' | 'crystal' | 'window'; // score-update's rule, run by the policy foldFor gives
  heads: number;
  kvHeads: number;
  lengths: number[]; // logical slots per KV head (headSlots)
  rows: number;
  posStart: number;
  holeRate: number;
  p?: number; // crystal
  lambda?: number;
  window?: number; // window rule: ring size
  allHoles?: number; // a KV head whose every slot is a hole
  wg?: number;
}

const cases: Case[] = [];
for (const policy of ['h2o', 'tova', 'crystal', 'window'] as const) {
  cases.push(
    { name: `${policy} GQA 1, decode`, policy, heads: 4, kvHeads: 4, lengths: [1, 15, 16, 40], rows: 1, posStart: 200, holeRate: 0.1 },
    { name: `${policy} GQA 2, tile of 5`, policy, heads: 4, kvHeads: 2, lengths: [100, 17], rows: 5, posStart: 150, holeRate: 0.2 },
    { name: `${policy} GQA 4, tile of 5, wg 32, one head empty and one all holes`, policy, heads: 12, kvHeads: 3,
      lengths: [0, 20, 70], rows: 5, posStart: 90, holeRate: 0.15, allHoles: 1, wg: 32 },
    { name: `${policy} GQA 4, decode, p 0.6`, policy, heads: 8, kvHeads: 2, lengths: [33, 64], rows: 1, posStart: 70,
      holeRate: 0.1, p: 0.6, lambda: 0.8 },
  );
}
// The ring wraps inside a tile: 5 rows into a ring of 4 (row 0's cell is overwritten by row 4).
cases.push({ name: 'window, ring 4 wraps in a tile of 5', policy: 'window', heads: 4, kvHeads: 2, lengths: [50, 9], rows: 5,
  posStart: 61, holeRate: 0.1, window: 4 });
for (const c of cases) if (c.policy === 'window') c.window ??= 32;
// crystal-lite's lambda and p: its defaults where a case sets none.
for (const c of cases) {
  if (c.policy !== 'crystal') continue;
  c.lambda ??= CRYSTAL_DEFAULTS.lambda;
  c.p ??= CRYSTAL_DEFAULTS.p;
}

/**
 * The policy whose GPU rule (gpu.update: the branch and its constants) the kernel runs, and whose
 * admit and observe are that branch's CPU mirror (the window rule's ring is snapkv-d's).
 */
function foldFor(c: Case): EvictionPolicy {
  if (c.policy === 'h2o') return createH2o();
  if (c.policy === 'tova') return createTova();
  if (c.policy === 'window') return createSnapkvD({ window: c.window });
  return createCrystalLite({ lambda: c.lambda, p: c.p });
}

/** Mass of the entries of a >= each distinct value, none within 1e-5 of p * total: no near-ties. */
function checkNoNearTie(a: number[], p: number): void {
  const sorted = [...a].sort((x, y) => y - x);
  const total = sorted.reduce((x, y) => x + y, 0);
  let mass = 0;
  for (let i = 0; i < sorted.length; i++) {
    mass += sorted[i];
    if (i + 1 < sorted.length && sorted[i + 1] === sorted[i]) continue;
    if (Math.abs(mass - p * total) <= 1e-5 * total) throw new Error(`test data has a near-tie at mass ${mass}`);
  }
}

describe('score-update', () => {
  cases.forEach((c, ci) => {
    test(c.name, async () => {
      const gpu = await testGpu();
      const { heads, kvHeads, rows: T, posStart } = c;
      const group = heads / kvHeads;
      const rand = seededRandom(500 + ci);
      const randInt = (n: number) => Math.floor(rand() * n);
      // Two layers' pages plus spares, shuffled (this layer is bound as the second slice where sliced).
      const tables = layerTables(shuffledPagedGeometry(rand, kvHeads, c.lengths, PAGE_SIZE), c.lengths);
      const { maxPages, maxSlots, numSlots, blockTable, headSlots, phys } = tables;
      const slotPos = new Int32Array(numSlots);
      for (let i = 0; i < numSlots; i++) slotPos[i] = randInt(posStart + T);
      const newSlots: number[] = [];
      for (let g = 0; g < kvHeads; g++) {
        const len = c.lengths[g];
        // The tile's tokens go into random logical slots; the rest are distinct older positions or holes.
        const tileSlots = new Map<number, number>();
        while (c.allHoles !== g && tileSlots.size < Math.min(T, len)) tileSlots.set(randInt(len), tileSlots.size);
        const older = Array.from({ length: posStart }, (_, i) => i).sort(() => rand() - 0.5);
        for (let s = 0; s < len; s++) {
          const t = tileSlots.get(s);
          if (t !== undefined) {
            slotPos[phys(g, s)] = posStart + t;
            newSlots.push(phys(g, s));
          } else if (rand() < c.holeRate || c.allHoles === g) slotPos[phys(g, s)] = -1;
          else slotPos[phys(g, s)] = older.pop()!;
        }
      }

      // State before the step: old entries hold scores and past stamps; every other slot garbage
      // (new entries must be admitted before use).
      const W = c.window ?? 1;
      const score = new Float32Array(numSlots);
      const stamp = new Float32Array(numSlots);
      const history = new Float32Array(numSlots * W).map(() => rand()); // old rings; new entries' must be cleared
      for (let i = 0; i < numSlots; i++) {
        score[i] = slotPos[i] >= 0 && slotPos[i] < posStart ? rand() * 2 : 99;
        stamp[i] = slotPos[i] >= 0 && slotPos[i] < posStart ? slotPos[i] + randInt(posStart - slotPos[i]) : 77;
      }

      // Probabilities: masked or unused entries hold garbage the kernel must not read.
      const probs = new Float32Array(T * heads * maxSlots).fill(5);
      const tied: Array<[number, number, number]> = []; // (row, slot, slot) tied at 0.2 (crystal)
      for (let t = 0; t < T; t++) {
        for (let g = 0; g < kvHeads; g++) {
          const valid: number[] = [];
          for (let s = 0; s < c.lengths[g]; s++) {
            const pos = slotPos[phys(g, s)];
            if (pos >= 0 && pos <= posStart + t) valid.push(s);
          }
          for (const s of valid) {
            for (let q = 0; q < group; q++) {
              probs[(t * heads + g * group + q) * maxSlots + s] = c.policy === 'crystal' ? rand() * 0.01 : rand() * rand();
            }
          }
          // crystal: one heavy entry and an exact tie below it (the same value in every head of the group).
          if (c.policy === 'crystal' && valid.length >= 3) {
            const pick = [...valid].sort(() => rand() - 0.5).slice(0, 3);
            [0.3, 0.2, 0.2].forEach((v, k) => {
              for (let q = 0; q < group; q++) probs[(t * heads + g * group + q) * maxSlots + pick[k]] = v;
            });
            tied.push([t, phys(g, pick[1]), phys(g, pick[2])]);
          }
          if (c.policy === 'crystal') {
            const a = valid.map((s) => {
              let sum = 0;
              for (let q = 0; q < group; q++) sum += probs[(t * heads + g * group + q) * maxSlots + s];
              return sum / group;
            });
            checkNoNearTie(a, c.p ?? 0.9);
          }
        }
      }

      const dev = gpu.device;
      const step = createStepBuffer(dev);
      writeStep(dev, step, T, posStart);
      const scoreBuf = createBufferFrom(dev, 'score', score);
      const stampBuf = createBufferFrom(dev, 'stamp', stamp);
      const historyBuf = createBufferFrom(dev, 'history', history);
      const fold = foldFor(c);
      const rule = gpuRuleOf(fold).update!;
      expect(rule.rule).toBe(c.policy);
      const d = scoreUpdate(gpu, {
        rule,
        window: c.window,
        heads,
        kvHeads,
        pageSize: PAGE_SIZE,
        maxPages,
        step,
        probs: createBufferFrom(dev, 'probs', probs),
        slotPos: createBufferFrom(dev, 'slotPos', slotPos),
        ...tables.bind(dev),
        score: scoreBuf,
        stamp: stampBuf,
        history: historyBuf,
        wg: c.wg,
      });
      await runDispatches(gpu, [d], T);
      const gotScore = await readF32(dev, scoreBuf, numSlots);
      const gotStamp = await readF32(dev, stampBuf, numSlots);
      const gotHistory = await readF32(dev, historyBuf, numSlots * W);
      const want = scoreUpdateRef({
        fold,
        heads,
        kvHeads,
        pageSize: PAGE_SIZE,
        maxPages,
        rows: T,
        posStart,
        probs,
        slotPos,
        blockTable,
        headSlots,
        score,
        stamp,
        history,
      });
      expectClose('score', gotScore, want.score, TOL);
      expectClose('stamp', gotStamp, want.stamp, { atol: 0 });
      expectClose('history', gotHistory, want.history, TOL);
      // The data exercises what it claims: new entries admitted, and (crystal) the tie hit on both.
      for (const slot of newSlots) expect(want.score[slot]).not.toBe(99);
      if (c.policy === 'window') {
        // New entries' rings were cleared: the cells no row of the step wrote are 0, not the old garbage.
        const written = new Set(Array.from({ length: T }, (_, t) => (posStart + t) % W));
        const unwritten = Array.from({ length: W }, (_, r) => r).filter((r) => !written.has(r));
        expect(unwritten.length > 0).toBe(W > T);
        for (const slot of newSlots) for (const r of unwritten) expect(gotHistory[slot * W + r]).toBe(0);
      }
      if (c.policy === 'crystal') {
        expect(tied.length).toBeGreaterThan(0);
        const lastRow = tied.filter(([t]) => t === T - 1);
        for (const [, s1, s2] of lastRow) {
          expect(gotStamp[s1]).toBe(posStart + T - 1);
          expect(gotStamp[s2]).toBe(posStart + T - 1);
        }
      }
    });
  });
});
