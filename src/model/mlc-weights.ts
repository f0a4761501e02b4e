/**
 * MLC tensor-cache records → the same ModelWeights the safetensors loader makes. Names and shapes
 * follow mlc-llm's qwen2 / qwen3 / llama models (DESIGN.md section 5):
 *   model.embed_tokens, lm_head (untied only), model.norm.weight, and per layer
 *   self_attn.c_attn (qwen2, qwen3) or self_attn.qkv_proj (llama) = concat(q, k, v) rows (+ .bias
 *   for qwen2), self_attn.o_proj, self_attn.q_norm / k_norm (qwen3), mlp.gate_up_proj =
 *   concat(gate, up) rows, mlp.down_proj, input_layernorm, post_attention_layernorm.
 *   A matrix is `.q_weight` uint32 (N, ceil(K/32)*4) + `.q_scale` (N, ceil(K/32)) in q4f16_1 /
 *   q4f32_1, or `.weight` (N, K) in q0f16 / q0f32; vectors are `.weight` in the model dtype.
 * The fused q/k/v rows stay one Linear, as the HF loader makes them.
 */
import { TensorRecordError } from '../errors.ts';
import type { ModelConfig } from './config.ts';
import { bf16ToFloat, halfToFloat } from '../gpu/half.ts';
import { checkLinear, q4Layout, Q4_GROUP, type Linear } from './linear.ts';
import type { MlcChatConfig, MlcQuantization } from './mlc-config.ts';
import { recordBytes, type MlcDtype, type TensorCache, type TensorRecord } from './tensor-cache.ts';
import type { LayerWeights, ModelWeights } from './weights.ts';

export interface ExpectedTensor {
  shape: number[];
  dtype: MlcDtype;
}

/** The MLC name of a layer's fused q/k/v projection. */
const qkvName = (c: ModelConfig) => (c.architecture === 'llama' ? 'qkv_proj' : 'c_attn');

/** Every tensor record an MLC model of this config and quantization holds, with shape and dtype. */
export function expectedMlcTensors(c: ModelConfig, quantization: MlcQuantization): Map<string, ExpectedTensor> {
  const dtype: MlcDtype = quantization.includes('f16') ? 'float16' : 'float32';
  const q4 = quantization.startsWith('q4');
  const m = new Map<string, ExpectedTensor>();
  const matrix = (base: string, rows: number, cols: number, bias = false) => {
    if (q4) {
      const { groupsPerRow, wordsPerRow } = q4Layout(cols, Q4_GROUP);
      m.set(`${base}.q_weight`, { shape: [rows, wordsPerRow], dtype: 'uint32' });
      m.set(`${base}.q_scale`, { shape: [rows, groupsPerRow], dtype });
    } else {
      m.set(`${base}.weight`, { shape: [rows, cols], dtype });
    }
    if (bias) m.set(`${base}.bias`, { shape: [rows], dtype });
  };
  const vector = (name: string, n: number) => m.set(name, { shape: [n], dtype });
  const H = c.hiddenSize;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  matrix('model.embed_tokens', c.vocabSize, H);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    matrix(`${p}self_attn.${qkvName(c)}`, qDim + 2 * kvDim, H, c.qkvBias);
    matrix(`${p}self_attn.o_proj`, H, qDim);
    if (c.qkNorm) {
      vector(`${p}self_attn.q_norm.weight`, c.headDim);
      vector(`${p}self_attn.k_norm.weight`, c.headDim);
    }
    matrix(`${p}mlp.gate_up_proj`, 2 * c.intermediateSize, H);
    matrix(`${p}mlp.down_proj`, H, c.intermediateSize);
    vector(`${p}input_layernorm.weight`, H);
    vector(`${p}post_attention_layernorm.weight`, H);
  }
  vector('model.norm.weight', H);
  if (!c.tieWordEmbeddings) matrix('lm_head', c.vocabSize, H);
  return m;
}

/** Checks that the cache holds exactly the expected tensors; throws TensorRecordError naming the first problem. */
export function validateMlcTensors(cache: TensorCache, mlc: MlcChatConfig): void {
  const expected = expectedMlcTensors(mlc.config, mlc.quantization);
  for (const [name, want] of expected) {
    const r = cache.records.get(name);
    if (!r) throw new TensorRecordError(name, `it is missing (mlc-chat-config.json says ${mlc.config.architecture}, ${mlc.quantization}, ${mlc.config.numLayers} layers)`);
    if (r.dtype !== want.dtype) throw new TensorRecordError(name, `dtype ${r.dtype}, but ${mlc.quantization} stores it as ${want.dtype}`);
    if (r.shape.length !== want.shape.length || r.shape.some((d, i) => d !== want.shape[i])) {
      throw new TensorRecordError(name, `shape [${r.shape}], but mlc-chat-config.json implies [${want.shape}]`);
    }
  }
  for (const name of cache.records.keys()) {
    if (!expected.has(name)) throw new TensorRecordError(name, `it is not part of a ${mlc.config.architecture} ${mlc.quantization} model`);
  }
}

/** A float record as f32 values (vectors, f32 scales). */
function floats(bytes: ArrayBuffer, r: TensorRecord): Float32Array {
  if (r.dtype === 'float32' && !r.bf16Packed) return new Float32Array(bytes);
  const bits = new Uint16Array(bytes);
  const decode = r.dtype === 'float16' ? halfToFloat : bf16ToFloat;
  return Float32Array.from(bits, decode);
}

export function mlcWeights(cache: TensorCache, shards: ArrayBuffer[], mlc: MlcChatConfig): ModelWeights {
  validateMlcTensors(cache, mlc);
  const c = mlc.config;
  const record = (name: string) => cache.records.get(name)!;
  const vector = (name: string) => floats(recordBytes(shards, record(name)), record(name));
  const matrix = (base: string, bias = false): Linear => {
    const b = bias ? vector(`${base}.bias`) : undefined;
    if (mlc.q4) {
      const qw = record(`${base}.q_weight`);
      const qs = record(`${base}.q_scale`);
      const [rows] = qw.shape;
      const scaleBytes = recordBytes(shards, qs);
      const f16 = qs.dtype === 'float16';
      return checkLinear(base, {
        storage: 'q4',
        rows,
        cols: widthOf(base, c),
        bias: b,
        groupSize: Q4_GROUP,
        scaleType: f16 ? 'f16' : 'f32',
        codes: new Uint32Array(recordBytes(shards, qw)),
        scales: f16 ? new Uint16Array(scaleBytes) : floats(scaleBytes, qs),
      });
    }
    const r = record(`${base}.weight`);
    const [rows, cols] = r.shape;
    const bytes = recordBytes(shards, r);
    if (r.dtype === 'float32' && !r.bf16Packed) return checkLinear(base, { storage: 'f32', rows, cols, bias: b, data: new Float32Array(bytes) });
    // 16-bit on disk stays 16-bit on the GPU: f16 (q0f16), or bf16 (q0f32 written as f32-to-bf16).
    return checkLinear(base, { storage: r.dtype === 'float16' ? 'f16' : 'bf16', rows, cols, bias: b, data: new Uint16Array(bytes) });
  };
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const qkv = matrix(`${p}self_attn.${qkvName(c)}`, c.qkvBias);
    layers.push({
      inputNorm: vector(`${p}input_layernorm.weight`),
      qkv,
      qNorm: c.qkNorm ? vector(`${p}self_attn.q_norm.weight`) : undefined,
      kNorm: c.qkNorm ? vector(`${p}self_attn.k_norm.weight`) : undefined,
      o: matrix(`${p}self_attn.o_proj`),
      postNorm: vector(`${p}post_attention_layernorm.weight`),
      gateUp: matrix(`${p}mlp.gate_up_proj`),
      down: matrix(`${p}mlp.down_proj`),
    });
  }
  const embed = matrix('model.embed_tokens');
  return { embed, layers, finalNorm: vector('model.norm.weight'), lmHead: c.tieWordEmbeddings ? embed : matrix('lm_head') };
}

/** The input width (K) of a q4 matrix, which its padded q_weight shape does not say exactly. */
function widthOf(base: string, c: ModelConfig): number {
  if (base.endsWith('o_proj')) return c.numHeads * c.headDim;
  if (base.endsWith('down_proj')) return c.intermediateSize;
  return c.hiddenSize;
}
