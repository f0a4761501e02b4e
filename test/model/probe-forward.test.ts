/**
 * The answer-first probe on the CPU reference (model/probe-forward.ts, policies/probe.ts): probe
 * rows predict what the same tokens written as real ones would, leave the cache exactly as it
 * was, fold into the policy's probe scores, and in a generation run while the model thinks, with
 * the answer tokens lagged one step.
 */
import { expect, test } from 'vitest';
import { generate, promptIds } from '../../src/engine/decode-loop.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { foldProbe, ProbeSchedule, type ProbeRequest, type ProbeResult } from '../../src/policies/probe.ts';
import { BUNDLED_MODEL_DIR, readGolden } from '../helpers/golden.ts';
import { loadModelFromDir } from '../helpers/node-model.ts';

const CONTROL = { temperature: 0, topP: 1, u: 0 };
const argmax = (x: ArrayLike<number>) => Array.from(x).reduce((b, v, i, a) => (v > a[b] ? i : b), 0);

test('rows: end-of-think, the text after it, then the lagged answer tokens and the lookahead; the fold keeps the decayed maximum', () => {
  const spec = { answer: 3, look: 2, decay: 0.5 };
  const schedule = new ProbeSchedule(spec, 9, [4, 4]);
  // The first step: no answer tokens yet, and the lookahead is bootstrapped from the step itself.
  expect(schedule.request()).toEqual({ answer: [9, 4, 4], look: [], bootstrapLook: 2 });
  // Predictions after each row: the one after the last forced row (index 2) is the first answer
  // token; the lookahead's row i of the next step is the prediction after this step's row i.
  schedule.advance({ answer: [50, 51, 52, 53, 54, 55], look: [60, 61] });
  expect(schedule.request()).toEqual({ answer: [9, 4, 4, 52, 53, 54], look: [60, 61], bootstrapLook: 0 });
  const probe = new Float64Array([0.8, 0.1]);
  foldProbe(probe, 0, 0.3, spec.decay);
  foldProbe(probe, 1, 0.3, spec.decay);
  expect(Array.from(probe)).toEqual([0.4, 0.3]);
});

test('probe rows predict what real tokens would, and leave the cache untouched', async () => {
  const model = await loadModelFromDir(BUNDLED_MODEL_DIR);
  const prompt = promptIds(createReferenceBackend(model), readGolden()[0].user);
  const cache = { policy: 'answer-probe', budget: 256, mode: 'think' as const }; // a budget it does not reach: nothing evicted
  const probed = createReferenceBackend(model);
  const plain = createReferenceBackend(model);
  const rows = [model.thinkEndId!, ...model.tokenizer.encode('\n\n'), 5, 17, 30];
  const request: ProbeRequest = { answer: rows, look: [], bootstrapLook: 0 };
  for (const b of [probed, plain]) {
    b.reset(b === probed ? cache : undefined, prompt.length);
    for (let at = 0; at < prompt.length; at += b.maxStepTokens) await b.forward(prompt.slice(at, at + b.maxStepTokens), at, CONTROL);
    await b.finishPrefill(prompt.length);
  }
  const P = prompt.length;
  const { eviction } = probed;
  const before = { slotPos: eviction().cache.layout.slotPos.slice(), k: eviction().cache.kPool.slice(), count: probed.occupancy() };
  const a = await probed.forward([11], P, CONTROL, 'last', request);
  const b = await plain.forward([11], P, CONTROL, 'last');
  expect(Array.from(a.logits!)).toEqual(Array.from(b.logits!)); // the real row never sees the probe rows
  // The same rows written as real tokens after it (the full cache) predict the same tokens.
  const real = await plain.forward(rows, P + 1, CONTROL, 'all');
  const V = model.config.vocabSize;
  expect(a.probe!.answer).toEqual(rows.map((_, r) => argmax(real.logits!.subarray(r * V, (r + 1) * V))));
  expect(a.probe!.look).toEqual([]);
  // Only the real token was written: one entry more per head, nothing else moved.
  const after = eviction().cache;
  expect(Array.from(probed.occupancy())).toEqual(Array.from(before.count, (n) => n + 1));
  const changed = [...after.layout.slotPos.keys()].filter((i) => after.layout.slotPos[i] !== before.slotPos[i]);
  expect(changed.every((i) => after.layout.slotPos[i] === P)).toBe(true);
  // Probe scores: set, at most the group's head count (a sum of probabilities over the group), the newest entry included.
  const probe = after.state.probe;
  const group = model.config.numHeads / model.config.numKvHeads;
  const held = [...after.layout.slotPos.keys()].filter((i) => after.layout.slotPos[i] >= 0);
  expect(held.some((i) => probe[i] > 0)).toBe(true);
  expect(held.every((i) => probe[i] >= 0 && probe[i] <= group + 1e-12)).toBe(true);
});

test('a generation probes while it thinks, with lagged answer tokens, and stops at </think>', async () => {
  const model = await loadModelFromDir(BUNDLED_MODEL_DIR);
  const backend = createReferenceBackend(model);
  const calls: { position: number; rows: ProbeRequest | undefined; predicted?: ProbeResult }[] = [];
  const forward = backend.forward.bind(backend);
  backend.forward = async (tokens, posStart, sample, logits, rows) => {
    const r = await forward(tokens, posStart, sample, logits, rows);
    if (tokens.length === 1) calls.push({ position: posStart, rows, predicted: r.probe });
    return r;
  };
  const r = await generate(backend, { prompt: readGolden()[0].user, maxNewTokens: 400, sampling: GREEDY, cache: { policy: 'answer-probe', budget: 64, mode: 'think', params: { look: 2 } } });
  expect(r.closedThink).toBe(true);
  const afterThink = model.tokenizer.encode('\n\n');
  const forced = 1 + afterThink.length;
  const thinkEndAt = r.generatedIds.indexOf(model.thinkEndId!); // generated[i] is written by decode call i
  calls.forEach((c, i) => {
    if (i >= thinkEndAt) return expect(c.rows).toBeUndefined(); // </think> written: the answer is being written itself
    expect(c.rows!.answer.slice(0, forced)).toEqual([model.thinkEndId, ...afterThink]);
    expect(c.rows!.answer.slice(forced)).toEqual(i === 0 ? [] : calls[i - 1].predicted!.answer.slice(forced - 1, forced - 1 + 3));
    // The lookahead (look 2): bootstrapped at the first step, then this step's positions as the last step predicted them.
    expect(c.rows!.bootstrapLook).toBe(i === 0 ? 2 : 0);
    expect(c.rows!.look).toEqual(i === 0 ? [] : calls[i - 1].predicted!.look);
    expect(c.predicted!.look).toHaveLength(2);
  });
  expect(backend.evictions().length).toBeGreaterThan(0);
});
