/**
 * The replay instrument (npm run eval -- --replay): a prompt's full-cache greedy generation is
 * recorded once (its tokens, each step's next-token distribution, and every query's attention
 * per (layer, KV head): a Hindsight), then teacher-forced through every (policy, budget). The
 * same tokens are written whatever the policy would have sampled, so the traces cannot diverge
 * and every difference is the cache's. At each decode step (the query at position P, which
 * predicts the token at P + 1) the replay measures:
 *   lost mass  for each (layer, KV head), the attention the full cache's query at P paid to the
 *              entries the policy no longer holds (0..1; the group's mean over query heads, as the
 *              policies observe it), averaged over layers and KV heads;
 *   KL         KL(full || policy) of the next-token distributions, in nats;
 *   top-1      whether the policy's most likely next token is the recorded one.
 * A prompt's figures are the means over its decode steps (think and answer alike; `answer*`
 * over the answer's steps only, after </think>). The oracles read the same recording.
 */
import { generate } from '../../src/engine/decode-loop.ts';
import { promptIds } from '../../src/engine/decode-loop.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { sampleRef } from '../../src/kernels/sample.ref.ts';
import { physicalSlot } from '../../src/kv/kv-layout.ts';
import type { CacheConfig } from '../../src/kv/budget.ts';
import type { ReferenceBackend } from '../../src/model/reference.ts';
import { createOracle, Hindsight, recordingPolicy } from '../../src/policies/oracle.ts';
import { AFTER_THINK_TEXT, ProbeSchedule } from '../../src/policies/probe.ts';
import type { EvalConfig, EvalItem } from './score.ts';

export interface ReplayOutcome {
  item: number;
  config: number;
  /** Decode steps measured (the recorded generation's length less one). */
  steps: number;
  lostMass: number;
  kl: number;
  top1: number;
  /** The same over the answer's steps only (NaN when the recorded run never closed its think). */
  answerLostMass: number;
  answerTop1: number;
}

const GREEDY_CONTROL = { temperature: 0, topP: 1, u: 0 };

/** softmax(logits) in f64. */
function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const p = new Float64Array(logits.length);
  let z = 0;
  for (let i = 0; i < logits.length; i++) z += p[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < p.length; i++) p[i] /= z;
  return p;
}

/** KL(p || q) in nats; q's zeros where p is not are floored at 1e-300 (finite, very large). */
function kl(p: Float64Array, q: Float64Array): number {
  let d = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) d += p[i] * Math.log(p[i] / Math.max(q[i], 1e-300));
  return d;
}

/** The full cache's attention lost at query P: what it paid entries the current cache no longer holds, mean over (layer, KV head). */
function lostMass(backend: ReferenceBackend, hindsight: Hindsight, P: number): number {
  const layout = backend.eviction().cache.layout;
  const g = layout.geometry;
  const held = new Uint8Array(P + 1);
  let lost = 0;
  for (let l = 0; l < g.numLayers; l++) {
    for (let h = 0; h < g.numKvHeads; h++) {
      held.fill(0);
      const used = layout.headSlots[l * g.headSlotsLayerStride + h];
      for (let s = 0; s < used; s++) {
        const p = layout.slotPos[physicalSlot(layout, l, h, s)];
        if (p >= 0 && p <= P) held[p] = 1;
      }
      for (let p = 0; p <= P; p++) if (!held[p]) lost += hindsight.attention(l, h, P, p);
    }
  }
  return lost / (g.numLayers * g.numKvHeads);
}

/** Records the prompt's full-cache run, then replays it through every config. */
export async function replayPrompt(backend: ReferenceBackend, item: EvalItem, itemIndex: number, configs: EvalConfig[], maxNewTokens: number): Promise<ReplayOutcome[]> {
  const c = backend.model.config;
  const prompt = promptIds(backend, { prompt: item.prompt });
  const hindsight = new Hindsight(c.numLayers, c.numKvHeads);
  const fullDist = new Map<number, Float64Array>(); // position P -> the full cache's next-token distribution
  backend.providePolicies(() => recordingPolicy(hindsight));
  const full = await generate(
    backend,
    { prompt: item.prompt, maxNewTokens, sampling: GREEDY, cache: { policy: 'oracle-record' } },
    { logitRows: 'last', onLogits: (position, logits) => position >= prompt.length - 1 && fullDist.set(position, softmax(logits)) },
  );
  hindsight.finish();
  const tokens = full.generatedIds;
  const thinkEnd = tokens.indexOf(backend.model.thinkEndId ?? -1);
  hindsight.answerFrom = thinkEnd >= 0 ? prompt.length + thinkEnd + 1 : Infinity;
  backend.providePolicies((cfg) => (cfg.policy === 'oracle' ? createOracle(cfg.params ?? {}, hindsight) : undefined));

  const outcomes: ReplayOutcome[] = [];
  for (let index = 0; index < configs.length; index++) {
    const config = configs[index];
    const cache: CacheConfig | undefined = config.mode === 'none' ? undefined : { policy: config.policy, budget: config.budget ?? undefined, mode: config.mode, params: config.params };
    backend.reset(cache, prompt.length);
    for (let at = 0; at < prompt.length; at += backend.maxStepTokens) await backend.forward(prompt.slice(at, at + backend.maxStepTokens), at, GREEDY_CONTROL);
    await backend.finishPrefill(prompt.length);
    let lost = 0, divergence = 0, agree = 0, answerLost = 0, answerAgree = 0, answerSteps = 0;
    const steps = tokens.length - 1;
    // A policy with an answer-first probe probes while the recorded run thinks, as the decode loop does.
    const spec = backend.probe();
    const probe = spec ? new ProbeSchedule(spec, backend.model.thinkEndId!, backend.model.tokenizer.encode(AFTER_THINK_TEXT)) : null;
    for (let i = 0; i < steps; i++) {
      const P = prompt.length + i; // token i is written at P; its query predicts token i + 1
      const rows = probe && (thinkEnd < 0 || i < thinkEnd) ? probe.request() : undefined;
      const r = await backend.forward([tokens[i]], P, GREEDY_CONTROL, 'last', rows);
      if (rows) probe!.advance(r.probe!);
      const q = softmax(r.logits!);
      const m = lostMass(backend, hindsight, P);
      const hit = sampleRef(q, GREEDY_CONTROL) === tokens[i + 1] ? 1 : 0;
      lost += m;
      agree += hit;
      divergence += kl(fullDist.get(P)!, q);
      if (thinkEnd >= 0 && i > thinkEnd) {
        answerLost += m;
        answerAgree += hit;
        answerSteps++;
      }
    }
    const mean = (x: number, n: number) => (n > 0 ? x / n : NaN);
    outcomes.push({
      item: itemIndex,
      config: index,
      steps,
      lostMass: mean(lost, steps),
      kl: mean(divergence, steps),
      top1: mean(agree, steps),
      answerLostMass: mean(answerLost, answerSteps),
      answerTop1: mean(answerAgree, answerSteps),
    });
  }
  backend.providePolicies(null);
  return outcomes;
}
