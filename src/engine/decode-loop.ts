/**
 * The generation loop, shared by every backend: chat template, tokenise, prefill in tiles,
 * then one forward per token until a stop token, the token limit, the context end or abort.
 * Each step is reported as it happens; the phase switches from think to answer at </think>.
 */
import { GenerationAbortedError, PromptTooLongError } from '../errors.ts';
import { createStreamDecoder } from '../tokenizer/tokenizer.ts';
import { evictionSpec } from '../kv/budget.ts';
import type { ForwardBackend, LogitsRequest } from '../model/forward-backend.ts';
import { createRng } from './rng.ts';
import { AFTER_THINK_TEXT, ProbeSchedule } from '../policies/probe.ts';
import type { CacheSnapshot, GenerateRequest, GenerationResult, Phase, PromptInput, Step, StopReason } from './types.ts';

/** What the backend's cache holds after a generation, for a chat's next turn (GenerateRequest.reusePrefix). */
export interface CachedSequence {
  /** The token at each cached position. */
  ids: number[];
  /** The cache settings it was made under (cacheKey). */
  key: string;
}

export interface LoopOptions {
  /** The engine's record of the cached sequence: read for reusePrefix, replaced when the run ends (null on error). */
  sequence?: { current: CachedSequence | null };
  onStep?: (step: Step) => void;
  signal?: { aborted: boolean };
  /** Collects the logits of every prompt and generated position (tests against golden.json). */
  onLogits?: (position: number, logits: Float32Array | Float64Array) => void;
  /** With onLogits: every prompt position (default), or only each prefill tile's last (a 152k vocabulary). */
  logitRows?: 'all' | 'last';
}

/** The empty think block web-llm appends when thinking is off and the template has no switch. */
const NO_THINK = '<think>\n\n</think>\n\n';

/** The prompt's tokens: one user message or a conversation, through the model's chat template. */
export function promptIds(backend: ForwardBackend, input: string | PromptInput): number[] {
  const m = backend.model;
  const r = typeof input === 'string' ? { prompt: input } : input;
  const messages = r.messages ?? [{ role: 'user' as const, content: r.prompt ?? '' }];
  let text = m.chatTemplate.render(messages, true, r.enableThinking === undefined ? {} : { enableThinking: r.enableThinking });
  if (r.enableThinking === false && m.thinkEndId !== null && !text.trimEnd().endsWith('</think>')) text += NO_THINK;
  const ids = m.tokenizer.encode(text);
  if (ids.length >= backend.contextLength) throw new PromptTooLongError(ids.length, backend.contextLength);
  return ids;
}

/** The cache settings as one string: a sequence continues only under the same ones. */
export function cacheKey(cache: GenerateRequest['cache']): string {
  const spec = evictionSpec(cache);
  if (!spec || !cache) return 'full';
  const params = Object.entries(cache.params ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([cache.policy, spec.budget, spec.mode, params]);
}

function sharedPrefix(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/**
 * Where this generation's prefill starts: after the prefix it shares with the cached sequence
 * (a chat's next turn, same cache settings, a pool that holds it), or at 0 on a fresh sequence.
 * At least the prompt's last token is prefilled: its logits give the first token.
 */
function startSequence(backend: ForwardBackend, request: GenerateRequest, prompt: readonly number[], previous: CachedSequence | null): number {
  if (request.reusePrefix && previous && previous.key === cacheKey(request.cache)) {
    const keep = Math.min(sharedPrefix(previous.ids, prompt), prompt.length - 1);
    if (keep > 0 && backend.resume(keep, prompt.length)) return keep;
  }
  backend.reset(request.cache, prompt.length);
  return 0;
}

export async function generate(
  backend: ForwardBackend,
  request: GenerateRequest,
  options: LoopOptions = {},
): Promise<GenerationResult> {
  const model = backend.model;
  const prompt = promptIds(backend, request);
  const rng = createRng(request.sampling.seed);
  const sampleControl = () => ({ temperature: request.sampling.temperature, topP: request.sampling.topP, u: rng() });
  const logitsMode: LogitsRequest = options.onLogits ? (options.logitRows ?? 'all') : 'none';
  const decoder = createStreamDecoder(model.tokenizer);
  const previous = options.sequence?.current ?? null;
  if (options.sequence) options.sequence.current = null; // unknown until this run ends
  const reused = startSequence(backend, request, prompt, previous);
  const watchLayer = request.telemetry?.watchLayer;
  if (watchLayer !== undefined && !(Number.isInteger(watchLayer) && watchLayer >= 0 && watchLayer < model.config.numLayers)) {
    throw new RangeError(`watchLayer ${watchLayer} is not a layer of this model (0..${model.config.numLayers - 1}).`);
  }
  backend.watch(watchLayer === undefined ? [] : [watchLayer]);
  const telemetry = request.telemetry ? createTelemetry(backend, prompt) : null;

  const start = performance.now();
  let token = -1;
  for (let at = reused; at < prompt.length; at += backend.maxStepTokens) {
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
  const thinking = model.thinkEndId !== null && request.enableThinking !== false;
  // The policy's answer-first probe (policies/probe.ts): rows after each thinking step's token.
  const probeSpec = thinking ? backend.probe() : undefined;
  const probe = probeSpec ? new ProbeSchedule(probeSpec, model.thinkEndId!, model.tokenizer.encode(AFTER_THINK_TEXT)) : null;
  let phase: Phase = thinking ? 'think' : 'answer';
  const stops = request.stop ?? [];
  let written = ''; // the text so far, searched for the stop strings
  let stopAt = -1;
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
    if (stops.length > 0) {
      const from = written.length;
      written += text;
      stopAt = firstStop(written, stops, from);
      if (stopAt >= 0) {
        stopReason = 'stop';
        break;
      }
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
    const rows = probe && phase === 'think' ? probe.request() : undefined;
    const r = await backend.forward([token], position, sampleControl(), logitsMode === 'none' ? 'none' : 'last', rows);
    if (rows) probe!.advance(r.probe!);
    stepMs = performance.now() - t0;
    decodeMs += stepMs;
    if (r.logits) emitRows(options, position, 1, r.logits, model.config.vocabSize);
    token = r.token;
  }
  // Think length counts the tokens between the markers (the model card's measure): <think> is
  // not counted when the model wrote it; an unclosed think stage runs to the end.
  const thinkTokens = !thinking ? 0 : (closedThink ? thinkEnd : generated.length) - (generated[0] === model.thinkStartId ? 1 : 0);
  const fullText = stopAt >= 0 ? written.slice(0, stopAt) : decoder.text();
  const endThink = fullText.indexOf('</think>');
  const decodeSteps = generated.length - 1;
  // The last token was sampled, never written: the cache holds the prompt and the ones before it.
  if (options.sequence) options.sequence.current = { ids: [...prompt, ...generated.slice(0, -1)], key: cacheKey(request.cache) };
  const held = backend.occupancy().reduce((sum, n) => sum + n, 0);
  return {
    promptTokens: prompt.length,
    reusedTokens: reused,
    prefilledTokens: prompt.length - reused,
    generatedIds: generated,
    text: fullText,
    thinkTokens,
    closedThink,
    answer: answerText(fullText, endThink),
    stopReason,
    prefillMs,
    decodeMs,
    tokensPerSecond: decodeSteps > 0 ? (decodeSteps * 1000) / decodeMs : 0,
    prefillTokensPerSecond: prefillMs > 0 ? ((prompt.length - reused) * 1000) / prefillMs : 0,
    timeToFirstTokenMs: prefillMs,
    kv: {
      heldBytes: held * kvEntryBytes(backend),
      fullBytes: fullCacheBytes(backend, prompt.length + generated.length - 1),
      evictions: backend.evictions().length,
    },
  };
}

/** Bytes one cached entry takes (K and V), as the telemetry counts them: f32. */
function kvEntryBytes(backend: ForwardBackend): number {
  return 2 * backend.model.config.headDim * 4;
}

/** Bytes the full cache holds once `written` positions are in it: every layer's and KV head's entry for each. */
function fullCacheBytes(backend: ForwardBackend, written: number): number {
  const c = backend.model.config;
  return written * c.numLayers * c.numKvHeads * kvEntryBytes(backend);
}

/** Where the first stop string begins, searching what was added since `from`; -1 if none. */
function firstStop(text: string, stops: readonly string[], from: number): number {
  let at = -1;
  for (const s of stops) {
    const i = text.indexOf(s, Math.max(0, from - s.length + 1));
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

/** Step.cache: what the cache holds after each step, the evictions since the last, the watched layer. */
function createTelemetry(backend: ForwardBackend, prompt: readonly number[]) {
  let promptPieces: string[] | undefined = prompt.map((id) => backend.model.tokenizer.decode([id]));
  const entryBytes = kvEntryBytes(backend);
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
        fullBytes: fullCacheBytes(backend, written),
        evicted,
        watched: backend.watched()[0],
      };
    },
  };
}

/** The end-of-turn markers of the chat templates we run, as the decoder writes them. */
const END_MARKERS = /<\|im_end\|>|<\|endoftext\|>|<\|eot_id\|>|<｜end▁of▁sentence｜>/g;

/** Text without the think markers and end-of-turn markers (what a reader is shown). */
export function withoutMarkers(text: string): string {
  return text.replace(END_MARKERS, '').replace(/<\/?think>/g, '');
}

function answerText(text: string, endThink: number): string {
  const after = endThink >= 0 ? text.slice(endThink + '</think>'.length) : text;
  return after.replace(END_MARKERS, '').trim();
}

function emitRows(options: LoopOptions, posStart: number, rows: number, logits: Float32Array | Float64Array, vocab: number) {
  const count = logits.length / vocab;
  for (let r = 0; r < count; r++) {
    const position = posStart + rows - count + r;
    options.onLogits!(position, logits.subarray(r * vocab, (r + 1) * vocab));
  }
}
