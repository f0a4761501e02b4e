/**
 * The benchmark page (npm run bench drives it in Chromium): reads the query, loads the model over
 * HTTP, and runs model-bench.ts, or kernel-bench.ts with ?kernels=1. Node on Dawn runs the same
 * benchmarks from node-bench.ts.
 */
import { requestGpu } from '../src/gpu/device.ts';
import { loadModel } from '../src/model/load-model.ts';
import { urlModelSource } from '../src/model/model-source.ts';
import { modelBench } from './model-bench.ts';
import { benchQuery } from './options.ts';

const o = benchQuery(new URLSearchParams(location.search));
const logEl = document.getElementById('log')!;
function log(line: string) {
  logEl.append(document.createTextNode(line + '\n'));
  console.log(line);
}

async function main() {
  const gpu = await requestGpu();
  log(`user agent     ${navigator.userAgent}`);
  if (o.kernels) return (await import('./kernel-bench.ts')).kernelBench(gpu, log, { runs: o.runs, quick: o.quick, sections: o.sections }); // prints the adapter first
  log(`adapter        ${gpu.adapterInfo}`);
  const model = await loadModel(urlModelSource(o.model));
  const evalFile = await fetch(o.model + 'eval.jsonl');
  const task = evalFile.ok && !/html/.test(evalFile.headers.get('content-type') ?? '');
  const evalPrompt = task ? JSON.parse((await evalFile.text()).split('\n')[0]).prompt : null;
  await modelBench(gpu, model, evalPrompt, log, o);
}

main()
  .catch((e) => log(`ERROR ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`))
  .finally(() => ((window as unknown as { benchDone: boolean }).benchDone = true));
