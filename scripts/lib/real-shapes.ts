/**
 * Random-weight MLC artifacts (q4f16_1) with the exact shapes of real reasoning models, for
 * kernels, limits and speed where real weights cannot be downloaded. Shapes are the models'
 * config.json values; `layers` cuts the depth (the test suite uses two). No Node imports: the
 * browser tests build these in memory, scripts/make-real-shape-models.ts writes them to disk.
 *
 * Codes are uniform in 0..14 (centred); scales make each output's variance about that of one input, so
 * activations stay in range through the layers; norms are 1; biases small.
 */
import { createRng } from '../../src/engine/rng.ts';
import { parseConfig } from '../../src/model/config.ts';
import { floatToHalf } from '../../src/gpu/half.ts';
import type { MlcQuantization } from '../../src/model/mlc-config.ts';
import { Q4_GROUP } from '../../src/model/linear.ts';
import { expectedMlcTensors } from '../../src/model/mlc-weights.ts';
import { mlcChatConfig } from './mlc-chat-config.ts';
import { buildTensorCache, type BuiltTensorCache, type TensorToWrite } from './tensor-cache-build.ts';

/** Hugging Face config.json fields of each model (Qwen/Qwen3-0.6B, deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B, Qwen/Qwen3-1.7B). */
export const REAL_SHAPES: Record<string, Record<string, unknown>> = {
  'qwen3-0.6b': {
    model_type: 'qwen3', hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28, num_attention_heads: 16,
    num_key_value_heads: 8, head_dim: 128, vocab_size: 151936, tie_word_embeddings: true, rope_theta: 1000000,
    rms_norm_eps: 1e-6, max_position_embeddings: 40960, hidden_act: 'silu', eos_token_id: 151645, bos_token_id: 151643,
  },
  'r1-distill-qwen-1.5b': {
    model_type: 'qwen2', hidden_size: 1536, intermediate_size: 8960, num_hidden_layers: 28, num_attention_heads: 12,
    num_key_value_heads: 2, vocab_size: 151936, tie_word_embeddings: false, rope_theta: 10000, rms_norm_eps: 1e-6,
    max_position_embeddings: 131072, hidden_act: 'silu', eos_token_id: 151643, bos_token_id: 151646,
  },
  'qwen3-1.7b': {
    model_type: 'qwen3', hidden_size: 2048, intermediate_size: 6144, num_hidden_layers: 28, num_attention_heads: 16,
    num_key_value_heads: 8, head_dim: 128, vocab_size: 151936, tie_word_embeddings: true, rope_theta: 1000000,
    rms_norm_eps: 1e-6, max_position_embeddings: 40960, hidden_act: 'silu', eos_token_id: 151645, bos_token_id: 151643,
  },
};

export interface RandomMlcModel {
  chatConfig: string; // mlc-chat-config.json
  cache: BuiltTensorCache;
}

export function randomMlcModel(name: string, options: { layers?: number; seed?: number; quantization?: MlcQuantization } = {}): RandomMlcModel {
  const raw = { ...REAL_SHAPES[name] };
  if (!raw.model_type) throw new Error(`unknown shape ${name}; known: ${Object.keys(REAL_SHAPES).join(', ')}`);
  if (options.layers) raw.num_hidden_layers = options.layers;
  const quantization = options.quantization ?? 'q4f16_1';
  if (quantization !== 'q4f16_1') throw new Error('random real-shape models are written in q4f16_1');
  const c = parseConfig(raw);
  const rand = createRng(options.seed ?? 1);
  const tensors = function* (): Generator<TensorToWrite> {
    for (const [tensorName, t] of expectedMlcTensors(c, quantization)) {
      const n = t.shape.reduce((a, d) => a * d, 1);
      if (tensorName.endsWith('q_weight')) {
        // Codes 0..14, centred on 7, so no direction is favoured (xorshift32: 8 codes per word).
        const codes = new Uint32Array(n);
        let x = (rand() * 4294967296) >>> 0 || 1;
        for (let i = 0; i < n; i++) {
          let word = 0;
          for (let c = 0; c < 8; c++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            word |= ((x >>> 0) % 15) << (c * 4);
          }
          codes[i] = word >>> 0;
        }
        yield { name: tensorName, shape: t.shape, dtype: 'uint32', data: codes };
      } else if (tensorName.endsWith('q_scale')) {
        // (code - 7) has standard deviation 4.3; over K = 32 * groups inputs of unit size.
        const k = t.shape[1] * Q4_GROUP;
        const scale = floatToHalf(1 / (4.3 * Math.sqrt(k)));
        yield { name: tensorName, shape: t.shape, dtype: 'float16', data: new Uint16Array(n).fill(scale) };
      } else if (tensorName.endsWith('bias')) {
        yield { name: tensorName, shape: t.shape, dtype: 'float16', data: Uint16Array.from({ length: n }, () => floatToHalf((rand() * 2 - 1) * 0.1)) };
      } else {
        yield { name: tensorName, shape: t.shape, dtype: 'float16', data: new Uint16Array(n).fill(floatToHalf(1)) };
      }
    }
  };
  const chat = mlcChatConfig(raw, c, quantization, {}, ['tokenizer.json', 'tokenizer_config.json']);
  return { chatConfig: JSON.stringify(chat, null, 2), cache: buildTensorCache(tensors(), 'f32-to-bf16') };
}

/** The model's files by name; the tokenizer files are the caller's (they are the real ones). */
export function randomMlcFiles(model: RandomMlcModel, tokenizer: Record<string, ArrayBuffer | string>): Map<string, ArrayBuffer | Uint8Array | string> {
  const files = new Map<string, ArrayBuffer | Uint8Array | string>([['mlc-chat-config.json', model.chatConfig], ['tensor-cache.json', model.cache.manifest]]);
  for (const s of model.cache.shards) files.set(s.dataPath, s.bytes);
  for (const [name, bytes] of Object.entries(tokenizer)) files.set(name, bytes);
  return files;
}
