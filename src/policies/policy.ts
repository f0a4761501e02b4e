/**
 * The eviction-policy interface (kvpress's one-method press, made decoding-time). A policy keeps
 * per-slot state, folds each query's attention into it, and scores slots: the lowest score is
 * evicted first. Protection (sinks, recent window, the prompt in `think` mode) and the choice of
 * the victim live once, in select.ts. State is indexed by physical slot, as on the GPU.
 * A policy file exports a PolicyDefinition: its parameters (validated once, params.ts), its CPU
 * rule and its GPU rule; the registry lists the definitions.
 */
import type { ParamSchema, Resolved } from './params.ts';
import type { KernelRule } from '../kernels/eviction-rules.ts';
import type { HeadSlots, PolicyState } from '../kernels/policy-state.ts';
import type { ProbeSpec } from './probe.ts';

export type Granularity = 'head' | 'layer' | 'model';

export type { HeadSlots, PolicyState } from '../kernels/policy-state.ts';
export { createPolicyState, resetSlot } from '../kernels/policy-state.ts';

/**
 * How the GPU engine runs a policy: for each eviction kernel, the branch it takes (a rule its
 * shader numbers, RULE_<NAME>) and the override constants that branch reads, by their WGSL names
 * (kernels/eviction-rules.ts). score-update.wgsl folds each query's attention (`update`),
 * policy-score.wgsl recomputes scores that depend on the head's other entries before each choice
 * (`rescore`), and select-victim.wgsl (per head, or per layer: 'layer') or, for a model-wide
 * policy, select-model.wgsl ('model') picks the victims. No victim rule: nothing is evicted (full).
 */
export interface GpuRule {
  update?: KernelRule;
  rescore?: KernelRule;
  victim?: KernelRule;
}

/** A GPU rule, or why this policy (with these parameters) runs on the CPU reference only. */
export type GpuSupport = GpuRule | { cpuOnly: string };

export interface EvictionPolicy {
  readonly id: string;
  /** arXiv id and title. */
  readonly paper: string;
  readonly summary: string;
  readonly granularity: Granularity;
  /** The first `sinks` positions of a head are never evicted. */
  readonly sinks: number;
  /** The `recent` newest entries of a head are never evicted. */
  readonly recent: number;
  /** How the KV group's query heads' attention rows combine before observe (default mean). */
  readonly combine?: 'mean' | 'max';
  /** Attention values of past queries kept per slot (0: none). */
  readonly historyWindow: number;
  /** Budgets re-divided by utilisation every `period` decode steps, each head keeping `floor` of the uniform budget (crystal). */
  readonly rebalance?: { period: number; floor: number };
  /**
   * Scores within this relative distance of the lowest count as tied (the layer decision): what f32
   * attention cannot order, so the GPU engine and the CPU reference decide alike.
   */
  readonly nearTie?: number;
  /** Evicts in bursts: a full head drops this share of its budget at once (r-kv's buffer). */
  readonly burst?: number;
  /** Whether the engine must supply the key pool (r-kv). */
  readonly needsKeys?: boolean;
  /** Whether the engine must supply ||v W_O|| per new entry (laprox). */
  readonly needsValueNorm?: boolean;
  /**
   * The answer-first probe this policy reads (policies/probe.ts): while the model thinks, each
   * decode step also runs probe rows whose attention folds into state.probe. None: no probe.
   */
  readonly probe?: ProbeSpec;
  /** The GPU engine's rules for this policy, or the reason it has none. */
  readonly gpu: GpuSupport;
  /** A new entry written at `position`. Default: zero state. */
  admit?(state: PolicyState, slot: number, position: number, valueNorm: number): void;
  /**
   * The attention one query (at `position`) paid to the head's valid entries, combined over the
   * query heads of the KV group: attention[i] belongs to head.slots[i].
   */
  observe?(state: PolicyState, head: HeadSlots, attention: Float64Array, position: number): void;
  /**
   * One query of a layer, every query head's, after the q norm and before RoPE: (heads, headDim),
   * at `position` (policies that keep query statistics; the CPU reference calls it for every row).
   */
  observeQueries?(state: PolicyState, layer: number, q: Float64Array, position: number): void;
  /**
   * Scores of the head's valid entries at step `position` (lowest is evicted first).
   * `protectBelow`: positions below it are kept whatever the score (the prompt in think mode).
   */
  score(state: PolicyState, head: HeadSlots, position: number, out: Float64Array, protectBelow?: number): void;
  /** A research policy's account of what it did during the run, as counts by "group/name" (the eval sums them and prints each group's shares). */
  report?(): Record<string, number>;
}

export interface PolicyDefinition<S extends ParamSchema = ParamSchema> {
  readonly id: string;
  readonly params: S;
  /** A research instrument (the CPU reference and the eval only; not offered on the page). */
  readonly research?: boolean;
  create(params: Resolved<S>): EvictionPolicy;
}

/** Declares a definition with its schema's names checked against create's parameters. */
export function definePolicy<S extends ParamSchema>(d: PolicyDefinition<S>): PolicyDefinition<S> {
  return d;
}
