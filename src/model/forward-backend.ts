/**
 * A forward backend runs tokens through the model and samples the next token. Two exist:
 * the GPU engine (WGSL kernels) and the CPU reference (f64 loops, the oracle). Both keep the
 * same paged-KV bookkeeping (kv/kv-layout.ts).
 */
import { budgetPages, type BudgetSpec, type CacheConfig } from '../kv/budget.ts';
import { kvGeometry, type KvGeometry, type KvLayout } from '../kv/kv-layout.ts';
import { continuationPages } from '../kv/rewind.ts';
import type { WatchedAttention } from '../kv/watched-attention.ts';
import type { BudgetChange, Eviction } from '../policies/eviction-driver.ts';
import type { EvictionPolicy } from '../policies/policy.ts';
import type { ProbeRequest, ProbeResult, ProbeSpec } from '../policies/probe.ts';
import type { ModelConfig } from './config.ts';
import type { LoadedModel } from './load-model.ts';

export interface BackendOptions {
  /** Most positions a sequence may use (default: max_position_embeddings, at most 4096). */
  contextLength?: number;
  pageSize?: number;
  /** Prefill tile: most tokens one forward call takes (default 64). */
  maxStepTokens?: number;
  /** K and V in 16 bits (default: when the model computes in 16 bits, kvIs16Bit). */
  kvDtype?: 'f32' | 'f16';
  /** GPU engine: the most bytes one storage binding spans (default: the device's limit; tests lower it to split weights). */
  maxBindingBytes?: number;
}

/** The sizes both backends derive from the model and the options, so they always agree. */
export function backendSizes(c: ModelConfig, options: BackendOptions): { contextLength: number; maxStepTokens: number; geometry: KvGeometry } {
  const contextLength = options.contextLength ?? Math.min(c.maxPositions, 4096);
  const maxStepTokens = options.maxStepTokens ?? 64;
  const geometry = kvGeometry({
    numLayers: c.numLayers,
    numKvHeads: c.numKvHeads,
    headDim: c.headDim,
    pageSize: options.pageSize ?? 16,
    capacityPerHead: contextLength,
    maxStepTokens,
    kv16: options.kvDtype === 'f16',
  });
  return { contextLength, maxStepTokens, geometry };
}

/**
 * The geometry of one sequence: the whole context per head for the full cache; under a budget,
 * a pool of budgetPages (kv/budget.ts). maxPagesPerHead (the block tables, the attention row)
 * stays context-sized, so any head can take any share of a budget that moves to it. Without the
 * prompt's length, the prompt may fill the context. A policy that evicts across the whole model
 * (laprox) has no per-head limit, and nothing compacts its heads: it keeps the context-sized pool.
 */
export function sequenceGeometry(
  base: KvGeometry, // backendSizes' context-sized geometry
  spec: BudgetSpec | null, // null: the full cache
  promptLength: number | undefined,
  policy: Pick<EvictionPolicy, 'granularity' | 'rebalance'>,
): KvGeometry {
  if (!spec || policy.granularity === 'model') return base;
  const heads = base.numLayers * base.numKvHeads;
  const prompt = promptLength ?? base.maxPagesPerHead * base.pageSize;
  const pages = budgetPages(spec, prompt, heads, base.pageSize, policy.rebalance !== undefined);
  return { ...base, numPages: Math.min(base.numPages, pages) };
}

/**
 * The pool a sequence cached in `layout` needs to go on as a prompt of `promptLength` tokens
 * sharing its first `keep`: at least what a fresh sequence of that prompt gets (so decoding keeps
 * its bound, kv/budget.ts), and room for the new tokens beside the kept ones until the cut. The
 * current geometry when it holds that, a larger one (more pages) when the pool must grow, null
 * when a head would pass the context.
 */
export function continuationGeometry(
  layout: KvLayout,
  base: KvGeometry, // backendSizes' context-sized geometry
  spec: BudgetSpec | null,
  policy: Pick<EvictionPolicy, 'granularity' | 'rebalance'>,
  keep: number,
  promptLength: number,
): KvGeometry | null {
  const fresh = sequenceGeometry(base, spec, promptLength, policy).numPages;
  const append = continuationPages(layout, keep, promptLength - keep);
  if (append === null) return null;
  const pages = Math.max(fresh, append);
  return pages <= layout.geometry.numPages ? layout.geometry : { ...layout.geometry, numPages: Math.min(base.numPages, pages) };
}

export interface SampleControl {
  temperature: number;
  topP: number;
  /** Uniform random number in [0, 1) drawn on the host, so runs are reproducible. */
  u: number;
}

export type LogitsRequest = 'none' | 'last' | 'all';

export interface ForwardResult {
  token: number;
  /** (rows, vocab): the last row, or every row of the step, when asked for. */
  logits?: Float32Array | Float64Array;
  /** With probe rows: the greedy prediction after each of them (policies/probe.ts). */
  probe?: ProbeResult;
}

export interface ForwardBackend {
  kind: 'gpu' | 'cpu-reference';
  model: LoadedModel;
  /** Most tokens one forward call takes (the prefill tile). */
  maxStepTokens: number;
  /** Most positions a sequence may use. */
  contextLength: number;
  adapter: string;
  /** Bytes of K and V (f32) the current sequence's pool holds: the budget's, or the context's. */
  readonly kvBytes: number;
  /**
   * Forgets the cached sequence and sets the eviction policy for the next one. Under a budget the
   * KV pool is re-sized for it (and for a prompt of `promptLength` tokens; the whole context if
   * not given).
   */
  reset(cache?: CacheConfig, promptLength?: number): void;
  /**
   * Continues the current sequence (its cache settings unchanged) for a prompt of `promptLength`
   * tokens that shares its first `keep` with it: entries at positions >= keep are dropped and the
   * next forward writes at `keep`; a budget's pool grows (its entries copied) when the longer
   * prompt needs more pages. False, with nothing changed, when a head would pass the context.
   */
  resume(keep: number, promptLength: number): boolean;
  /** Called once the whole prompt is in the cache (`all` mode cuts it to the budget here). */
  finishPrefill(promptLength: number): void | Promise<void>;
  /** Every eviction of the current sequence so far, in order. */
  evictions(): readonly Eviction[];
  /** Every re-division of the per-head budgets so far (crystal), in order. */
  rebalances(): readonly BudgetChange[];
  /** Entries each (layer, kvHead) holds now. */
  occupancy(): Int32Array;
  /** Entries each (layer, kvHead) may hold now (its budget, or the context without one). */
  limits(): Int32Array;
  /** From the next forward on, keep these layers' attention from the last query row (none: []). */
  watch(layers: readonly number[]): void;
  /** The watched layers' attention from the last forward call, in layer order. */
  watched(): readonly WatchedAttention[];
  /** The current sequence's answer-first probe (its policy's), if it has one. */
  probe(): ProbeSpec | undefined;
  /**
   * Appends `tokens` at positions posStart.. to the cache and samples from the last row. `probe`
   * (a decode step of a policy with a probe): rows run after the token at the next positions,
   * whose K/V are never kept; their attention folds into the policy's probe scores.
   */
  forward(tokens: readonly number[], posStart: number, sample: SampleControl, logits?: LogitsRequest, probe?: ProbeRequest): Promise<ForwardResult>;
  dispose(): void;
}
