import { describe, test } from 'vitest';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { checkGoldenCase } from '../helpers/golden-check.ts';
import { BUNDLED_MODEL_DIR, readGolden } from '../helpers/golden.ts';
import { loadModelFromDir } from '../helpers/node-model.ts';

// The reference computes in f64 over the f32 weights and HF's f32 RoPE table, like the oracle,
// so the logits agree far below the 2e-4 float32 rounding budget (measured: up to 5.5e-7; the
// remainder is our correctly rounded f32 sin/cos table against numpy's, 1 ulp apart at places).
const ATOL = 2e-6;

describe('CPU reference reproduces golden.json (full cache)', async () => {
  const model = await loadModelFromDir(BUNDLED_MODEL_DIR);
  const backend = createReferenceBackend(model, { maxStepTokens: 32 });
  for (const c of readGolden()) {
    test(`${c.prompt_ids.length}-token prompt, answer ${c.answer}`, async () => {
      const maxDiff = await checkGoldenCase(backend, c, ATOL);
      console.log(`max |logit diff| vs golden: ${maxDiff.toExponential(2)}`);
    });
  }
});
