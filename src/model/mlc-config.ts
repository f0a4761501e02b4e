/**
 * mlc-chat-config.json, read the way web-llm reads it (its ChatConfig): the architecture and its
 * sizes from `model_type` and `model_config`, the quantization, the context and sliding windows,
 * stop tokens (conv_template.stop_token_ids and eos_token_id) and the tokenizer files.
 */
import { InvalidConfigError, UnsupportedQuantizationError } from '../errors.ts';
import { parseConfig, type ModelConfig } from './config.ts';

export const MLC_QUANTIZATIONS = ['q4f16_1', 'q4f32_1', 'q0f16', 'q0f32'] as const;
export type MlcQuantization = (typeof MLC_QUANTIZATIONS)[number];

export interface MlcChatConfig {
  config: ModelConfig;
  quantization: MlcQuantization;
  /** 4-bit group quantization (q4*), or plain tensors (q0*). */
  q4: boolean;
  /** float16 or float32: what the non-quantized tensors (norms, scales, biases) are stored as. */
  modelDtype: 'float16' | 'float32';
  /** The context the engine may use: context_window_size, capped by a sliding window if any. */
  contextWindow: number;
  stopTokenIds: number[];
  tokenizerFiles: string[];
}

type Json = Record<string, unknown>;

const ids = (v: unknown): number[] =>
  typeof v === 'number' ? [v] : Array.isArray(v) ? v.filter((x): x is number => Number.isInteger(x)) : [];

export function parseMlcChatConfig(raw: Json): MlcChatConfig {
  const quantization = String(raw.quantization ?? '');
  if (!(MLC_QUANTIZATIONS as readonly string[]).includes(quantization)) {
    throw new UnsupportedQuantizationError(quantization || '(missing)', MLC_QUANTIZATIONS);
  }
  const model = raw.model_config;
  if (!model || typeof model !== 'object') throw new InvalidConfigError('mlc-chat-config.json has no "model_config"');
  const m = model as Json;
  const window = (v: unknown) => (typeof v === 'number' && v > 0 ? v : undefined);
  const context = window(raw.context_window_size) ?? window(m.context_window_size) ?? window(m.max_position_embeddings);
  if (context === undefined) throw new InvalidConfigError('mlc-chat-config.json has no positive "context_window_size"');
  // The engine attends over the whole context; within a sliding window that is the same thing.
  const sliding = window(raw.sliding_window_size) ?? window(m.sliding_window_size);
  const contextWindow = sliding !== undefined ? Math.min(context, sliding) : context;
  const config = parseConfig({
    ...m,
    model_type: raw.model_type,
    // mlc-llm's llama names RoPE's base position_embedding_base.
    rope_theta: m.rope_theta ?? m.position_embedding_base,
    max_position_embeddings: contextWindow,
  });
  const conv = (raw.conv_template ?? {}) as Json;
  const files = Array.isArray(raw.tokenizer_files) ? raw.tokenizer_files.filter((f): f is string => typeof f === 'string') : [];
  return {
    config,
    quantization: quantization as MlcQuantization,
    q4: quantization.startsWith('q4'),
    modelDtype: quantization.includes('f16') ? 'float16' : 'float32',
    contextWindow,
    stopTokenIds: [...new Set([...ids(conv.stop_token_ids), ...ids(raw.eos_token_id)])],
    tokenizerFiles: files,
  };
}
