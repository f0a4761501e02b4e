/**
 * Makes a small random-weight Hugging Face folder of the qwen2 or llama architecture (or qwen3),
 * with the bundled model's character tokenizer, so the GPU engine can be checked against the
 * CPU reference on every architecture we support. Deterministic for a given seed.
 *
 *   tsx scripts/make-random-model.ts --arch qwen2 --out test/fixtures/random-qwen2 [--dtype F16] [--seed 1]
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRng } from '../src/engine/rng.ts';
import { parseConfig } from '../src/model/config.ts';
import { writeSafetensors, type SafetensorsDtype } from '../src/model/safetensors.ts';
import { expectedTensors } from '../src/model/weights.ts';

const TOKENIZER_DIR = 'public/models/tiny-reasoner-qwen3';

/** Shapes chosen to exercise GQA 4 (qwen2), GQA 2 with llama3 RoPE scaling (llama), odd sizes. */
const CONFIGS: Record<string, Record<string, unknown>> = {
  qwen2: {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    hidden_size: 64,
    intermediate_size: 176,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 1,
    vocab_size: 104,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    max_position_embeddings: 512,
    tie_word_embeddings: false,
    hidden_act: 'silu',
    eos_token_id: 99,
    bos_token_id: 97,
  },
  llama: {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: 96,
    intermediate_size: 200,
    num_hidden_layers: 3,
    num_attention_heads: 6,
    num_key_value_heads: 3,
    head_dim: 16,
    vocab_size: 104,
    rms_norm_eps: 1e-5,
    rope_theta: 500000.0,
    rope_scaling: { rope_type: 'llama3', factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 64 },
    max_position_embeddings: 512,
    tie_word_embeddings: false,
    attention_bias: false,
    hidden_act: 'silu',
    eos_token_id: 99,
    bos_token_id: 97,
  },
};

function gaussian(seed: number): () => number {
  const uniform = createRng(seed);
  // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

export function makeRandomModel(arch: string, outDir: string, dtype: SafetensorsDtype, seed: number): void {
  const raw = CONFIGS[arch];
  if (!raw) throw new Error(`--arch must be one of ${Object.keys(CONFIGS).join(', ')}`);
  const config = parseConfig(raw);
  const randn = gaussian(seed);
  const tensors = [...expectedTensors(config)].map(([name, shape]) => {
    const n = shape.reduce((a, d) => a * d, 1);
    const data = new Float32Array(n);
    const isNorm = name.endsWith('norm.weight');
    // Norm weights near 1; matrices scaled by 1/sqrt(fan_in) with a larger embedding, so that
    // attention is peaked and logits span a few units: a meaningful test, not near-uniform noise.
    const scale = name.includes('embed') ? 1 : name.endsWith('bias') ? 0.1 : 1.5 / Math.sqrt(shape[shape.length - 1]);
    for (let i = 0; i < n; i++) data[i] = isNorm ? 1 + 0.2 * randn() : scale * randn();
    return { name, shape, data };
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'config.json'), JSON.stringify({ ...raw, torch_dtype: dtype === 'F32' ? 'float32' : dtype === 'F16' ? 'float16' : 'bfloat16' }, null, 2));
  writeFileSync(join(outDir, 'model.safetensors'), writeSafetensors(tensors, dtype));
  writeFileSync(join(outDir, 'generation_config.json'), JSON.stringify({ eos_token_id: [99, 97], do_sample: false }, null, 2));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(TOKENIZER_DIR, f), join(outDir, f));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      arch: { type: 'string' },
      out: { type: 'string' },
      dtype: { type: 'string', default: 'F32' },
      seed: { type: 'string', default: '1' },
    },
  });
  if (!values.arch || !values.out) {
    console.error('usage: tsx scripts/make-random-model.ts --arch qwen2|llama --out DIR [--dtype F32|F16|BF16] [--seed N]');
    process.exit(2);
  }
  makeRandomModel(values.arch, values.out, values.dtype as SafetensorsDtype, Number(values.seed));
  console.log(`wrote a random ${values.arch} model (${values.dtype}) to ${values.out}`);
}
