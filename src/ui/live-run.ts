/**
 * One generation streamed into a transcript and the live views: the occupancy grid, the heatmap
 * and the status line's token count. The single-prompt runner and each chat turn go through it,
 * so both draw the cache the same way.
 */
import type { Engine, GenerateRequest, GenerationResult, ModelInfo } from '../engine/interface.ts';
import type { KeptRecord } from './crystal-map.ts';
import type { Heatmap } from './heatmap.ts';
import type { OccupancyView } from './occupancy.ts';
import type { ProbeMarksView } from './probe-marks.ts';
import type { Transcript } from './transcript.ts';

export interface LiveRun {
  result: GenerationResult;
  /** The most KV bytes held at any step. */
  peakBytes: number;
  /** Each generated position's text and how many heads evicted it (the CrystalKV / SlipKV map). */
  kept: KeptRecord;
}

export interface LiveViews {
  occupancy: OccupancyView;
  heatmap: Heatmap;
  status: HTMLElement;
  /** What the answer-first probe marks, live (a policy with the probe; the runner's page). */
  probeMarks?: ProbeMarksView;
}

/** Resets the views for `model`, streams `request`'s steps into them and `transcript`; rejects with the engine's error. */
export async function streamRun(
  engine: Engine,
  views: LiveViews,
  model: ModelInfo,
  request: GenerateRequest,
  transcript: Transcript,
  options: { label: string; watchHead: number },
): Promise<LiveRun> {
  const { occupancy, heatmap, status, probeMarks } = views;
  occupancy.reset(model.numLayers, model.numKvHeads);
  probeMarks?.reset();
  heatmap.reset(model.contextLength, Math.min(request.maxNewTokens + 1, model.contextLength)); // a step per row
  heatmap.setHead(options.watchHead);
  status.textContent = `${options.label}: prefilling…`;
  const generation = engine.generate(request);
  let count = 0;
  let peakBytes = 0;
  const kept: KeptRecord = { texts: [], evictions: [], heads: model.numLayers * model.numKvHeads };
  const started = performance.now();
  for await (const step of generation) {
    transcript.add(step);
    probeMarks?.add(step);
    kept.texts[step.position] = step.text;
    if (step.cache) {
      const evicted = step.cache.evicted; // (layer, kvHead, position) triples
      for (let e = 2; e < evicted.length; e += 3) kept.evictions[evicted[e]] = (kept.evictions[evicted[e]] ?? 0) + 1;
      occupancy.update(step.cache);
      heatmap.add(step);
      peakBytes = Math.max(peakBytes, step.cache.heldBytes);
    }
    count++;
    status.textContent = `${options.label}: ${count} tokens, ${(count / ((performance.now() - started) / 1000)).toFixed(1)} tok/s`;
  }
  return { result: await generation.result, peakBytes, kept };
}
