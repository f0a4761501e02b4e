/**
 * What bounds a decode step on a GPU, counted rather than timed: the dispatches and compute
 * passes one step submits, the bytes of weights it reads (every Linear once, the embedding's one
 * row, the norms) and the bytes of K and V it reads (every held entry's key and value, in every
 * layer and KV head), with a forecast of ms/token for a stated device:
 *   ms = dispatches * dispatchUs / 1000 + (weight bytes + KV bytes) / bandwidth
 * Both device figures are parameters (--forecast-bandwidth GB/s, --forecast-dispatch-us) and are
 * printed with the forecast; the defaults are an assumption about an H100, not a measurement.
 * On a GPU the dispatch term dominates a small model's step: that is the number to drive down.
 */
import type { GpuBackend } from '../src/engine/gpu-backend.ts';
import { linearBytes } from '../src/model/linear.ts';
import type { ModelWeights } from '../src/model/weights.ts';
import { fmt } from './stats.ts';

export interface ForecastDevice {
  name: string;
  /** Memory bandwidth, 1e9 bytes per second. */
  bandwidthGBs: number;
  /** Time one dependent dispatch costs beyond its memory traffic (launch and barrier), microseconds. */
  dispatchUs: number;
}

/** An assumption, stated wherever it is used: an H100 SXM's HBM3 bandwidth, and a few microseconds per dependent dispatch. */
export const ASSUMED_DEVICE: ForecastDevice = { name: 'H100 SXM (assumed)', bandwidthGBs: 3350, dispatchUs: 5 };

/** Bytes of weights a decode step reads: every layer's Linears and norms, the final norm and lm_head whole, one row of the embedding. */
export function decodeWeightBytes(w: ModelWeights): number {
  const norms = (...n: (Float32Array | undefined)[]) => n.reduce((s, x) => s + (x?.byteLength ?? 0), 0);
  let bytes = linearBytes(w.lmHead) + norms(w.finalNorm) + linearBytes(w.embed) / w.embed.rows;
  for (const L of w.layers) {
    bytes += [L.qkv, L.o, L.gateUp, L.down].reduce((s, x) => s + linearBytes(x), 0);
    bytes += norms(L.inputNorm, L.postNorm, L.qNorm, L.kNorm);
  }
  return bytes;
}

export interface StepCost {
  dispatches: number;
  passes: number;
  weightBytes: number;
  kvBytes: number;
  forecastMs: number;
}

/** The cost of the backend's next decode step with `held` KV entries in the cache (all layers and heads). */
export function decodeStepCost(backend: GpuBackend, held: number, device: ForecastDevice): StepCost {
  const shape = backend.stepShape(1);
  const weightBytes = decodeWeightBytes(backend.model.weights);
  const kvBytes = held * 2 * backend.model.config.headDim * shape.kvElementBytes;
  const forecastMs = (shape.dispatches * device.dispatchUs) / 1000 + ((weightBytes + kvBytes) / (device.bandwidthGBs * 1e9)) * 1000;
  return { dispatches: shape.dispatches, passes: shape.passes, weightBytes, kvBytes, forecastMs };
}

export const STEP_COST_HEADER = 'dispatches  passes  weights MB  KV read MB  forecast ms/token';

export function stepCostColumns(c: StepCost): string {
  return `${String(c.dispatches).padStart(10)}  ${String(c.passes).padStart(6)}  ${fmt(c.weightBytes / 1e6, 2)}  ${fmt(c.kvBytes / 1e6, 2)}  ${fmt(c.forecastMs, 3)}`;
}

export function forecastNote(d: ForecastDevice): string {
  return `forecast       for ${d.name}: ${d.bandwidthGBs} GB/s, ${d.dispatchUs} us per dispatch (set --forecast-bandwidth, --forecast-dispatch-us, --forecast-device)`;
}
