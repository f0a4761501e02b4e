/**
 * What crosses between the UI and the engine: plain, structured-clone data only.
 * The UI codes against `Engine` (engine.ts) and never imports gpu/, kernels/ or kv/.
 */

export interface SamplingParams {
  /** 0 = greedy (argmax). */
  temperature: number;
  topP: number;
  seed: number;
}

export const GREEDY: SamplingParams = { temperature: 0, topP: 1, seed: 0 };

export interface GenerateRequest {
  /** The user's message; the model's chat template wraps it. */
  prompt: string;
  maxNewTokens: number;
  sampling: SamplingParams;
  /** Eviction policy and budget; absent: the full cache. */
  cache?: { policy: string; budget?: number; mode?: 'all' | 'think'; params?: Record<string, number> };
}

export type Phase = 'think' | 'answer';

export interface Step {
  /** 0-based index of the generated token. */
  index: number;
  token: number;
  /** Text this token released (byte-level BPE may hold a piece back until it is whole). */
  text: string;
  phase: Phase;
  /** Wall time of this decode step in ms (the prefill for index 0). */
  stepMs: number;
}

export type StopReason = 'eos' | 'max-tokens' | 'context-full' | 'aborted';

export interface GenerationResult {
  promptTokens: number;
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
