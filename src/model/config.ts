/**
 * config.json of a Hugging Face model, validated and normalised into the few numbers the
 * engine needs. Supported families: qwen3 (q/k RMSNorm, tied embeddings), qwen2 (q/k/v bias,
 * untied lm_head; R1-Distill-Qwen) and llama (llama3 RoPE scaling).
 */
import { InvalidConfigError, UnsupportedArchitectureError } from '../errors.ts';

export const SUPPORTED_ARCHITECTURES = ['qwen3', 'qwen2', 'llama'] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

export interface Llama3RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

export interface ModelConfig {
  architecture: Architecture;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: Llama3RopeScaling | null;
  maxPositions: number;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry a bias (qwen2 always; llama when attention_bias). */
  qkvBias: boolean;
  /** Per-head RMSNorm of q and k before RoPE (qwen3). */
  qkNorm: boolean;
}

type Json = Record<string, unknown>;

function positiveInt(cfg: Json, key: string, fallback?: number): number {
  const v = cfg[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new InvalidConfigError(`"${key}" must be a positive integer (got ${JSON.stringify(cfg[key])})`);
  }
  return v;
}

function positiveNumber(cfg: Json, key: string, fallback: number): number {
  const v = cfg[key] ?? fallback;
  if (typeof v !== 'number' || !(v > 0)) throw new InvalidConfigError(`"${key}" must be a positive number`);
  return v;
}

function parseRopeScaling(raw: unknown): Llama3RopeScaling | null {
  if (raw === null || raw === undefined) return null;
  const r = raw as Json;
  const type = r.rope_type ?? r.type;
  if (type === 'default') return null;
  if (type !== 'llama3') {
    throw new InvalidConfigError(`rope_scaling type "${String(type)}" is not supported (only llama3)`);
  }
  return {
    factor: positiveNumber(r, 'factor', NaN),
    lowFreqFactor: positiveNumber(r, 'low_freq_factor', 1),
    highFreqFactor: positiveNumber(r, 'high_freq_factor', 4),
    originalMaxPositions: positiveInt(r, 'original_max_position_embeddings', 8192),
  };
}

export function parseConfig(cfg: Json): ModelConfig {
  const modelType = String(cfg.model_type ?? '');
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(modelType)) {
    throw new UnsupportedArchitectureError(modelType || '(missing)', SUPPORTED_ARCHITECTURES);
  }
  const architecture = modelType as Architecture;
  const hiddenSize = positiveInt(cfg, 'hidden_size');
  const numHeads = positiveInt(cfg, 'num_attention_heads');
  const numKvHeads = positiveInt(cfg, 'num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new InvalidConfigError(`num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  }
  const headDim = positiveInt(cfg, 'head_dim', hiddenSize / numHeads);
  if (headDim % 2 !== 0) throw new InvalidConfigError(`head_dim ${headDim} must be even for RoPE`);
  if (cfg.hidden_act !== undefined && cfg.hidden_act !== 'silu') {
    throw new InvalidConfigError(`hidden_act "${String(cfg.hidden_act)}" is not supported (only silu)`);
  }
  return {
    architecture,
    hiddenSize,
    intermediateSize: positiveInt(cfg, 'intermediate_size'),
    numLayers: positiveInt(cfg, 'num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: positiveInt(cfg, 'vocab_size'),
    rmsNormEps: positiveNumber(cfg, 'rms_norm_eps', 1e-6),
    ropeTheta: positiveNumber(cfg, 'rope_theta', 10000),
    ropeScaling: parseRopeScaling(cfg.rope_scaling),
    maxPositions: positiveInt(cfg, 'max_position_embeddings', 2048),
    tieWordEmbeddings: Boolean(cfg.tie_word_embeddings ?? false),
    qkvBias: architecture === 'qwen2' || (architecture === 'llama' && Boolean(cfg.attention_bias)),
    qkNorm: architecture === 'qwen3',
  };
}
