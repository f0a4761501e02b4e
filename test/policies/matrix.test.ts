/**
 * Every registered policy x several budgets x both budget modes, on the CPU reference with the
 * bundled model: the invariants every policy must keep at every step.
 */
import { describe, expect, test } from 'vitest';
import { generate, promptIds } from '../../src/engine/decode-loop.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { BudgetTooSmallError } from '../../src/errors.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { createPolicy, USER_POLICY_IDS } from '../../src/policies/registry.ts';
import { BUNDLED_MODEL_DIR, readGolden } from '../helpers/golden.ts';
import { loadModelFromDir } from '../helpers/node-model.ts';

const model = await loadModelFromDir(BUNDLED_MODEL_DIR);
const backend = createReferenceBackend(model);
const prompt = readGolden()[0].user; // 82 prompt tokens
const promptLength = promptIds(backend, prompt).length;
const CASES = [
  { mode: 'all' as const, budgets: [40, 64] },
  { mode: 'think' as const, budgets: [24, 48] },
];
const heads = model.config.numLayers * model.config.numKvHeads;

async function run(policy: string, mode: 'all' | 'think', budget: number) {
  const limit = mode === 'all' ? budget : promptLength + budget;
  const occupancy: number[][] = [];
  const limits: number[][] = [];
  const audits: string[] = [];
  let auditCount = 0;
  backend.reset({ policy, budget, mode });
  const result = await generate(
    backend,
    { prompt, maxNewTokens: 60, sampling: GREEDY, cache: { policy, budget, mode } },
    {
      onStep: () => {
        occupancy.push(Array.from(backend.occupancy()));
        const { driver, runner } = backend.eviction();
        limits.push(Array.from(driver.limits));
        runner.audit ??= (head, scores, candidate, victim) => {
          auditCount++;
          if (!candidate[victim]) audits.push(`victim ${victim} is protected`);
          // The lowest score, or one within the policy's near-tie of it (crystal: f32 cannot order those).
          let lowest = Infinity;
          for (let i = 0; i < head.length; i++) if (candidate[i]) lowest = Math.min(lowest, scores[i]);
          const within = lowest + Math.abs(lowest) * (runner.policy.nearTie ?? 0);
          if (scores[victim] > within) audits.push(`victim scored ${scores[victim]} > the lowest ${lowest}`);
        };
      },
    },
  );
  const divisions = backend.eviction().driver.rebalances.length;
  return { result, occupancy, limits, limit, audits, auditCount, divisions, decisions: [...backend.evictions()] };
}

describe.each(USER_POLICY_IDS)('policy %s', (id) => {
  const policy = createPolicy(id);
  for (const { mode, budgets } of CASES) {
    for (const budget of budgets) {
      test(`${mode} budget ${budget}: within budget, protected entries kept, lowest victim, deterministic`, async () => {
        const a = await run(id, mode, budget);
        expect(a.result.generatedIds.length).toBeGreaterThan(10);
        // Never over budget: every head after every step (full keeps everything).
        a.occupancy.forEach((step, i) => {
          step.forEach((n, head) => {
            // full keeps everything: at step i the cache holds the prompt and i generated tokens
            if (id === 'full') expect(n).toBe(promptLength + i);
            // every head within its own limit; the limits are uniform unless the policy moves budgets
            else if (policy.granularity !== 'model') expect(n).toBeLessThanOrEqual(a.limits[i][head]);
            if (id !== 'full' && !policy.rebalance) expect(a.limits[i][head]).toBe(a.limit);
          });
          // the total never exceeds the global budget
          if (id !== 'full') expect(step.reduce((s, n) => s + n, 0)).toBeLessThanOrEqual(a.limit * heads);
        });
        if (policy.rebalance && id !== 'full') {
          // Budgets move every R steps once every head is full: from step R on when the heads fill
          // by then (think 48 fills at step 48 and the run ends before step 2R).
          if (budget < policy.rebalance.period || mode === 'all') expect(a.divisions).toBeGreaterThan(0);
        }
        if (policy.rebalance && a.divisions > 0) {
          // budgets did move (with a budget over R: below it every entry is live, so loads are even),
          // and their total is the global budget
          const last = a.limits.at(-1)!;
          if (budget > policy.rebalance.period) expect(new Set(last).size).toBeGreaterThan(1);
          expect(last.reduce((s, n) => s + n, 0)).toBe(a.limit * heads);
        }
        if (id !== 'full') {
          expect(a.decisions.length).toBeGreaterThan(0);
          // The budget is used, not just respected: full heads sit exactly at their limit.
          if (policy.granularity !== 'model' && !policy.rebalance) {
            // bursts (r-kv) free a share of the budget at once and refill it
            const floor = a.limit - Math.floor((policy.burst ?? 0) * budget) - 1;
            for (const n of a.occupancy.at(-1)!) expect(n).toBeGreaterThanOrEqual(policy.burst ? floor : a.limit);
          }
          // Protected entries are never evicted: sinks, the recent window, the prompt in think mode.
          for (const d of a.decisions) {
            if (mode === 'all') expect(d.position).toBeGreaterThanOrEqual(policy.sinks);
            expect(d.position).toBeLessThan(d.at - policy.recent);
            if (mode === 'think') expect(d.position).toBeGreaterThanOrEqual(promptLength);
          }
        } else {
          expect(a.decisions).toEqual([]);
        }
        // The victim of each per-head choice is the lowest-scoring candidate.
        expect(a.audits).toEqual([]);
        if (id !== 'full' && policy.granularity === 'head') expect(a.auditCount).toBeGreaterThan(0);
        // Deterministic: the same run makes the same decisions and tokens.
        const b = await run(id, mode, budget);
        expect(b.decisions).toEqual(a.decisions);
        expect(b.result.generatedIds).toEqual(a.result.generatedIds);
      });
    }
  }
  if (id !== 'full') {
    test('a budget at or below what the policy keeps is refused', () => {
      const kept = policy.sinks + policy.recent;
      expect(() => backend.reset({ policy: id, budget: kept, mode: 'all' })).toThrow(BudgetTooSmallError);
      expect(() => backend.reset({ policy: id, budget: 0, mode: 'think' })).toThrow(BudgetTooSmallError);
    });
  }
});
