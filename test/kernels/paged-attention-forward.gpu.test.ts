/**
 * The split-K decode attention inside the whole forward pass: the bundled model's plan built with
 * a forced small split (its 1024-slot cache takes the single-workgroup kernel by default), run on
 * a golden.json case with the golden tokens fed in (prefill tiles of 32, then one token per
 * step), must reproduce golden's argmax at every computed position and its logits within the
 * golden test's tolerance (float32 kernels against the float64 oracle: 5e-4, measured ~6e-6).
 */
import { describe, expect, test } from 'vitest';
import { readF32 } from '../../src/gpu/buffers.ts';
import { runDispatches } from '../../src/gpu/kernel.ts';
import { writeStep } from '../../src/gpu/step-params.ts';
import { KvCache } from '../../src/kv/kv-cache.ts';
import { backendSizes } from '../../src/model/forward-backend.ts';
import { buildForward, createActivations } from '../../src/model/forward.ts';
import { uploadWeights } from '../../src/model/gpu-weights.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { urlModelSource } from '../../src/model/model-source.ts';
import { ropeTablesFor } from '../../src/model/rope-frequencies.ts';
import { createBufferFrom } from '../../src/gpu/buffers.ts';
import { expectClose } from '../helpers/close.ts';
import type { GoldenCase } from '../helpers/golden.ts';
import { testGpu } from '../helpers/gpu.ts';

const ATOL = 5e-4;
const BASE = '/models/tiny-reasoner-qwen3/';
const TILE = 32;
const SPLIT = 32; // 32 splits per head; a decode step here has 3 to 6 of them populated

describe('paged-attention split-K in the bundled model’s forward pass', async () => {
  const gpu = await testGpu();
  const device = gpu.device;
  const model = await loadModel(urlModelSource(BASE));
  const c = model.config;
  const golden: GoldenCase = (await (await fetch(BASE + 'golden.json')).json()).cases[0];
  const { contextLength, geometry } = backendSizes(c, { maxStepTokens: TILE });
  const maxSlots = geometry.maxPagesPerHead * geometry.pageSize;
  const weights = await uploadWeights(device, model.weights);
  const tables = ropeTablesFor(c, contextLength);
  const rope = { cos: createBufferFrom(device, 'ropeCos', tables.cos), sin: createBufferFrom(device, 'ropeSin', tables.sin) };

  for (const subgroups of gpu.hasSubgroups ? [false, true] : [false]) {
    test(`split ${SPLIT}, ${subgroups ? 'subgroups' : 'workgroup'} variant: golden argmax and logits, ${golden.prompt_ids.length}-token prompt`, async () => {
      const { cache: kv, checked } = KvCache.allocate(gpu, geometry);
      await checked;
      const acts = createActivations(device, c, TILE, maxSlots, SPLIT);
      const plan = buildForward(gpu, c, weights, acts, kv, rope, undefined, undefined, { split: SPLIT, subgroups });
      expect(plan.body.filter((d) => d.label.startsWith('paged-attention-split')).length).toBe(c.numLayers);
      device.queue.writeBuffer(acts.sampleParams, 0, new Float32Array([0, 1, 0, 0]));

      const ids = [...golden.prompt_ids, ...golden.generated_ids];
      const last = ids.length - 2; // the last position golden has logits for (its argmax is the final token)
      let maxDiff = 0;
      let checkedRows = 0;
      for (let pos = 0; pos <= last; ) {
        // The prompt in tiles, then every golden token as its own decode step.
        const T = pos < golden.prompt_ids.length ? Math.min(TILE, golden.prompt_ids.length - pos) : 1;
        kv.append(pos, T);
        device.queue.writeBuffer(acts.tokens, 0, Uint32Array.from(ids.slice(pos, pos + T)));
        writeStep(device, acts.step, T, pos);
        await runDispatches(gpu, [...plan.body, ...plan.head], T);
        const logits = await readF32(device, acts.logitsLast, c.vocabSize);
        const p = pos + T - 1;
        let best = 0;
        for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        expect(best, `argmax at position ${p}`).toBe(golden.argmax_every_position[p]);
        const want = p === last ? golden.last_position_logits : golden.logits_at_positions[String(p)];
        if (want) {
          expectClose(`logits at position ${p}`, logits, want, { atol: ATOL });
          for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(logits[i] - want[i]));
          checkedRows++;
        }
        pos += T;
      }
      expect(checkedRows).toBeGreaterThanOrEqual(2);
      console.log(`[${gpu.adapterInfo}] split ${SPLIT} ${subgroups ? 'subgroups' : 'workgroup'}: ${ids.length - 1} positions, max |logit diff| vs golden ${maxDiff.toExponential(2)}`);
      kv.destroy();
      for (const b of Object.values(acts)) b.destroy();
    });
  }
});
