/**
 * Converts a Hugging Face model folder into MLC / web-llm artifacts laid out as mlc-llm's
 * `convert_weight` + `gen_config` lay them out, so the output loads in web-llm as well as here:
 *   mlc-chat-config.json, tensor-cache.json, params_shard_*.bin (32 MiB shards, md5 each),
 *   tokenizer.json, tokenizer_config.json (and vocab.json / merges.txt when present).
 * Tensor names, shapes and dtypes come from src/model/mlc-weights.ts (the loader's own list),
 * the 4-bit arithmetic from scripts/lib/mlc-quantize.ts (mlc-llm's GroupQuantize).
 *
 *   tsx scripts/convert-mlc.ts --in DIR --out DIR --quantization q4f16_1|q4f32_1|q0f16|q0f32
 *        [--encode f32-to-bf16|raw] [--shard-mb 32]
 *
 * --encode: float32 records are stored as bfloat16 by default, as mlc-llm stores them; `raw`
 * keeps them float32 (bit-exact weights; tvmjs and web-llm read both).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig, type ModelConfig } from '../src/model/config.ts';
import { linearValues, type Linear } from '../src/model/linear.ts';
import { MLC_QUANTIZATIONS, type MlcQuantization } from '../src/model/mlc-config.ts';
import { expectedMlcTensors } from '../src/model/mlc-weights.ts';
import { loadWeights, type ModelWeights } from '../src/model/weights.ts';
import { mlcChatConfig } from './lib/mlc-chat-config.ts';
import { encodeFloats, quantizeQ4, type ModelDtype } from './lib/mlc-quantize.ts';
import { writeTensorCache, type EncodeFormat, type TensorToWrite } from './lib/tensor-cache-writer.ts';

const TOKENIZER_FILES = ['tokenizer.json', 'vocab.json', 'merges.txt', 'tokenizer_config.json'];
/** A model folder's own task data travels with it, so `npm run eval -- --model OUT` works. */
const TASK_FILES = ['eval.jsonl'];

/** The HF matrix or vector behind an MLC tensor base name. */
function source(w: ModelWeights, base: string): Linear | Float32Array {
  if (base === 'model.embed_tokens') return w.embed;
  if (base === 'lm_head') return w.lmHead;
  if (base === 'model.norm.weight') return w.finalNorm;
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(base);
  if (!m) throw new Error(`no source for ${base}`);
  const L = w.layers[Number(m[1])];
  const rest: Record<string, Linear | Float32Array | undefined> = {
    'self_attn.c_attn': L.qkv,
    'self_attn.qkv_proj': L.qkv,
    'self_attn.o_proj': L.o,
    'mlp.gate_up_proj': L.gateUp,
    'mlp.down_proj': L.down,
    'self_attn.q_norm.weight': L.qNorm,
    'self_attn.k_norm.weight': L.kNorm,
    'input_layernorm.weight': L.inputNorm,
    'post_attention_layernorm.weight': L.postNorm,
  };
  const t = rest[m[2]];
  if (!t) throw new Error(`no source for ${base}`);
  return t;
}

/** The records of one model, in the order mlc-llm's models declare their parameters. */
export function* mlcTensors(c: ModelConfig, w: ModelWeights, quantization: MlcQuantization): Generator<TensorToWrite> {
  const dtype: ModelDtype = quantization.includes('f16') ? 'float16' : 'float32';
  const cache = new Map<string, Linear>(); // c_attn is built once for its q_weight, q_scale and bias
  for (const [name, want] of expectedMlcTensors(c, quantization)) {
    const base = name.replace(/\.(q_weight|q_scale|weight|bias)$/, '');
    const suffix = name.slice(base.length + 1);
    const vectorName = name.endsWith('norm.weight');
    const t = vectorName ? source(w, name) : (cache.get(base) ?? source(w, base));
    if (t instanceof Float32Array) {
      yield { name, shape: want.shape, dtype, data: encodeFloats(t, dtype) };
      continue;
    }
    cache.set(base, t);
    if (suffix === 'bias') {
      yield { name, shape: want.shape, dtype, data: encodeFloats(t.bias!, dtype) };
    } else if (suffix === 'weight') {
      yield { name, shape: want.shape, dtype, data: encodeFloats(linearValues(t), dtype) };
    } else {
      const q = quantizeQ4(linearValues(t), t.rows, t.cols, dtype);
      if (suffix === 'q_weight') yield { name, shape: want.shape, dtype: 'uint32', data: q.codes };
      else yield { name, shape: want.shape, dtype, data: encodeFloats(q.scales, dtype) };
    }
  }
}

export function convertToMlc(input: string, output: string, quantization: MlcQuantization, encode: EncodeFormat = 'f32-to-bf16', shardMb = 32): { shards: number; bytes: number } {
  const json = (f: string) => JSON.parse(readFileSync(join(input, f), 'utf8')) as Record<string, unknown>;
  const raw = json('config.json');
  const c = parseConfig(raw);
  const bytes = readFileSync(join(input, 'model.safetensors'));
  const w = loadWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, c);
  const gen = existsSync(join(input, 'generation_config.json')) ? json('generation_config.json') : {};
  mkdirSync(output, { recursive: true });
  const tokenizerFiles = TOKENIZER_FILES.filter((f) => existsSync(join(input, f)));
  for (const f of [...tokenizerFiles, ...TASK_FILES.filter((t) => existsSync(join(input, t)))]) copyFileSync(join(input, f), join(output, f));
  writeFileSync(join(output, 'mlc-chat-config.json'), JSON.stringify(mlcChatConfig(raw, c, quantization, gen, tokenizerFiles), null, 2) + '\n');
  return writeTensorCache(output, mlcTensors(c, w, quantization), encode, shardMb);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { in: { type: 'string' }, out: { type: 'string' }, quantization: { type: 'string' }, encode: { type: 'string', default: 'f32-to-bf16' }, 'shard-mb': { type: 'string', default: '32' } },
  });
  const q = values.quantization as MlcQuantization;
  if (!values.in || !values.out || !(MLC_QUANTIZATIONS as readonly string[]).includes(q) || !['f32-to-bf16', 'raw'].includes(values.encode!)) {
    console.error(`usage: tsx scripts/convert-mlc.ts --in DIR --out DIR --quantization ${MLC_QUANTIZATIONS.join('|')} [--encode f32-to-bf16|raw] [--shard-mb 32]`);
    process.exit(2);
  }
  const r = convertToMlc(values.in, values.out, q, values.encode as EncodeFormat, Number(values['shard-mb']));
  console.log(`${values.out}: ${q}, ${r.shards} shard(s), ${(r.bytes / 2 ** 20).toFixed(2)} MiB`);
}
