/**
 * The replay instrument (scripts/eval/replay.ts): its rank statistics, and one prompt of the
 * bundled model teacher-forced through the full cache (which must lose nothing), a policy, and
 * the oracle (which must lose the least).
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { PrefixMemo } from '../../src/model/prefix-memo.ts';
import { replayPrompt } from '../../scripts/eval/replay.ts';
import { rankAgreement, ranks, spearman, type ReplaySummary } from '../../scripts/eval/replay-report.ts';
import { parseEvalJsonl, type EvalConfig, type EvalSummary } from '../../scripts/eval/score.ts';
import { BUNDLED_MODEL_DIR } from '../helpers/golden.ts';
import { loadModelFromDir } from '../helpers/node-model.ts';

test('ranks share ties; Spearman is +1 for the same order, -1 for the reverse', () => {
  expect(ranks([3, 1, 2, 1])).toEqual([4, 1.5, 3, 1.5]);
  expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
  expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
  expect(spearman([1, 2, 3], [1, 3, 2])).toBeCloseTo(0.5, 12);
  expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
  expect(spearman([1, 2], [1, 2])).toBeNaN();
});

test('rank agreement: lower lost mass predicting higher accuracy scores +1; oracles and full are left out', () => {
  const row = (label: string, policy: string, budget: number | null, lostMass: number, kl: number, top1: number): ReplaySummary => ({
    label, policy, mode: 'think', budget, prompts: 1, lostMass, kl, top1, answerLostMass: NaN, answerTop1: NaN,
  });
  const replay = [
    row('a think 64', 'a', 64, 0.1, 0.1, 0.9), row('b think 64', 'b', 64, 0.2, 0.3, 0.8), row('c think 64', 'c', 64, 0.3, 0.2, 0.7),
    row('oracle think 64', 'oracle', 64, 0, 0, 1), row('full', 'full', null, 0, 0, 1),
  ];
  const acc = (label: string, accuracy: number) => ({ label, accuracy }) as EvalSummary;
  const agreement = rankAgreement(replay, [acc('a think 64', 0.9), acc('b think 64', 0.5), acc('c think 64', 0.2), acc('oracle think 64', 0.99)]);
  expect(agreement.pooled.cells).toBe(3);
  expect(agreement.pooled.lostMass).toBeCloseTo(1, 12);
  expect(agreement.pooled.top1).toBeCloseTo(1, 12);
  expect(agreement.pooled.kl).toBeCloseTo(0.5, 12); // b and c swapped
  expect(agreement.pooled.answerLostMass).toBeNaN(); // no answer figures in these rows
  expect(agreement.perBudget).toEqual([{ budget: 64, policies: 3, lostMass: agreement.pooled.lostMass, answerLostMass: NaN, kl: agreement.pooled.kl, top1: agreement.pooled.top1 }]);
});

test('one prompt replayed: the full cache loses nothing, the oracle loses least, every figure in range', async () => {
  const model = await loadModelFromDir(BUNDLED_MODEL_DIR);
  const backend = createReferenceBackend(model);
  const item = parseEvalJsonl(readFileSync(`${BUNDLED_MODEL_DIR}/eval.jsonl`, 'utf8'))[0];
  const configs: EvalConfig[] = [
    { policy: 'full', mode: 'none', budget: null, label: 'full' },
    { policy: 'streaming', mode: 'think', budget: 48, label: 'streaming think 48' },
    { policy: 'h2o', mode: 'think', budget: 48, label: 'h2o think 48' },
    { policy: 'oracle', mode: 'think', budget: 48, label: 'oracle think 48' },
    { policy: 'oracle', series: 'oracle[horizon=16]', mode: 'think', budget: 48, params: { horizon: 16 }, label: 'oracle[horizon=16] think 48' },
  ];
  const [full, streaming, h2o, oracle, short] = await replayPrompt(backend, item, 0, configs, 1024);
  expect(full.steps).toBeGreaterThan(100);
  expect([full.lostMass, full.kl, full.top1]).toEqual([0, 0, 1]);
  for (const o of [streaming, h2o, oracle, short]) {
    expect(o.steps).toBe(full.steps); // teacher-forced: every config writes the same tokens
    expect(o.lostMass).toBeGreaterThan(0);
    expect(o.lostMass).toBeLessThan(1);
    expect(o.kl).toBeGreaterThanOrEqual(0);
    expect(o.top1).toBeGreaterThan(0);
    expect(o.top1).toBeLessThanOrEqual(1);
  }
  expect(oracle.lostMass).toBeLessThan(Math.min(streaming.lostMass, h2o.lostMass, short.lostMass));
  // The memo (shared beginnings computed once) changes nothing.
  backend.useMemo(new PrefixMemo());
  const memoised = await replayPrompt(backend, item, 0, configs, 1024);
  backend.useMemo(null);
  expect(memoised).toEqual([full, streaming, h2o, oracle, short]);
});
