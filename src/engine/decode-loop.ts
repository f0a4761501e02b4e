/**
 * The generation loop, shared by every backend: chat template, tokenise, prefill in tiles,
 * then one forward per token until a stop token, the token limit, the context end or abort.
 * Each step is reported as it happens; the phase switches from think to answer at </think>.
 */
import { GenerationAbortedError, PromptTooLongError } from '../errors.ts';
import { createStreamDecoder } from '../tokenizer/tokenizer.ts';
import type { ForwardBackend, LogitsRequest } from '../model/forward-backend.ts';
import { createRng } from './rng.ts';
import type { CacheSnapshot, GenerateRequest, GenerationResult, Phase, Step, StopReason } from './types.ts';

export interface LoopOptions {
  onStep?: (step: Step) => void;
  signal?: { aborted: boolean };
  /** Collects the logits of every prompt and generated position (tests against golden.json). */
  onLogits?: (position: number, logits: Float32Array | Float64Array) => void;
  /** With onLogits: every prompt position (default), or only each prefill tile's last (a 152k vocabulary). */
  logitRows?: 'all' | 'last';
}

export function promptIds(backend: ForwardBackend, prompt: string): number[] {
  const m = backend.model;
  const ids = m.tokenizer.encode(m.chatTemplate.render([{ role: 'user', content: prompt }], true));
  if (ids.length >= backend.contextLength) throw new PromptTooLongError(ids.length, backend.contextLength);
  return ids;
}

export async function generate(
  backend: ForwardBackend,
  request: GenerateRequest,
  options: LoopOptions = {},
): Promise<GenerationResult> {
  const model = backend.model;
  const prompt = promptIds(backend, request.prompt);
  const rng = createRng(request.sampling.seed);
  const sampleControl = () => ({ temperature: request.sampling.temperature, topP: request.sampling.topP, u: rng() });
  const logitsMode: LogitsRequest = options.onLogits ? (options.logitRows ?? 'all') : 'none';
  const decoder = createStreamDecoder(model.tokenizer);
  backend.reset(request.cache, prompt.length);
  const watchLayer = request.telemetry?.watchLayer;
  if (watchLayer !== undefined && !(Number.isInteger(watchLayer) && watchLayer >= 0 && watchLayer < model.config.numLayers)) {
    throw new RangeError(`watchLayer ${watchLayer} is not a layer of this model (0..${model.config.numLayers - 1}).`);
  }
  backend.watch(watchLayer === undefined ? [] : [watchLayer]);
  const telemetry = request.telemetry ? createTelemetry(backend, prompt) : null;

  const start = performance.now();
  let token = -1;
  for (let at = 0; at < prompt.length; at += backend.maxStepTokens) {
    const tile = prompt.slice(at, at + backend.maxStepTokens);
    const last = at + tile.length === prompt.length;
    const r = await backend.forward(tile, at, sampleControl(), logitsMode);
    if (r.logits) emitRows(options, at, tile.length, r.logits, model.config.vocabSize);
    if (last) token = r.token;
    if (options.signal?.aborted) throw new GenerationAbortedError();
  }
  await backend.finishPrefill(prompt.length);
  const prefillMs = performance.now() - start;

  const generated: number[] = [];
  let phase: Phase = model.thinkEndId === null ? 'answer' : 'think';
  let thinkEnd = -1; // index of </think> among the generated tokens
  let closedThink = false;
  let stopReason: StopReason = 'max-tokens';
  let stepMs = prefillMs;
  let decodeMs = 0;
  for (;;) {
    generated.push(token);
    const text = decoder.push(token);
    // </think> opens the answer stage.
    if (token === model.thinkEndId && phase === 'think') {
      phase = 'answer';
      closedThink = true;
      thinkEnd = generated.length - 1;
    }
    const index = generated.length - 1;
    options.onStep?.({ index, token, text, phase, stepMs, position: prompt.length + index, cache: telemetry?.snapshot(prompt.length + index) });
    if (model.stopTokenIds.includes(token)) {
      stopReason = 'eos';
      break;
    }
    if (generated.length >= request.maxNewTokens) break;
    const position = prompt.length + generated.length - 1;
    if (position + 1 >= backend.contextLength) {
      stopReason = 'context-full';
      break;
    }
    if (options.signal?.aborted) {
      stopReason = 'aborted';
      break;
    }
    const t0 = performance.now();
    const r = await backend.forward([token], position, sampleControl(), logitsMode === 'none' ? 'none' : 'last');
    stepMs = performance.now() - t0;
    decodeMs += stepMs;
    if (r.logits) emitRows(options, position, 1, r.logits, model.config.vocabSize);
    token = r.token;
  }
  // Think length counts the tokens between the markers (the model card's measure): <think> is
  // not counted when the model wrote it; an unclosed think stage runs to the end.
  const thinkTokens =
    model.thinkEndId === null ? 0 : (closedThink ? thinkEnd : generated.length) - (generated[0] === model.thinkStartId ? 1 : 0);
  const fullText = decoder.text();
  const endThink = fullText.indexOf('</think>');
  const decodeSteps = generated.length - 1;
  return {
    promptTokens: prompt.length,
    generatedIds: generated,
    text: fullText,
    thinkTokens,
    closedThink,
    answer: answerText(fullText, endThink),
    stopReason,
    prefillMs,
    decodeMs,
    tokensPerSecond: decodeSteps > 0 ? (decodeSteps * 1000) / decodeMs : 0,
    timeToFirstTokenMs: prefillMs,
  };
}

/** Step.cache: what the cache holds after each step, the evictions since the last, the watched layer. */
function createTelemetry(backend: ForwardBackend, prompt: readonly number[]) {
  const c = backend.model.config;
  let promptPieces: string[] | undefined = prompt.map((id) => backend.model.tokenizer.decode([id]));
  const entryBytes = 2 * c.headDim * 4; // K and V, f32
  let seen = 0; // evictions already reported
  return {
    /** `written`: positions written so far (the token at that position is not yet). */
    snapshot(written: number): CacheSnapshot {
      const counts = backend.occupancy();
      const all = backend.evictions();
      const evicted = new Int32Array(3 * (all.length - seen));
      for (let i = seen; i < all.length; i++) evicted.set([all[i].layer, all[i].kvHead, all[i].position], 3 * (i - seen));
      seen = all.length;
      const pieces = promptPieces;
      promptPieces = undefined; // sent once, with step 0
      return {
        promptPieces: pieces,
        counts,
        limits: backend.limits(),
        heldBytes: counts.reduce((s, n) => s + n, 0) * entryBytes,
        fullBytes: written * c.numLayers * c.numKvHeads * entryBytes,
        evicted,
        watched: backend.watched()[0],
      };
    },
  };
}

function answerText(text: string, endThink: number): string {
  const after = endThink >= 0 ? text.slice(endThink + '</think>'.length) : text;
  return after.replace(/<\|im_end\|>|<\|endoftext\|>|<\|eot_id\|>|<｜end▁of▁sentence｜>/g, '').trim();
}

function emitRows(options: LoopOptions, posStart: number, rows: number, logits: Float32Array | Float64Array, vocab: number) {
  const count = logits.length / vocab;
  for (let r = 0; r < count; r++) {
    const position = posStart + rows - count + r;
    options.onLogits!(position, logits.subarray(r * vocab, (r + 1) * vocab));
  }
}
