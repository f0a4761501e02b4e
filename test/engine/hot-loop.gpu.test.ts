import { describe, expect, test } from 'vitest';
import { generate } from '../../src/engine/decode-loop.ts';
import { createGpuBackend } from '../../src/engine/gpu-backend.ts';
import { GREEDY } from '../../src/engine/types.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { urlModelSource } from '../../src/model/model-source.ts';
import { AFTER_THINK_TEXT } from '../../src/policies/probe.ts';
import { gpuPolicyIds } from '../../src/policies/registry.ts';
import { testGpu } from '../helpers/gpu.ts';

// The decode hot loop: after the first step, a step makes no GPU buffer and no bind group, and
// submits one command buffer with one read-back (the token, the next step's victims and the
// watched attention together). The only exception is crystal's budget re-division, every 32
// steps, which counts the heads' loads and evicts to the new limits with rounds of its own.
// The dispatches and compute passes a step encodes are those the bench counts (stepShape).
// A policy with the answer-first probe (answer-probe) runs its probe rows in the same step: still
// one command buffer and one read-back, its predictions in it.
const BASE = '/models/tiny-reasoner-qwen3/';
const STEPS = 50;

describe('the decode hot loop allocates nothing and reads back once per step', async () => {
  const gpu = await testGpu();
  const device = gpu.device;
  const model = await loadModel(urlModelSource(BASE));
  const prompts = (await (await fetch(BASE + 'eval.jsonl')).text()).split('\n').filter(Boolean).slice(0, 8).map((l) => JSON.parse(l).prompt as string);
  const backend = await createGpuBackend(gpu, model);

  // Counters around the device's factory methods, the queue's submit and every buffer's mapAsync.
  const counts = { buffers: 0, bindGroups: 0, submits: 0, maps: 0, dispatches: 0, passes: 0 };
  const wrap = <T extends object, K extends keyof T>(target: T, name: K, counter: keyof typeof counts) => {
    const original = target[name] as unknown as (...args: unknown[]) => unknown;
    (target as Record<K, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
      counts[counter]++;
      return original.apply(this, args);
    };
  };
  wrap(device, 'createBuffer', 'buffers');
  wrap(device, 'createBindGroup', 'bindGroups');
  wrap(device.queue, 'submit', 'submits');
  wrap(GPUBuffer.prototype, 'mapAsync', 'maps');
  wrap(GPUComputePassEncoder.prototype, 'dispatchWorkgroups', 'dispatches');
  wrap(GPUCommandEncoder.prototype, 'beginComputePass', 'passes');

  // A probed step's rows: the token, end-of-think, the template's text after it, 3 answer tokens.
  const probedRows = 1 + 1 + model.tokenizer.encode(AFTER_THINK_TEXT).length + 3;
  for (const policy of ['full', ...gpuPolicyIds(), 'answer-probe']) {
    test(`${policy}, all budget 64, watching layer 1: ${STEPS} decode steps`, async () => {
      const perStep: { index: number; buffers: number; bindGroups: number; submits: number; maps: number; dispatches: number; passes: number }[] = [];
      let evictions = 0;
      // Prompts in turn until STEPS decode steps (after each sequence's first) were counted.
      for (const prompt of prompts) {
        if (perStep.length >= STEPS) break;
        let last = { ...counts };
        const seen = perStep.length;
        const r = await generate(
          backend,
          { prompt, maxNewTokens: STEPS + 2, sampling: GREEDY, cache: { policy, budget: 64, mode: 'all' }, telemetry: { watchLayer: 1 } },
          {
            onStep: (s) => {
              // Step i >= 1 comes from the decode forward at position promptTokens + i - 1; step 1 is the first.
              if (s.index >= 2) {
                const d = (k: keyof typeof counts) => counts[k] - last[k];
                perStep.push({ index: s.index, buffers: d('buffers'), bindGroups: d('bindGroups'), submits: d('submits'), maps: d('maps'), dispatches: d('dispatches'), passes: d('passes') });
              }
              last = { ...counts };
            },
          },
        );
        evictions += backend.evictions().length;
        // The steps whose forward re-divided crystal's budgets.
        const divisions = new Set(backend.rebalances().map((b) => b.at - r.promptTokens + 1));
        for (const step of perStep.slice(seen)) if (divisions.has(step.index)) step.submits = step.maps = -1;
      }
      expect(perStep.length).toBeGreaterThanOrEqual(STEPS);
      const shape = backend.stepShape(1); // the plan of the last sequence, whose cache settings every sequence here shares
      // With the probe, a step while thinking carries the probe rows; after </think> it is a plain step.
      const probedShape = policy === 'answer-probe' ? backend.stepShape(probedRows, true) : shape;
      const probedSteps = perStep.filter((s) => s.dispatches === probedShape.dispatches).length;
      if (policy === 'answer-probe') expect(probedSteps, 'probed steps').toBeGreaterThanOrEqual(STEPS / 2);
      expect(shape.passes).toBe(2); // the watched layer's copy splits the pass
      if (policy !== 'full') expect(evictions).toBeGreaterThan(STEPS); // it evicted every step
      if (policy === 'crystal') expect(perStep.some((s) => s.maps === -1)).toBe(true); // budgets moved
      for (const step of perStep) {
        expect(step.buffers, `step ${step.index}: buffers created`).toBe(0);
        expect(step.bindGroups, `step ${step.index}: bind groups created`).toBe(0);
        if (step.maps === -1) continue; // a re-division step
        expect(step.submits, `step ${step.index}: command buffers`).toBe(1);
        expect(step.maps, `step ${step.index}: read-backs`).toBe(1);
        expect([shape.dispatches, probedShape.dispatches], `step ${step.index}: dispatches`).toContain(step.dispatches);
        expect(step.passes, `step ${step.index}: compute passes`).toBe(shape.passes);
      }
    });
  }
});
