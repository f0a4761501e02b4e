/**
 * The model's weights in Hugging Face layout: every matrix a Linear value that states its storage
 * (linear.ts), every vector f32. Both loaders produce this: the safetensors loader below and the
 * MLC tensor-cache loader (mlc-weights.ts). Names, shapes and dtypes are checked before anything
 * reaches the GPU. q_proj, k_proj and v_proj are one matrix, and gate_proj and up_proj are one
 * (2I, H) matrix, so attention's input and the MLP each need one GEMV (as MLC stores them).
 */
import { WeightsFormatError } from '../errors.ts';
import type { ModelConfig } from './config.ts';
import { checkLinear, concatRows, q4Layout, type Linear } from './linear.ts';
import { parseSafetensors, readTensorBits16, readTensorF32, type SafetensorsFile } from './safetensors.ts';

export interface LayerWeights {
  inputNorm: Float32Array; // (H)
  qkv: Linear; // ((heads + 2*kvHeads)*headDim, H): q rows, k rows, v rows, with qwen2's bias
  qNorm?: Float32Array; // (headDim)
  kNorm?: Float32Array; // (headDim)
  o: Linear; // (H, heads*headDim)
  postNorm: Float32Array; // (H)
  gateUp: Linear; // (2I, H): gate rows then up rows
  down: Linear; // (H, I)
}

export interface ModelWeights {
  embed: Linear; // (V, H): the embedding table, looked up by row
  layers: LayerWeights[];
  finalNorm: Float32Array; // (H)
  lmHead: Linear; // (V, H); the same value as embed when tied
}

/** Every tensor the config implies, with its shape. */
export function expectedTensors(c: ModelConfig): Map<string, number[]> {
  const H = c.hiddenSize;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const m = new Map<string, number[]>();
  m.set('model.embed_tokens.weight', [c.vocabSize, H]);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    m.set(p + 'input_layernorm.weight', [H]);
    m.set(p + 'self_attn.q_proj.weight', [qDim, H]);
    m.set(p + 'self_attn.k_proj.weight', [kvDim, H]);
    m.set(p + 'self_attn.v_proj.weight', [kvDim, H]);
    if (c.qkvBias) {
      m.set(p + 'self_attn.q_proj.bias', [qDim]);
      m.set(p + 'self_attn.k_proj.bias', [kvDim]);
      m.set(p + 'self_attn.v_proj.bias', [kvDim]);
    }
    if (c.qkNorm) {
      m.set(p + 'self_attn.q_norm.weight', [c.headDim]);
      m.set(p + 'self_attn.k_norm.weight', [c.headDim]);
    }
    m.set(p + 'self_attn.o_proj.weight', [H, qDim]);
    m.set(p + 'post_attention_layernorm.weight', [H]);
    m.set(p + 'mlp.gate_proj.weight', [c.intermediateSize, H]);
    m.set(p + 'mlp.up_proj.weight', [c.intermediateSize, H]);
    m.set(p + 'mlp.down_proj.weight', [H, c.intermediateSize]);
  }
  m.set('model.norm.weight', [H]);
  if (!c.tieWordEmbeddings) m.set('lm_head.weight', [c.vocabSize, H]);
  return m;
}

/** Checks names and shapes; throws WeightsFormatError naming the first problem. */
export function validateTensors(file: SafetensorsFile, c: ModelConfig): void {
  const expected = expectedTensors(c);
  for (const [name, shape] of expected) {
    const t = file.tensors.get(name);
    if (!t) throw new WeightsFormatError(`tensor ${name} is missing (config.json says ${c.architecture} with ${c.numLayers} layers)`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new WeightsFormatError(`tensor ${name} has shape [${t.shape}] but config.json implies [${shape}]`);
    }
  }
  // A tied model may still ship lm_head.weight; anything else unknown means another architecture.
  for (const name of file.tensors.keys()) {
    if (!expected.has(name) && name !== 'lm_head.weight' && !name.endsWith('rotary_emb.inv_freq')) {
      throw new WeightsFormatError(`unexpected tensor ${name} for a ${c.architecture} model`);
    }
  }
}

/** A safetensors matrix as a Linear in its own dtype: F16 and BF16 stay 16-bit. */
function readLinear(file: SafetensorsFile, name: string, bias?: Float32Array): Linear {
  const info = file.tensors.get(name)!;
  const [rows, cols] = info.shape;
  const w: Linear =
    info.dtype === 'F32'
      ? { storage: 'f32', rows, cols, bias, data: readTensorF32(file, info) }
      : { storage: info.dtype === 'F16' ? 'f16' : 'bf16', rows, cols, bias, data: readTensorBits16(file, info) };
  return checkLinear(name, w);
}

export function loadWeights(bytes: ArrayBuffer, c: ModelConfig): ModelWeights {
  const file = parseSafetensors(bytes);
  validateTensors(file, c);
  const vector = (name: string): Float32Array => readTensorF32(file, file.tensors.get(name)!);
  const matrix = (name: string, bias?: string): Linear => readLinear(file, name + '.weight', bias && c.qkvBias ? vector(name + '.bias') : undefined);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    layers.push({
      inputNorm: vector(p + 'input_layernorm.weight'),
      qkv: concatRows([matrix(p + 'self_attn.q_proj', 'bias'), matrix(p + 'self_attn.k_proj', 'bias'), matrix(p + 'self_attn.v_proj', 'bias')]),
      qNorm: c.qkNorm ? vector(p + 'self_attn.q_norm.weight') : undefined,
      kNorm: c.qkNorm ? vector(p + 'self_attn.k_norm.weight') : undefined,
      o: matrix(p + 'self_attn.o_proj'),
      postNorm: vector(p + 'post_attention_layernorm.weight'),
      gateUp: concatRows([matrix(p + 'mlp.gate_proj'), matrix(p + 'mlp.up_proj')]),
      down: matrix(p + 'mlp.down_proj'),
    });
  }
  const embed = matrix('model.embed_tokens');
  return {
    embed,
    layers,
    finalNorm: vector('model.norm.weight'),
    lmHead: c.tieWordEmbeddings ? embed : matrix('lm_head'),
  };
}

/** Every value of a layer or model: matrices and vectors alike. */
function parts(w: ModelWeights): (Linear | Float32Array)[] {
  const all: (Linear | Float32Array)[] = [w.embed, w.finalNorm];
  if (w.lmHead !== w.embed) all.push(w.lmHead);
  for (const l of w.layers) for (const t of Object.values(l)) if (t) all.push(t);
  return all;
}

/** Parameters, tied embeddings counted once. */
export function parameterCount(w: ModelWeights): number {
  return parts(w).reduce((s, t) => s + (t instanceof Float32Array ? t.length : t.rows * t.cols + (t.bias?.length ?? 0)), 0);
}

/** How a model's matrices are stored, known before its weights are (a catalogue entry's quantization). */
export interface MatrixStorage {
  storage: Linear['storage'];
  scaleType?: 'f16' | 'f32'; // q4
}

/** Bytes the GPU holds for a model's weights stored as `m` (gpuWeightBytes of the loaded weights, ahead of time). */
export function weightBytesFor(c: ModelConfig, m: MatrixStorage): number {
  const matrix = (rows: number, cols: number) => {
    if (m.storage === 'q4') {
      const { groupsPerRow, wordsPerRow } = q4Layout(cols);
      return rows * (wordsPerRow * 4 + groupsPerRow * (m.scaleType === 'f32' ? 4 : 2));
    }
    return rows * cols * (m.storage === 'f32' ? 4 : 2);
  };
  const H = c.hiddenSize;
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const I = c.intermediateSize;
  const layer =
    matrix(qDim, H) + 2 * matrix(kvDim, H) + matrix(H, qDim) + matrix(2 * I, H) + matrix(H, I) +
    4 * (2 * H + (c.qkNorm ? 2 * c.headDim : 0) + (c.qkvBias ? qDim + 2 * kvDim : 0)); // f32 norms and biases
  return matrix(c.vocabSize, H) * (c.tieWordEmbeddings ? 1 : 2) + 4 * H + c.numLayers * layer;
}

/** Matrices so stored compute in 16 bits (f16/bf16, or q4 with f16 scales): K and V are then kept in f16. */
export function storageIs16Bit(m: MatrixStorage): boolean {
  return m.storage === 'f16' || m.storage === 'bf16' || (m.storage === 'q4' && m.scaleType === 'f16');
}

/** The loaded model computes in 16 bits (storageIs16Bit of its matrices). */
export function computesIn16Bit(w: ModelWeights): boolean {
  const m = w.layers[0]?.gateUp ?? w.lmHead;
  return storageIs16Bit({ storage: m.storage, scaleType: m.storage === 'q4' ? m.scaleType : undefined });
}
