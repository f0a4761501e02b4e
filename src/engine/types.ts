/**
 * What crosses between the UI and the engine: plain, structured-clone data only.
 * The UI codes against `Engine` (engine.ts) and never imports gpu/, kernels/ or kv/.
 */
import type { CacheConfig } from '../kv/budget.ts';
import type { WatchedAttention } from '../kv/watched-attention.ts';
import type { ChatMessage } from '../tokenizer/chat-template.ts';

export type { CacheConfig, ChatMessage };

export interface SamplingParams {
  /** 0 = greedy (argmax). */
  temperature: number;
  topP: number;
  seed: number;
}

export const GREEDY: SamplingParams = { temperature: 0, topP: 1, seed: 0 };

export interface GenerateRequest {
  /** One user message, which the model's chat template wraps; or `messages` (exactly one of the two). */
  prompt?: string;
  /** A conversation (system, user and assistant turns; assistant turns hold their answers). */
  messages?: ChatMessage[];
  /**
   * false: the answer opens with an empty think block (Qwen3's enable_thinking, or the block
   * appended after the generation prompt for templates without the switch). Default: think.
   */
  enableThinking?: boolean;
  /**
   * A chat's next turn: keep the cached KV of the prefix this prompt shares with the previous
   * sequence (same cache settings) and prefill only the rest; what follows the prefix (the earlier
   * turn's think entries) is dropped from the cache. Default: a fresh sequence.
   */
  reusePrefix?: boolean;
  /** Texts that end the generation when written (the text is cut before them). */
  stop?: string[];
  maxNewTokens: number;
  sampling: SamplingParams;
  /** Eviction policy and budget; absent: the full cache. */
  cache?: CacheConfig;
  /** Report what the cache holds with every step (Step.cache); watch one layer's attention. */
  telemetry?: { watchLayer?: number };
}

/** What a prompt is made of: one user message, or a conversation (and the thinking switch). */
export type PromptInput = Pick<GenerateRequest, 'prompt' | 'messages' | 'enableThinking'>;

/** One layer's attention from a step's query: for each KV head, the entries it holds. */
export type { WatchedAttention };

/** What the KV cache holds once a step's token is written (GenerateRequest.telemetry). */
export interface CacheSnapshot {
  /** (layers * kvHeads) entries each head holds. */
  counts: Int32Array;
  /** (layers * kvHeads) entries each head may hold now: its budget (it moves under crystal), or the context. */
  limits: Int32Array;
  /** Bytes of K and V (f32) the held entries take. */
  heldBytes: number;
  /** Bytes the full cache would hold at the same point. */
  fullBytes: number;
  /** Entries evicted since the previous step, as (layer, kvHead, position) triples. */
  evicted: Int32Array;
  /** Step 0 only: the text of each prompt token, by position (hover labels). */
  promptPieces?: string[];
  /**
   * The watched layer, seen by the query that produced this token: at step 0 the prompt's last
   * row (before the `all` cut), later the previous token's, after this step's evictions.
   */
  watched?: WatchedAttention;
}

export type Phase = 'think' | 'answer';

/** CrystalKV and SlipKV: the top and the bottom share of the think entries (the answer-first analysis, the probe's marks on the page). */
export const TIER_SHARE = 0.3;

export interface Step {
  /** 0-based index of the generated token. */
  index: number;
  token: number;
  /** Text this token released (byte-level BPE may hold a piece back until it is whole). */
  text: string;
  phase: Phase;
  /** Wall time of this decode step in ms (the prefill for index 0). */
  stepMs: number;
  /** Absolute position the token will be written at (prompt length + index). */
  position: number;
  cache?: CacheSnapshot;
}

export type StopReason = 'eos' | 'stop' | 'max-tokens' | 'context-full' | 'aborted';

export interface GenerationResult {
  promptTokens: number;
  /** Prompt tokens whose KV was kept from the previous sequence (reusePrefix): not prefilled again. */
  reusedTokens: number;
  /** Prompt tokens this generation prefilled (promptTokens - reusedTokens). */
  prefilledTokens: number;
  generatedIds: number[];
  text: string;
  /** Tokens between <think> and </think> (to the end when it never closed). */
  thinkTokens: number;
  closedThink: boolean;
  /** Text after </think> (the whole text when there was no think stage), trimmed. */
  answer: string;
  stopReason: StopReason;
  prefillMs: number;
  decodeMs: number;
  /** Generated tokens per second over the decode steps (prefill excluded). */
  tokensPerSecond: number;
  /** Prefilled tokens per second. */
  prefillTokensPerSecond: number;
  /** At the end: bytes of K and V the cache holds, what the full cache would, and entries evicted. */
  kv: { heldBytes: number; fullBytes: number; evictions: number };
  timeToFirstTokenMs: number;
}

export interface ModelInfo {
  name: string;
  architecture: string;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  contextLength: number;
  parameters: number;
  backend: 'gpu' | 'cpu-reference';
  adapter: string;
}

export interface LoadProgressEvent {
  stage: string;
  loaded: number;
  total: number;
}

/** The answer-first analysis (Crystal-KV section 3) of a finished generation: engine.analyzeAnswer. */
export interface AnswerFirstAnalysis {
  /** Position of the first think token (after <think>). */
  thinkStart: number;
  /** Position of </think>. */
  thinkEnd: number;
  /** Queries that wrote the answer (from </think> to the one before the last token). */
  answerQueries: number;
  /** (thinkEnd - thinkStart) attention the answer paid each think position, mean over layers, KV heads and queries. */
  attention: Float32Array;
  /** Per think position: the top 30% by attention (crystal), the bottom 30% (slip), or between. */
  tier: ('crystal' | 'slip' | 'middle')[];
}
