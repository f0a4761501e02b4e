/**
 * npm run eval -- --engine gpu: the same jobs on the GPU engine, in this process on Dawn (the
 * `webgpu` package, scripts/lib/dawn-gpu.ts): one device, so prompts run one after another. The
 * CPU-only research policy (oracle) is refused by the GPU engine like any setting it cannot honour.
 * Loaded by scripts/eval.ts after the .wgsl hook is registered.
 */
import { createGpuBackend } from '../../src/engine/gpu-backend.ts';
import { requestGpu } from '../../src/gpu/device.ts';
import { loadModel } from '../../src/model/load-model.ts';
import { dawnGpu } from '../lib/dawn-gpu.ts';
import { dirModelSource } from '../lib/dir-model-source.ts';
import { nodeWebTokenizers } from '../lib/node-web-tokenizers.ts';
import { runPrompt } from './run-prompt.ts';
import type { EvalConfig, EvalItem, EvalOutcome } from './score.ts';

export async function gpuEval(
  modelDir: string,
  items: EvalItem[],
  configs: EvalConfig[],
  maxNewTokens: number,
  onOutcomes: (o: EvalOutcome[]) => void,
  icd?: string,
): Promise<string> {
  const { gpu: api, via } = await dawnGpu({ icd });
  const gpu = await requestGpu(api);
  const model = await loadModel(dirModelSource(modelDir), { tokenizerLib: nodeWebTokenizers() });
  const backend = await createGpuBackend(gpu, model);
  try {
    for (let i = 0; i < items.length; i++) onOutcomes(await runPrompt(backend, items[i], i, configs, maxNewTokens));
  } finally {
    backend.dispose();
    gpu.device.destroy();
  }
  return `GPU engine (f32 WGSL kernels, Node on Dawn: ${gpu.adapterInfo}; ${via})`;
}
