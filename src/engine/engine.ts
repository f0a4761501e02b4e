/**
 * The engine's methods, declared once. EngineCore is the callback-style engine (engine-core.ts
 * implements it; the worker exposes it with Comlink); Engine, the one interface the UI codes
 * against (web-llm's MLCEngineInterface, minus its hand-written RPC), is derived from it: the same
 * methods returning promises, with generate streaming its steps. It runs the same in a module
 * worker (client.ts, production) or in the page's own thread (tests). The in-thread facade, the
 * Comlink client and the delivered-callbacks wrapper are all made from CORE_METHODS.
 */
import type { CacheConfig } from '../kv/budget.ts';
import type { MemoryEstimate } from './memory-estimate.ts';
import type { AnswerFirstAnalysis, GenerateRequest, GenerationResult, LoadProgressEvent, ModelInfo, PromptInput, Step } from './types.ts';

export interface LoadRequest {
  /** URL of a Hugging Face model folder. */
  url: string;
  name?: string;
  backend?: 'gpu' | 'cpu-reference';
  contextLength?: number;
}

export interface EstimateRequest {
  url: string;
  cache?: CacheConfig;
  contextLength?: number;
  promptLength?: number;
}

export interface EngineCore {
  load(request: LoadRequest, onProgress?: (p: LoadProgressEvent) => void): Promise<ModelInfo>;
  generate(request: GenerateRequest, onSteps: (steps: Step[]) => void): Promise<GenerationResult>;
  /** What a model folder needs on the GPU (weights, KV at a budget and context, working buffers), from its config files alone, before loading it. */
  estimate(request: EstimateRequest): Promise<MemoryEstimate>;
  /** Replays a finished generation (its prompt and generated ids) with the full cache: which think entries the answer read (answer-first.ts). */
  analyzeAnswer(prompt: string | PromptInput, generatedIds: number[]): Promise<AnswerFirstAnalysis>;
  /** Stops the running generation or, when none has started yet, the next one asked for. */
  abort(): void;
  /** Forgets the cached conversation: the next request (a chat's next turn) starts a fresh sequence and prefills its whole history. */
  resetChat(): void;
  /** Frees the model's GPU buffers (after the running generation); load() again to generate. */
  unload(): Promise<void>;
}

// `satisfies` makes a method added to EngineCore and missing here a compile error that names it.
const LISTED = { load: true, generate: true, estimate: true, analyzeAnswer: true, abort: true, resetChat: true, unload: true } satisfies Record<keyof EngineCore, true>;
/** Every method of EngineCore, by name: the one list the facades forward. */
export const CORE_METHODS = Object.keys(LISTED) as (keyof EngineCore)[];

/** The same methods, each returning a promise (what a Comlink proxy of T offers). */
export type Promised<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never };

export interface Generation extends AsyncIterable<Step> {
  /** Settles when generation ends (rejects with the engine's error). */
  result: Promise<GenerationResult>;
}

export type Engine = Promised<Omit<EngineCore, 'generate'>> & {
  /** Starts a generation: iterate it for the steps as they come, await `result` for the end. */
  generate(request: GenerateRequest): Generation;
};

/** Calls `method` of `target` with `args` (a method chosen by name from CORE_METHODS). */
export function callMethod(target: EngineCore | Promised<EngineCore>, method: keyof EngineCore, args: unknown[]): unknown {
  return (target[method] as (...a: unknown[]) => unknown)(...args);
}

/** Turns the callback-style core (local or behind Comlink) into the streaming Engine. */
export function engineFromCore(core: EngineCore | Promised<EngineCore>): Engine {
  const forwarded = Object.fromEntries(
    CORE_METHODS.filter((m) => m !== 'generate').map((m) => [m, async (...args: unknown[]) => await callMethod(core, m, args)]),
  ) as Promised<Omit<EngineCore, 'generate'>>;
  return {
    ...forwarded,
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
