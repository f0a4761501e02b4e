import { describe, expect, test } from 'vitest';
import { createBufferFrom, readU32, UNIFORM } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import code from '../../shaders/select-victim.wgsl?raw';
import { NO_CANDIDATE, NOT_FULL, ruleConstantName, shaderRules } from '../../src/kernels/eviction-rules.ts';
import { selectVictim } from '../../src/kernels/select-victim.ts';
import { selectVictimRef } from '../../src/kernels/select-victim.ref.ts';
import type { EvictionPolicy } from '../../src/policies/policy.ts';
import { createPolicy, POLICY_IDS } from '../../src/policies/registry.ts';
import { seededRandom } from '../helpers/close.ts';
import { testGpu } from '../helpers/gpu.ts';
import { layerTables, shuffledPagedGeometry } from '../helpers/paged-fixture.ts';

// The victim is a choice, so it must match exactly. Scores are random f32 (no near-ties: distinct
// values differ by far more than crystal's f32 decay error, ~1e-7 relative, or the layer mean's
// rounding) plus exact ties copied from one entry to others, which both sides break by position.
const PAGE_SIZE = 16;

/**
 * Each select-victim rule with the first registered policy that runs it on the GPU (default
 * parameters; research policies too: answer-probe's probe rule):
 * the kernel takes the policy's gpu.victim (branch and constants), the reference its score, the
 * branch's CPU mirror. A policy with a new rule is tested here without a line of this file.
 */
const POLICY_OF_RULE = new Map<string, EvictionPolicy>();
for (const id of POLICY_IDS.filter((p) => p !== 'oracle')) { // the oracle needs a recorded run to exist, and is CPU-only
  const policy = createPolicy(id);
  const victim = 'cpuOnly' in policy.gpu ? undefined : policy.gpu.victim;
  if (victim && policy.granularity !== 'model' && !POLICY_OF_RULE.has(victim.rule)) POLICY_OF_RULE.set(victim.rule, policy);
}
const policyFor = (rule: string) => POLICY_OF_RULE.get(rule)!;
const victimRuleOf = (rule: string) => (policyFor(rule).gpu as { victim: { rule: string } }).victim;

interface Case {
  name: string;
  rule: string; // a select-victim rule (RULE_<NAME>)
  sinks: number;
  recent: number;
  protectBelow: number;
  lengths: number[]; // logical slots per KV head
  holeRate: number;
  ties: boolean; // copy scores (and stamps) between entries: exact ties
  duplicates?: boolean; // some positions held twice in a head: the cuts count with multiplicity
  cap?: number; // victims per head (bursts)
  nearTie?: number; // plants the lowest score, 5e-6 above it an entry that wins its ties, 3e-5 above another
  burst?: number;
  wg?: number;
}

const cases: Case[] = [];
// Every per-head rule (those with cases of their own below aside): position, score, crystal, ...
for (const rule of [...POLICY_OF_RULE.keys()].filter((r) => r !== 'layer' && r !== 'random')) {
  cases.push(
    { name: `${rule}, no protection`, rule, sinks: 0, recent: 0, protectBelow: 0, lengths: [40, 17, 100, 3, 64], holeRate: 0.1, ties: false },
    { name: `${rule}, sinks 4 recent 16`, rule, sinks: 4, recent: 16, protectBelow: 0, lengths: [40, 17, 100, 3, 64], holeRate: 0.2, ties: true },
    { name: `${rule}, recent 8 protectBelow 50, wg 32`, rule, sinks: 0, recent: 8, protectBelow: 50, lengths: [90, 20, 130], holeRate: 0.15, ties: true, wg: 32 },
    { name: `${rule}, sinks 2 recent 3 protectBelow 20, duplicates`, rule, sinks: 2, recent: 3, protectBelow: 20, lengths: [50, 33, 7], holeRate: 0.1, ties: true, duplicates: true },
    { name: `${rule}, sinks 33 (> WG 32, > some heads), wg 32`, rule, sinks: 33, recent: 1, protectBelow: 0, lengths: [100, 30, 60], holeRate: 0.05, ties: false, wg: 32 },
  );
}
// The layer rule (tova): every head of the layer holds the same positions in the same logical slots.
cases.push(
  { name: 'layer, no protection', rule: 'layer', sinks: 0, recent: 0, protectBelow: 0, lengths: [70, 70, 70], holeRate: 0.1, ties: true },
  { name: 'layer, sinks 2 recent 5 protectBelow 40, wg 32', rule: 'layer', sinks: 2, recent: 5, protectBelow: 40, lengths: [90, 90, 90, 90],
    holeRate: 0.2, ties: true, wg: 32 },
);
// Near-ties (tova's rule; the generic per-head rule too): the older of the near-tied entries goes.
cases.push(
  { name: 'layer, near-ties within 1e-5', rule: 'layer', sinks: 0, recent: 0, protectBelow: 0, lengths: [60, 60], holeRate: 0.1, ties: false,
    nearTie: 1e-5 },
  { name: 'score, near-ties within 1e-5, wg 32', rule: 'score', sinks: 0, recent: 2, protectBelow: 0, lengths: [50, 20, 40], holeRate: 0.1,
    ties: false, nearTie: 1e-5, wg: 32 },
);
// Bursts: want = excess + burst victims per full head, fewer candidates than that ends in NO_CANDIDATE.
cases.push(
  { name: 'score, burst 3 cap 7, recent 8', rule: 'score', sinks: 0, recent: 8, protectBelow: 0, lengths: [40, 17, 100, 11, 64],
    holeRate: 0.1, ties: true, cap: 7, burst: 3 },
  { name: 'score, burst 0 cap 40 (> wg 32), sinks 2 recent 3 protectBelow 20', rule: 'score', sinks: 2, recent: 3, protectBelow: 20,
    lengths: [50, 33, 70], holeRate: 0.1, ties: true, cap: 40, burst: 0, wg: 32 },
  { name: 'position, burst 5 cap 6, sinks 4', rule: 'position', sinks: 4, recent: 0, protectBelow: 0, lengths: [30, 20, 40],
    holeRate: 0.1, ties: false, cap: 6, burst: 5 },
);

// (Last, so the cases above keep their seeds.)
// The random rule: the seeded hash of (seed, step, physical slot), the same draw on both sides.
cases.push(
  { name: 'random, recent 16', rule: 'random', sinks: 0, recent: 16, protectBelow: 0, lengths: [40, 17, 100, 3, 64], holeRate: 0.1, ties: false },
  { name: 'random, sinks 2 recent 3 protectBelow 20', rule: 'random', sinks: 2, recent: 3, protectBelow: 20, lengths: [50, 33, 7], holeRate: 0.1, ties: false },
);

describe('select-victim', () => {
  test('every rule the shader numbers is run by a registered policy, and has cases here', () => {
    const numbered = Object.keys(shaderRules(code)).sort();
    expect([...POLICY_OF_RULE.keys()].map(ruleConstantName).sort()).toEqual(numbered);
    for (const rule of POLICY_OF_RULE.keys()) expect(cases.some((c) => c.rule === rule), rule).toBe(true);
  });

  cases.forEach((c, ci) => {
    test(c.name, async () => {
      const gpu = await testGpu();
      const kvHeads = c.lengths.length;
      const rand = seededRandom(900 + ci);
      const randInt = (n: number) => Math.floor(rand() * n);
      // Two layers' pages plus spares, shuffled (this layer is bound as the second slice where sliced).
      const tables = layerTables(shuffledPagedGeometry(rand, kvHeads, c.lengths, PAGE_SIZE), c.lengths);
      const { maxPages, numSlots, blockTable, headSlots, phys } = tables;
      const maxPos = 300;
      const t = maxPos + 1;
      // Unowned slots hold valid-looking positions and the lowest scores: reading one changes the victim.
      const slotPos = new Int32Array(numSlots).map(() => randInt(maxPos));
      const score = new Float32Array(numSlots).fill(-1);
      const stamp = new Float32Array(numSlots).fill(t);
      const probe = new Float32Array(numSlots).fill(-1); // the probe rule's scores; unowned slots' would win
      const held = new Uint32Array(kvHeads);
      for (let g = 0; g < kvHeads; g++) {
        const len = c.lengths[g];
        const positions = Array.from({ length: maxPos }, (_, i) => i).sort(() => rand() - 0.5);
        const entries: number[] = [];
        for (let s = 0; s < len; s++) {
          const slot = phys(g, s);
          const shared = c.rule === 'layer' && g > 0; // head 0's position and hole at the same logical slot
          if (shared ? slotPos[phys(0, s)] < 0 : rand() < c.holeRate) {
            slotPos[slot] = -1;
            continue;
          }
          if (shared) slotPos[slot] = slotPos[phys(0, s)];
          else slotPos[slot] = c.duplicates && entries.length > 0 && rand() < 0.2 ? slotPos[entries[randInt(entries.length)]] : positions.pop()!;
          score[slot] = c.rule === 'crystal' ? rand() * 2.5 : rand();
          if (c.rule === 'crystal' && c.duplicates && rand() < 0.1) score[slot] = 0; // never hit: CRF 0
          stamp[slot] = slotPos[slot] + randInt(t - slotPos[slot]);
          probe[slot] = rand() < 0.3 ? 0 : rand(); // many entries the probe never marked
          entries.push(slot);
        }
        if (c.ties && c.rule === 'layer' && g === kvHeads - 1) {
          // Two logical slots with the same score in every head: the same mean.
          for (let k = 0; k < entries.length / 4; k++) {
            const [from, to] = [randInt(len), randInt(len)];
            if (slotPos[phys(0, from)] < 0 || slotPos[phys(0, to)] < 0) continue;
            for (let h = 0; h < kvHeads; h++) score[phys(h, to)] = score[phys(h, from)];
          }
        } else if (c.ties && c.rule !== 'layer') {
          for (let k = 0; k < entries.length / 4; k++) {
            const from = entries[randInt(entries.length)];
            const to = entries[randInt(entries.length)];
            score[to] = score[from];
            stamp[to] = stamp[from];
            probe[to] = probe[from];
          }
        }
        held[g] = entries.length;
      }
      // Near-ties: three entries (by logical slot, the same in every head for the layer rule) at
      // x, x (1 + 5e-6) and x (1 + 3e-5), below every other score, where each wins a tie against
      // the one before (the layer rule: the older position; per head: the lower logical slot).
      const planted: number[] = [];
      if (c.nearTie) {
        for (let g = 0; g < (c.rule === 'layer' ? 1 : kvHeads); g++) {
          if (g === 1 && c.rule !== 'layer') continue; // head 1 is not full
          const live = Array.from({ length: c.lengths[g] }, (_, s) => s).filter((s) => slotPos[phys(g, s)] >= 0);
          const three = live.slice(2, 5).sort((a, b) => (c.rule === 'layer' ? slotPos[phys(g, b)] - slotPos[phys(g, a)] : b - a));
          three.forEach((s, k) => {
            for (let h = 0; h < kvHeads; h++) {
              if (c.rule === 'layer' || h === g) score[phys(h, s)] = 0.01 * [1, 1 + 5e-6, 1 + 3e-5][k];
            }
          });
          planted[g] = three[1];
        }
      }
      // Head 1 is not full; the others are full or over (the layer rule: every head full).
      const limits = held.map((n, g) => (c.rule === 'layer' ? n : g === 1 ? n + 1 : g === 2 ? Math.max(0, n - 2) : n));
      const cap = c.cap ?? 1;

      const dev = gpu.device;
      const params = createBufferFrom(dev, 'params', new Uint32Array([c.protectBelow, t, c.burst ?? 0, 0]), UNIFORM);
      const victims = createBufferFrom(dev, 'victims', new Uint32Array(kvHeads * cap).fill(12345));
      const d = selectVictim(gpu, {
        rule: victimRuleOf(c.rule),
        sinks: c.sinks,
        recent: c.recent,
        pageSize: PAGE_SIZE,
        maxPages,
        kvHeads,
        cap: c.cap,
        nearTie: c.nearTie,
        params,
        slotPos: createBufferFrom(dev, 'slotPos', slotPos),
        ...tables.bind(dev),
        score: createBufferFrom(dev, 'score', score),
        stamp: createBufferFrom(dev, 'stamp', stamp),
        limits: createBufferFrom(dev, 'limits', limits),
        counts: createBufferFrom(dev, 'counts', held),
        victims,
        probe: createBufferFrom(dev, 'probe', probe),
        wg: c.wg,
      });
      await runDispatches(gpu, [d], 1);
      const got = await readU32(dev, victims, kvHeads * cap);
      const want = selectVictimRef({
        rule: victimRuleOf(c.rule),
        scoreOf: policyFor(c.rule).score,
        sinks: c.sinks,
        recent: c.recent,
        pageSize: PAGE_SIZE,
        maxPages,
        kvHeads,
        cap: c.cap,
        nearTie: c.nearTie,
        burst: c.burst,
        protectBelow: c.protectBelow,
        t,
        slotPos,
        blockTable,
        headSlots,
        score,
        stamp,
        probe,
        limits,
        counts: held,
      });
      expect(Array.from(got)).toEqual(Array.from(want));
      // The data exercises what it claims: a head not full, real victims, and (mostly) no empty choice.
      if (c.rule !== 'layer') expect(want[cap]).toBe(NOT_FULL);
      expect(Array.from(want).filter((v) => v < NO_CANDIDATE).length).toBeGreaterThan(0);
      if (c.rule === 'layer') expect(new Set(want).size).toBe(1); // one logical slot, every head
      planted.forEach((s, g) => expect(want[g]).toBe(s)); // the near-tied older entry, not the lowest
      if (cap > 1) {
        // Full heads drop excess + burst entries; head 3 of the first burst case runs out of candidates.
        const listed = (g: number) => Array.from(want.subarray(g * cap, (g + 1) * cap)).filter((v) => v !== NOT_FULL).length;
        expect(listed(0)).toBe(Math.min(cap, 1 + c.burst!));
        expect(listed(2)).toBe(Math.min(cap, held[2] - limits[2] + 1 + c.burst!));
        if (c.lengths.length > 3) expect(want.subarray(3 * cap, 4 * cap)).toContain(NO_CANDIDATE);
      }
    });
  });

  test('a full head whose every entry is protected gets NO_CANDIDATE', async () => {
    const gpu = await testGpu();
    const dev = gpu.device;
    // One head, 2 pages (page 1 then page 0), positions 0..9 in logical slots 0..9 with holes.
    const slotPos = new Int32Array(2 * PAGE_SIZE).fill(-1);
    const blockTable = new Uint32Array([1, 0]);
    for (let s = 0; s < 10; s++) if (s !== 3) slotPos[PAGE_SIZE + s] = s;
    const common = { pageSize: PAGE_SIZE, maxPages: 2, kvHeads: 1, score: new Float32Array(32), stamp: new Float32Array(32) };
    for (const { sinks, recent, want } of [
      { sinks: 4, recent: 5, want: NO_CANDIDATE }, // 9 entries, all sinks or recent
      { sinks: 0, recent: 10, want: NO_CANDIDATE }, // fewer entries than the window: all kept
      { sinks: 4, recent: 4, want: 5 }, // the oldest non-sink (rule position)
    ]) {
      const victims = createBufferFrom(dev, 'victims', new Uint32Array(1));
      const d = selectVictim(gpu, {
        ...common,
        rule: victimRuleOf('position'),
        sinks,
        recent,
        params: createBufferFrom(dev, 'params', new Uint32Array([0, 10, 0, 0]), UNIFORM),
        slotPos: createBufferFrom(dev, 'slotPos', slotPos),
        blockTable: createBufferFrom(dev, 'blockTable', blockTable),
        headSlots: createBufferFrom(dev, 'headSlots', new Uint32Array([10])),
        score: createBufferFrom(dev, 'score', common.score),
        stamp: createBufferFrom(dev, 'stamp', common.stamp),
        limits: createBufferFrom(dev, 'limits', new Uint32Array([9])),
        counts: createBufferFrom(dev, 'counts', new Uint32Array([9])),
        victims,
      });
      await runDispatches(gpu, [d], 1);
      const got = (await readU32(dev, victims, 1))[0];
      const ref = selectVictimRef({
        ...common, rule: victimRuleOf('position'), scoreOf: policyFor('position').score, sinks, recent, protectBelow: 0, t: 10, slotPos, blockTable,
        headSlots: [10], limits: [9], counts: [9],
      })[0];
      expect([got, ref]).toEqual([want, want]);
    }
  });
});
