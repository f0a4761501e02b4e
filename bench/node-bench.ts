/**
 * The benchmarks from Node on Dawn (npm run bench -- --node): the same model-bench.ts and
 * kernel-bench.ts the browser page runs, on the `webgpu` package's device (scripts/lib/dawn-gpu.ts),
 * with the model read from disk. Loaded through bench/run.ts after the .wgsl hook is registered.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dawnGpu, type DawnOptions } from '../scripts/lib/dawn-gpu.ts';
import { dirModelSource } from '../scripts/lib/dir-model-source.ts';
import { nodeWebTokenizers } from '../scripts/lib/node-web-tokenizers.ts';
import { requestGpu } from '../src/gpu/device.ts';
import { loadModel } from '../src/model/load-model.ts';
import { modelBench } from './model-bench.ts';
import type { BenchOptions } from './options.ts';

/** The folder a page URL path names: /models/NAME/ lives in public/, anything else from the repository root. */
export function modelDir(urlPath: string): string {
  const inRepo = urlPath.replace(/^\/+/, '');
  return existsSync(inRepo) ? inRepo : join('public', inRepo);
}

/** Runs the benchmark and prints it (with `adapterOnly`, only the driver and adapter); false when it reported an ERROR (a failed correctness check). */
export async function nodeBench(o: BenchOptions, driver: DawnOptions = {}, adapterOnly = false): Promise<boolean> {
  const { gpu: api, via } = await dawnGpu(driver);
  const gpu = await requestGpu(api);
  let ok = true;
  const log = (line: string) => {
    if (line.includes('ERROR')) ok = false;
    console.log(line);
  };
  log(`runtime        Node ${process.version}, Dawn (webgpu npm package), ${via}`);
  try {
    if (adapterOnly) {
      log(`adapter        ${gpu.adapterInfo}`);
      return ok;
    }
    if (o.kernels) {
      const { kernelBench } = await import('./kernel-bench.ts');
      await kernelBench(gpu, log, { runs: o.runs, quick: o.quick, sections: o.sections }); // prints the adapter first
      return ok;
    }
    log(`adapter        ${gpu.adapterInfo}`);
    const dir = modelDir(o.model);
    const model = await loadModel(dirModelSource(dir), { name: o.model, tokenizerLib: nodeWebTokenizers() });
    const evalFile = join(dir, 'eval.jsonl');
    const evalPrompt = existsSync(evalFile) ? JSON.parse(readFileSync(evalFile, 'utf8').split('\n')[0]).prompt : null;
    await modelBench(gpu, model, evalPrompt, log, o);
    return ok;
  } finally {
    gpu.device.destroy();
  }
}
