/**
 * The model's weights as float32 host arrays in Hugging Face layout, after every tensor's name,
 * shape and dtype has been checked against config.json (before anything reaches the GPU).
 * gate_proj and up_proj are concatenated into one (2I, H) matrix so the MLP needs one GEMV.
 */
import { WeightsFormatError } from '../errors.ts';
import type { ModelConfig } from './config.ts';
import { parseSafetensors, readTensorF32, type SafetensorsFile } from './safetensors.ts';

export interface LayerWeights {
  inputNorm: Float32Array; // (H)
  q: Float32Array; // (heads*headDim, H)
  k: Float32Array; // (kvHeads*headDim, H)
  v: Float32Array; // (kvHeads*headDim, H)
  qBias?: Float32Array; // (heads*headDim)
  kBias?: Float32Array; // (kvHeads*headDim)
  vBias?: Float32Array; // (kvHeads*headDim)
  qNorm?: Float32Array; // (headDim)
  kNorm?: Float32Array; // (headDim)
  o: Float32Array; // (H, heads*headDim)
  postNorm: Float32Array; // (H)
  gateUp: Float32Array; // (2I, H): gate rows then up rows
  down: Float32Array; // (H, I)
}

export interface ModelWeights {
  embed: Float32Array; // (V, H)
  layers: LayerWeights[];
  finalNorm: Float32Array; // (H)
  lmHead: Float32Array; // (V, H); the same array as embed when tied
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

export function loadWeights(bytes: ArrayBuffer, c: ModelConfig): ModelWeights {
  const file = parseSafetensors(bytes);
  validateTensors(file, c);
  const get = (name: string): Float32Array => readTensorF32(file, file.tensors.get(name)!);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const gate = get(p + 'mlp.gate_proj.weight');
    const up = get(p + 'mlp.up_proj.weight');
    const gateUp = new Float32Array(gate.length + up.length);
    gateUp.set(gate, 0);
    gateUp.set(up, gate.length);
    layers.push({
      inputNorm: get(p + 'input_layernorm.weight'),
      q: get(p + 'self_attn.q_proj.weight'),
      k: get(p + 'self_attn.k_proj.weight'),
      v: get(p + 'self_attn.v_proj.weight'),
      qBias: c.qkvBias ? get(p + 'self_attn.q_proj.bias') : undefined,
      kBias: c.qkvBias ? get(p + 'self_attn.k_proj.bias') : undefined,
      vBias: c.qkvBias ? get(p + 'self_attn.v_proj.bias') : undefined,
      qNorm: c.qkNorm ? get(p + 'self_attn.q_norm.weight') : undefined,
      kNorm: c.qkNorm ? get(p + 'self_attn.k_norm.weight') : undefined,
      o: get(p + 'self_attn.o_proj.weight'),
      postNorm: get(p + 'post_attention_layernorm.weight'),
      gateUp,
      down: get(p + 'mlp.down_proj.weight'),
    });
  }
  const embed = get('model.embed_tokens.weight');
  return {
    embed,
    layers,
    finalNorm: get('model.norm.weight'),
    lmHead: c.tieWordEmbeddings ? embed : get('lm_head.weight'),
  };
}
