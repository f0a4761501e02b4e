/**
 * Crystal behind web-llm's MLCEngineInterface: an app written against web-llm switches by changing
 * its import (CreateMLCEngine -> CreateCrystalEngine, CreateWebWorkerMLCEngine ->
 * CreateWebWorkerCrystalEngine). Chat completions stream the think text as
 * `delta.reasoning_content` and the answer as `delta.content`; the KV policy, budget and mode are
 * chat options (kv_cache); a conversation that goes on reuses its cached prefix. Requests run one
 * after another: a second one waits for the first (as web-llm's engine lock does).
 */
import type {
  AppConfig,
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionFinishReason,
  ChatCompletionRequest,
  ChatCompletionRequestNonStreaming,
  ChatCompletionRequestStreaming,
  ChatOptions,
  CompletionUsage,
  InitProgressCallback,
  LogLevel,
  MLCEngineConfig,
  MLCEngineInterface,
  ResumeProbeResult,
} from '@mlc-ai/web-llm';
import { createWorkerEngine } from '../engine/client.ts';
import { createEngineCore } from '../engine/engine-core.ts';
import { engineFromCore, type Engine, type Generation } from '../engine/engine.ts';
import { validateRequest } from '../engine/validate-request.ts';
import type { GenerateRequest, GenerationResult, ModelInfo, StopReason } from '../engine/types.ts';
import { evictionSpec } from '../kv/budget.ts';
import { InvalidRequestError, ModelNotLoadedError, UnsupportedFieldError, UnsupportedOperationError } from '../errors.ts';
import { toGenerateRequest } from './chat-request.ts';
import { findModelRecord, recordFolderUrl } from './model-records.ts';
import { createReplyDeltas } from './reply-deltas.ts';

/** web-llm's chat options, and Crystal's: which KV entries the cache keeps. */
export interface CrystalChatOptions extends ChatOptions {
  /** An eviction policy (POLICY_CATALOG), its budget (entries per KV head), mode and parameters; absent: the full cache. */
  kv_cache?: GenerateRequest['cache'];
  /** The GPU engine (default) or the CPU reference (f64, slow: tests). */
  backend?: 'gpu' | 'cpu-reference';
}

/** The usage web-llm reports, and what the cache held. */
export interface CrystalUsage extends CompletionUsage {
  extra: CompletionUsage['extra'] & {
    /** Bytes of K and V the cache held at the end, and what the full cache would have. */
    kv_held_bytes: number;
    kv_full_bytes: number;
    kv_evictions: number;
    /** Prompt tokens whose KV was kept from the previous turn (prompt_tokens counts only the rest). */
    reused_prompt_tokens: number;
    think_tokens: number;
  };
}

/** A streamed chunk's delta with the think text beside the answer. */
export type CrystalChunk = ChatCompletionChunk & { choices: (ChatCompletionChunk.Choice & { delta: { reasoning_content?: string } })[] };

const FINISH: Record<StopReason, ChatCompletionFinishReason> = { eos: 'stop', stop: 'stop', 'max-tokens': 'length', 'context-full': 'length', aborted: 'abort' };

export class CrystalEngine implements MLCEngineInterface {
  // web-llm's Chat and Completions classes only forward to the engine's methods; these objects do the same.
  chat = { completions: { create: (r: ChatCompletionRequest) => this.chatCompletion(r) } } as unknown as MLCEngineInterface['chat'];
  completions = { create: () => this.completion() } as unknown as MLCEngineInterface['completions'];
  embeddings = { create: () => this.embedding() } as unknown as MLCEngineInterface['embeddings'];

  private initProgressCallback?: InitProgressCallback;
  private appConfig?: AppConfig;
  private modelId: string | null = null;
  private info: ModelInfo | null = null;
  private options: CrystalChatOptions = {};
  private last: { result: GenerationResult; content: string } | null = null;

  constructor(
    private readonly engine: Engine,
    engineConfig: MLCEngineConfig = {},
  ) {
    this.appConfig = engineConfig.appConfig;
    this.initProgressCallback = engineConfig.initProgressCallback;
  }

  setInitProgressCallback(callback: InitProgressCallback): void {
    this.initProgressCallback = callback;
  }

  getInitProgressCallback(): InitProgressCallback | undefined {
    return this.initProgressCallback;
  }

  setAppConfig(appConfig: AppConfig): void {
    this.appConfig = appConfig;
  }

  setLogLevel(_logLevel: LogLevel): void {
    // Nothing to set: the engine writes nothing to the console; errors reach the caller as named errors.
  }

  async reload(modelId: string | string[], chatOpts?: ChatOptions | ChatOptions[]): Promise<void> {
    if (Array.isArray(modelId) && modelId.length !== 1) throw new UnsupportedFieldError('modelId (several models)', 'one model is loaded at a time');
    const id = Array.isArray(modelId) ? modelId[0] : modelId;
    const options: CrystalChatOptions = (Array.isArray(chatOpts) ? chatOpts[0] : chatOpts) ?? {};
    // The cache settings are checked now, as a request's would be, so a bad option fails the reload, not the first chat.
    if (options.kv_cache) validateRequest({ prompt: 'x', maxNewTokens: 1, sampling: { temperature: 0, topP: 1, seed: 0 }, cache: options.kv_cache });
    const record = await findModelRecord(id, this.appConfig);
    const started = performance.now();
    const report = this.initProgressCallback;
    this.modelId = null;
    this.info = null;
    this.last = null;
    this.info = await this.engine.load(
      {
        url: recordFolderUrl(record, globalThis.location?.href),
        name: id,
        backend: options.backend,
        contextLength: options.context_window_size ?? record.overrides?.context_window_size,
      },
      report &&
        ((p) =>
          report({
            progress: p.total > 0 ? p.loaded / p.total : 0,
            timeElapsed: (performance.now() - started) / 1000,
            text: `Loading ${id}: ${p.stage} ${p.loaded}/${p.total}`,
          })),
    );
    this.modelId = id;
    this.options = options;
    report?.({ progress: 1, timeElapsed: (performance.now() - started) / 1000, text: `Loaded ${id} (${this.info.backend}, ${this.info.adapter})` });
  }

  async unload(): Promise<void> {
    await this.engine.unload();
    this.modelId = null;
    this.info = null;
    this.last = null;
  }

  chatCompletion(request: ChatCompletionRequestNonStreaming): Promise<ChatCompletion>;
  chatCompletion(request: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>>;
  chatCompletion(request: ChatCompletionRequest): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion>;
  async chatCompletion(request: ChatCompletionRequest): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion> {
    if (!this.info || !this.modelId) throw new ModelNotLoadedError('chat.completions.create');
    if (request.model !== undefined && request.model !== null && request.model !== this.modelId) {
      throw new InvalidRequestError('model', `the loaded model "${this.modelId}" (or absent)`, request.model);
    }
    const o = this.options;
    const generate = toGenerateRequest(request, {
      maxTokens: this.info.contextLength,
      temperature: o.temperature ?? 0,
      topP: o.top_p ?? 1,
      cache: o.kv_cache,
    });
    const started = performance.now();
    const generation = this.engine.generate(generate);
    const meta = { id: `chatcmpl-${crypto.randomUUID()}`, created: Math.floor(Date.now() / 1000), model: this.modelId };
    if (request.stream) return this.chunks(generation, generate.stop ?? [], meta, request.stream_options?.include_usage === true, started);
    const deltas = createReplyDeltas(generate.stop);
    for await (const step of generation) deltas.push(step);
    deltas.end();
    const result = await generation.result;
    this.last = { result, content: deltas.content };
    const completion: ChatCompletion = {
      ...meta,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          finish_reason: FINISH[result.stopReason],
          logprobs: null,
          message: { role: 'assistant', content: deltas.content, reasoning_content: deltas.reasoning } as ChatCompletion.Choice['message'],
        },
      ],
      usage: usageOf(result, performance.now() - started),
    };
    return completion;
  }

  private async *chunks(
    generation: Generation,
    stops: readonly string[],
    meta: { id: string; created: number; model: string },
    includeUsage: boolean,
    started: number,
  ): AsyncGenerator<ChatCompletionChunk> {
    const chunk = (delta: { content?: string; reasoning_content?: string; role?: 'assistant' }, finish: ChatCompletionFinishReason | null): CrystalChunk => ({
      ...meta,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    });
    const deltas = createReplyDeltas(stops);
    const part = (d: { reasoning: string; content: string }) => ({
      role: 'assistant' as const,
      ...(d.reasoning ? { reasoning_content: d.reasoning } : {}),
      ...(d.content ? { content: d.content } : {}),
    });
    for await (const step of generation) {
      const d = deltas.push(step);
      if (d.reasoning || d.content) yield chunk(part(d), null);
    }
    const rest = deltas.end();
    const result = await generation.result;
    this.last = { result, content: deltas.content };
    yield chunk(part(rest), FINISH[result.stopReason]);
    if (includeUsage) yield { ...meta, object: 'chat.completion.chunk', choices: [], usage: usageOf(result, performance.now() - started) };
  }

  interruptGenerate(): void {
    void this.engine.abort();
  }

  async resetChat(keepStats = false): Promise<void> {
    await this.engine.resetChat();
    if (!keepStats) this.last = null;
  }

  async getMessage(): Promise<string> {
    if (!this.info) throw new ModelNotLoadedError('getMessage');
    return this.last?.content ?? '';
  }

  async runtimeStatsText(): Promise<string> {
    if (!this.info) throw new ModelNotLoadedError('runtimeStatsText');
    const r = this.last?.result;
    if (!r) return 'prefill: 0.0000 tokens/sec, decoding: 0.0000 tokens/sec';
    const mib = (b: number) => (b / 2 ** 20).toFixed(3);
    const c = this.options.kv_cache;
    const spec = evictionSpec(c);
    const cache = c && spec ? `${c.policy}, ${spec.mode} budget ${spec.budget}` : 'full cache';
    return (
      `prefill: ${r.prefillTokensPerSecond.toFixed(4)} tokens/sec, decoding: ${r.tokensPerSecond.toFixed(4)} tokens/sec, ` +
      `KV held: ${mib(r.kv.heldBytes)} of ${mib(r.kv.fullBytes)} MiB (${cache}), evictions: ${r.kv.evictions}`
    );
  }

  async getGPUVendor(): Promise<string> {
    if (!this.info) throw new ModelNotLoadedError('getGPUVendor');
    return this.info.adapter;
  }

  async getMaxStorageBufferBindingSize(): Promise<number> {
    throw new UnsupportedOperationError('getMaxStorageBufferBindingSize', 'the engine checks the device limits itself when it loads a model (GpuLimitError)');
  }

  async forwardTokensAndSample(_inputIds: number[], _isPrefill: boolean): Promise<number> {
    throw new UnsupportedOperationError('forwardTokensAndSample', 'the decode loop runs inside the engine, with the KV policy; use chat.completions.create');
  }

  async completion(): Promise<never> {
    throw new UnsupportedOperationError('completions.create', 'Crystal runs chat models through their chat template; use chat.completions.create');
  }

  async embedding(): Promise<never> {
    throw new UnsupportedOperationError('embeddings.create', 'Crystal runs reasoning chat models, not embedding models');
  }

  async listResumableSessions(): Promise<ResumeProbeResult[]> {
    return []; // nothing is checkpointed for resumption
  }

  async resumeChatCompletion(): Promise<never> {
    throw new UnsupportedOperationError('resumeChatCompletion', 'generations are not checkpointed for resumption');
  }

  async deleteResumableSession(): Promise<void> {
    throw new UnsupportedOperationError('deleteResumableSession', 'generations are not checkpointed for resumption');
  }
}

function usageOf(r: GenerationResult, e2eMs: number): CrystalUsage {
  const completion = r.generatedIds.length;
  const decodeSteps = completion - 1;
  return {
    prompt_tokens: r.prefilledTokens, // as web-llm counts a conversation that goes on: its new part
    completion_tokens: completion,
    total_tokens: r.prefilledTokens + completion,
    extra: {
      e2e_latency_s: e2eMs / 1000,
      prefill_tokens_per_s: r.prefillTokensPerSecond,
      decode_tokens_per_s: r.tokensPerSecond,
      time_to_first_token_s: r.timeToFirstTokenMs / 1000,
      time_per_output_token_s: decodeSteps > 0 ? r.decodeMs / decodeSteps / 1000 : 0,
      kv_held_bytes: r.kv.heldBytes,
      kv_full_bytes: r.kv.fullBytes,
      kv_evictions: r.kv.evictions,
      reused_prompt_tokens: r.reusedTokens,
      think_tokens: r.thinkTokens,
    },
  };
}

/** The engine in this thread (web-llm's CreateMLCEngine), loaded with `modelId`. */
export async function CreateCrystalEngine(modelId: string | string[], engineConfig?: MLCEngineConfig, chatOptions?: CrystalChatOptions): Promise<CrystalEngine> {
  const engine = new CrystalEngine(engineFromCore(createEngineCore()), engineConfig);
  await engine.reload(modelId, chatOptions);
  return engine;
}

/**
 * The engine in a module worker of the app's own (web-llm's CreateWebWorkerMLCEngine): the
 * worker's file is `import 'crystal/worker';`.
 */
export async function CreateWebWorkerCrystalEngine(
  worker: Worker,
  modelId: string | string[],
  engineConfig?: MLCEngineConfig,
  chatOptions?: CrystalChatOptions,
): Promise<CrystalEngine> {
  const engine = new CrystalEngine(createWorkerEngine(worker), engineConfig);
  await engine.reload(modelId, chatOptions);
  return engine;
}
