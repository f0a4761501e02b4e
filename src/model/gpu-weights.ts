/** Uploads validated host weights to GPU buffers, inside one out-of-memory scope. */
import { allocateChecked, createBufferFrom } from '../gpu/buffers.ts';
import type { LayerWeights, ModelWeights } from './weights.ts';

export type GpuLayerWeights = { [K in keyof LayerWeights]-?: GPUBuffer | undefined } & {
  inputNorm: GPUBuffer;
  q: GPUBuffer;
  k: GPUBuffer;
  v: GPUBuffer;
  o: GPUBuffer;
  postNorm: GPUBuffer;
  gateUp: GPUBuffer;
  down: GPUBuffer;
};

export interface GpuWeights {
  embed: GPUBuffer; // (V, H)
  layers: GpuLayerWeights[];
  finalNorm: GPUBuffer; // (H)
  lmHead: GPUBuffer; // (V, H); the embed buffer when tied
  bytes: number;
  destroy(): void;
}

export async function uploadWeights(device: GPUDevice, w: ModelWeights): Promise<GpuWeights> {
  const all: GPUBuffer[] = [];
  let bytes = 0;
  const up = (label: string, data: Float32Array | undefined): GPUBuffer | undefined => {
    if (!data) return undefined;
    const b = createBufferFrom(device, label, data);
    all.push(b);
    bytes += data.byteLength;
    return b;
  };
  const total = w.embed.byteLength * (w.lmHead === w.embed ? 1 : 2) +
    w.layers.reduce((s, l) => s + Object.values(l).reduce((a, t) => a + (t ? t.byteLength : 0), 0), 0);
  return allocateChecked(device, 'model weights', total, () => {
    const embed = up('embed', w.embed)!;
    const layers = w.layers.map((l, i) => {
      const out: Record<string, GPUBuffer | undefined> = {};
      for (const [name, data] of Object.entries(l)) out[name] = up(`layer${i}.${name}`, data);
      return out as GpuLayerWeights;
    });
    return {
      embed,
      layers,
      finalNorm: up('finalNorm', w.finalNorm)!,
      lmHead: w.lmHead === w.embed ? embed : up('lmHead', w.lmHead)!,
      bytes,
      destroy: () => all.forEach((b) => b.destroy()),
    };
  });
}
