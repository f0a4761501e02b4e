/**
 * The one interface the UI codes against (web-llm's MLCEngineInterface, minus its hand-written
 * RPC). It runs the same in a module worker (client.ts, production) or in the page's own
 * thread (tests).
 */
import type { EngineCore, EstimateRequest, LoadRequest } from './engine-core.ts';
import type { MemoryEstimate } from './memory-estimate.ts';
import type { AnswerFirstAnalysis, GenerateRequest, GenerationResult, LoadProgressEvent, ModelInfo, PromptInput, Step } from './types.ts';

export interface Generation extends AsyncIterable<Step> {
  /** Settles when generation ends (rejects with the engine's error). */
  result: Promise<GenerationResult>;
}

export interface Engine {
  load(request: LoadRequest, onProgress?: (p: LoadProgressEvent) => void): Promise<ModelInfo>;
  generate(request: GenerateRequest): Generation;
  /** The answer-first analysis of a finished generation (its prompt and generated ids). */
  analyzeAnswer(prompt: string | PromptInput, generatedIds: number[]): Promise<AnswerFirstAnalysis>;
  /** What a model folder needs on the GPU (weights, KV at a budget and context, working buffers), before loading it. */
  estimate(request: EstimateRequest): Promise<MemoryEstimate>;
  abort(): Promise<void>;
  /** Forgets the cached conversation (a chat's next turn then prefills its whole history). */
  resetChat(): Promise<void>;
  /** Frees the model; load() again to generate. */
  unload(): Promise<void>;
}

/** Turns the callback-style core (local or behind Comlink) into the streaming Engine. */
export function engineFromCore(core: EngineCore | { [K in keyof EngineCore]: (...a: Parameters<EngineCore[K]>) => Promise<Awaited<ReturnType<EngineCore[K]>>> }): Engine {
  return {
    load: (request, onProgress) => Promise.resolve(core.load(request, onProgress)),
    analyzeAnswer: (prompt, ids) => Promise.resolve(core.analyzeAnswer(prompt, ids)),
    estimate: (request) => Promise.resolve(core.estimate(request)),
    abort: async () => {
      await core.abort();
    },
    resetChat: async () => {
      await core.resetChat();
    },
    unload: () => Promise.resolve(core.unload()),
    generate(request) {
      const queue: Step[] = [];
      let wake: (() => void) | undefined;
      let finished = false;
      const result = Promise.resolve(
        core.generate(request, (steps: Step[]) => {
          queue.push(...steps);
          wake?.();
        }),
      ).finally(() => {
        finished = true;
        wake?.();
      });
      result.catch(() => {}); // the caller observes errors through `result` or the iterator
      return {
        result,
        async *[Symbol.asyncIterator]() {
          for (;;) {
            while (queue.length > 0) yield queue.shift()!;
            if (finished) {
              await result; // rethrows the engine's error
              return;
            }
            await new Promise<void>((r) => (wake = r));
            wake = undefined;
          }
        },
      };
    },
  };
}
