/**
 * RoPE inverse frequencies as Hugging Face computes them in float32, with llama3 scaling
 * (transformers' _compute_llama3_parameters), and the cos/sin tables the rope kernel reads.
 */
import { defaultInvFreq, ropeTables } from '../kernels/rope.ref.ts';
import type { ModelConfig } from './config.ts';

export function invFreqFor(c: ModelConfig): Float32Array {
  const inv = defaultInvFreq(c.headDim, c.ropeTheta);
  const s = c.ropeScaling;
  if (!s) return inv;
  const lowFreqWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositions / s.highFreqFactor;
  const out = new Float32Array(inv.length);
  for (let i = 0; i < inv.length; i++) {
    const wavelen = (2 * Math.PI) / inv[i];
    if (wavelen < highFreqWavelen) out[i] = inv[i];
    else if (wavelen > lowFreqWavelen) out[i] = inv[i] / s.factor;
    else {
      const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      out[i] = (1 - smooth) * (inv[i] / s.factor) + smooth * inv[i];
    }
  }
  return out;
}

export function ropeTablesFor(c: ModelConfig, maxPositions: number): { cos: Float32Array; sin: Float32Array } {
  return ropeTables(c.headDim, maxPositions, invFreqFor(c));
}
