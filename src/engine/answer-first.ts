/**
 * The answer-first analysis of Crystal-KV (arXiv 2601.16986, section 3): which think entries
 * does the answer need? A finished generation is replayed with the full cache; the queries that
 * write the answer (from </think> to the last answer token) each pay attention to every think
 * entry, averaged over every layer, KV head (the group's query heads) and answer query. The
 * think entries are ranked by it: the top 30% are the CrystalKV the answer reads, the bottom 30%
 * the SlipKV it does not.
 */
import { promptIds } from './decode-loop.ts';
import type { ForwardBackend } from '../model/forward-backend.ts';
import { TIER_SHARE, type AnswerFirstAnalysis, type PromptInput } from './types.ts';

const GREEDY_CONTROL = { temperature: 0, topP: 1, u: 0 };

export async function analyzeAnswer(backend: ForwardBackend, prompt: string | PromptInput, generatedIds: readonly number[]): Promise<AnswerFirstAnalysis> {
  const model = backend.model;
  const ids = [...promptIds(backend, prompt), ...generatedIds];
  const promptLength = ids.length - generatedIds.length;
  const end = generatedIds.indexOf(model.thinkEndId ?? -1);
  if (model.thinkEndId === null || end < 0) throw new Error('The answer-first analysis needs a generation that closed </think>.');
  const thinkEnd = promptLength + end; // position of </think>
  const thinkStart = promptLength + (generatedIds[0] === model.thinkStartId ? 1 : 0);
  const last = ids.length - 1; // the last token is written, but no query of the answer follows it
  if (last <= thinkEnd) throw new Error('The generation has no answer after </think>.');

  backend.reset(); // the full cache
  backend.watch([]);
  for (let at = 0; at < thinkEnd; at += backend.maxStepTokens) {
    const tile = ids.slice(at, Math.min(thinkEnd, at + backend.maxStepTokens));
    await backend.forward(tile, at, GREEDY_CONTROL);
  }
  backend.watch(Array.from({ length: model.config.numLayers }, (_, l) => l));
  const attention = new Float64Array(thinkEnd - thinkStart);
  let terms = 0;
  for (let q = thinkEnd; q < last; q++) {
    await backend.forward([ids[q]], q, GREEDY_CONTROL);
    for (const layer of backend.watched()) {
      layer.positions.forEach((positions, h) => {
        positions.forEach((p, i) => {
          if (p >= thinkStart && p < thinkEnd) attention[p - thinkStart] += layer.attention[h][i];
        });
        terms++;
      });
    }
  }
  backend.watch([]);
  for (let i = 0; i < attention.length; i++) attention[i] /= terms;

  // Rank: the top and bottom TIER_SHARE of the think entries (ties by position).
  const order = Array.from(attention.keys()).sort((a, b) => attention[b] - attention[a] || a - b);
  const k = Math.round(TIER_SHARE * attention.length);
  const tier: AnswerFirstAnalysis['tier'] = new Array(attention.length).fill('middle');
  order.slice(0, k).forEach((i) => (tier[i] = 'crystal'));
  order.slice(attention.length - k).forEach((i) => (tier[i] = 'slip'));
  return { thinkStart, thinkEnd, answerQueries: last - thinkEnd, attention: Float32Array.from(attention), tier };
}
