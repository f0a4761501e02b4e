/**
 * npm run bench -- [--runs N] [--tokens N] [--model URLPATH] [--contexts 1024,4096,16384 --budget N]
 *                  [--kernels [--quick] [--sections bandwidth,gemv,attention,score-update]]
 *                  [--forecast-bandwidth GB/s --forecast-dispatch-us US --forecast-device NAME]
 *                  [--node [--vulkan-icd swiftshader|PATH] [--require-gpu] [--adapter]]
 *
 * By default serves the repository with Vite, opens bench/index.html in Chromium (Debian's, WebGPU
 * on SwiftShader where there is no GPU; set CHROMIUM_PATH for another browser) and prints what the
 * page measures. --node runs the same benchmarks in this process on Dawn (the `webgpu` package,
 * Vulkan): a Linux machine with a GPU and no display. --kernels measures each kernel against the
 * adapter's own bandwidth instead of the model (bench/kernel-bench.ts); --contexts and --budget are
 * for real-shape models (bench/real-model.ts). The Node path finds the GPU's Vulkan driver itself
 * and prints which (scripts/lib/dawn-gpu.ts); --require-gpu makes it fail, naming what it tried,
 * rather than fall back to SwiftShader; --adapter prints the driver and adapter and stops. Only
 * the browser path loads Vite and Playwright. Exits 1 when a benchmark reports an ERROR.
 */
import { parseArgs } from 'node:util';
import { benchQuery } from './options.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    tokens: { type: 'string' },
    model: { type: 'string' },
    contexts: { type: 'string' },
    sections: { type: 'string' },
    'forecast-bandwidth': { type: 'string' },
    'forecast-dispatch-us': { type: 'string' },
    'forecast-device': { type: 'string' },
    budget: { type: 'string' },
    kernels: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    node: { type: 'boolean', default: false },
    'vulkan-icd': { type: 'string' },
    'require-gpu': { type: 'boolean', default: false },
    adapter: { type: 'boolean', default: false },
  },
});
const query = new URLSearchParams();
for (const name of ['runs', 'tokens', 'model', 'contexts', 'budget', 'sections', 'forecast-bandwidth', 'forecast-dispatch-us', 'forecast-device'] as const) if (values[name] !== undefined) query.set(name, values[name]!);
if (values.kernels) query.set('kernels', '1');
if (values.quick) query.set('quick', '1');

if (values.node) {
  // The kernels import their .wgsl with Vite's ?raw: register the same for Node before loading them.
  await import('../scripts/lib/wgsl-raw-register.ts');
  const { nodeBench } = await import('./node-bench.ts');
  let ok = false;
  try {
    ok = await nodeBench(benchQuery(query), { icd: values['vulkan-icd'], requireGpu: values['require-gpu'] }, values.adapter);
  } catch (e) {
    console.log(`ERROR ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  process.exit(ok ? 0 : 1); // Dawn's instance would otherwise keep the process alive
}

// The browser path alone loads Vite and Playwright: the --node path runs where neither is (the GPU bundle).
const { createServer } = await import('vite');
const { runBenchPage } = await import('../scripts/lib/bench-page-runner.ts');
const server = await createServer({ server: { port: 5199, strictPort: false, host: '127.0.0.1' }, logLevel: 'warn' });
await server.listen();
await runBenchPage(server, 'bench/index.html', query);
