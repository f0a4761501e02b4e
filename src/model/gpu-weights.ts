/**
 * Uploads validated host weights to GPU buffers, inside one out-of-memory scope. Matrices keep
 * their storage (16-bit and 4-bit stay as they are; the kernels decode them); vectors are f32.
 */
import { GpuLimitError } from '../errors.ts';
import { allocateChecked, createBufferFrom } from '../gpu/buffers.ts';
import type { GemvWeight } from '../kernels/gemv.ts';
import { interleaveHalves, linearBytes, type Linear } from './linear.ts';
import type { ModelWeights } from './weights.ts';

/** A Linear on the GPU: what gemv and embed bind, plus its bias. */
export interface GpuLinear extends GemvWeight {
  rows: number;
  cols: number;
  bias?: GPUBuffer; // (rows) f32
}

export interface GpuLayerWeights {
  inputNorm: GPUBuffer; // (H)
  qkv: GpuLinear; // ((heads + 2 * kvHeads) * headDim, H)
  qNorm?: GPUBuffer; // (headDim)
  kNorm?: GPUBuffer; // (headDim)
  o: GpuLinear;
  postNorm: GPUBuffer; // (H)
  gateUp: GpuLinear; // (2I, H), gate and up rows interleaved (interleaveHalves): gemv's GATED form
  down: GpuLinear;
}

export interface GpuWeights {
  embed: GpuLinear; // (V, H)
  layers: GpuLayerWeights[];
  finalNorm: GPUBuffer; // (H)
  lmHead: GpuLinear; // (V, H); the embed buffers when tied
  bytes: number;
  destroy(): void;
}

const gpuFormat = (w: Linear): GemvWeight['format'] =>
  w.storage === 'q4' ? (w.scaleType === 'f16' ? 'q4f16' : 'q4f32') : w.storage;

/** Bytes a model's weights take on the GPU (tied embeddings once). */
export function gpuWeightBytes(w: ModelWeights): number {
  const linear = (l: Linear) => linearBytes(l) + (l.bias?.byteLength ?? 0);
  let total = linear(w.embed) + (w.lmHead === w.embed ? 0 : linear(w.lmHead)) + w.finalNorm.byteLength;
  for (const l of w.layers) {
    for (const t of Object.values(l)) if (t) total += t instanceof Float32Array ? t.byteLength : linear(t);
  }
  return total;
}

type Upload = (label: string, data: Float32Array | Uint16Array | Uint32Array) => GPUBuffer;

/** One Linear's buffers, its stored bytes as they are. */
export function uploadLinear(device: GPUDevice, label: string, l: Linear, buffer: Upload = (n, d) => createBufferFrom(device, n, d)): GpuLinear {
  return {
    format: gpuFormat(l),
    rows: l.rows,
    cols: l.cols,
    data: buffer(label, l.storage === 'q4' ? l.codes : l.data),
    scales: l.storage === 'q4' ? buffer(`${label}.scales`, l.scales) : undefined,
    bias: l.bias && buffer(`${label}.bias`, l.bias),
  };
}

export async function uploadWeights(device: GPUDevice, w: ModelWeights): Promise<GpuWeights> {
  const all: GPUBuffer[] = [];
  const buffer: Upload = (label, data) => {
    // Ranges of a buffer can be bound (linear-dispatch.ts), but one buffer cannot exceed maxBufferSize.
    if (data.byteLength > device.limits.maxBufferSize) throw new GpuLimitError(`maxBufferSize (for ${label})`, data.byteLength, device.limits.maxBufferSize);
    const b = createBufferFrom(device, label, data);
    all.push(b);
    return b;
  };
  const linear = (label: string, l: Linear): GpuLinear => uploadLinear(device, label, l, buffer);
  const bytes = gpuWeightBytes(w);
  return allocateChecked(device, 'model weights', bytes, () => {
    const embed = linear('embed', w.embed);
    const layers = w.layers.map(
      (l, i): GpuLayerWeights => ({
        inputNorm: buffer(`layer${i}.inputNorm`, l.inputNorm),
        qkv: linear(`layer${i}.qkv`, l.qkv),
        qNorm: l.qNorm && buffer(`layer${i}.qNorm`, l.qNorm),
        kNorm: l.kNorm && buffer(`layer${i}.kNorm`, l.kNorm),
        o: linear(`layer${i}.o`, l.o),
        postNorm: buffer(`layer${i}.postNorm`, l.postNorm),
        gateUp: linear(`layer${i}.gateUp`, interleaveHalves(l.gateUp)),
        down: linear(`layer${i}.down`, l.down),
      }),
    );
    return {
      embed,
      layers,
      finalNorm: buffer('finalNorm', w.finalNorm),
      lmHead: w.lmHead === w.embed ? embed : linear('lmHead', w.lmHead),
      bytes,
      destroy: () => all.forEach((b) => b.destroy()),
    };
  });
}
