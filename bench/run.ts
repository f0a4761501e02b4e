/**
 * npm run bench -- [--runs N] [--tokens N] [--model URLPATH] [--contexts 1024,4096,16384 --budget N]
 *                  [--kernels [--quick]] [--node [--vulkan-icd swiftshader|PATH]]
 *
 * By default serves the repository with Vite, opens bench/index.html in Chromium (Debian's, WebGPU
 * on SwiftShader where there is no GPU; set CHROMIUM_PATH for another browser) and prints what the
 * page measures. --node runs the same benchmarks in this process on Dawn (the `webgpu` package,
 * Vulkan): a Linux machine with a GPU and no display. --kernels measures each kernel against the
 * adapter's own bandwidth instead of the model (bench/kernel-bench.ts); --contexts and --budget are
 * for real-shape models (bench/real-model.ts). Exits 1 when a benchmark reports an ERROR.
 */
import { parseArgs } from 'node:util';
import { createServer } from 'vite';
import { benchQuery } from './options.ts';
import { runBenchPage } from '../scripts/lib/bench-page-runner.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    tokens: { type: 'string' },
    model: { type: 'string' },
    contexts: { type: 'string' },
    budget: { type: 'string' },
    kernels: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    node: { type: 'boolean', default: false },
    'vulkan-icd': { type: 'string' },
  },
});
const query = new URLSearchParams();
for (const name of ['runs', 'tokens', 'model', 'contexts', 'budget'] as const) if (values[name] !== undefined) query.set(name, values[name]!);
if (values.kernels) query.set('kernels', '1');
if (values.quick) query.set('quick', '1');

if (values.node) {
  // The kernels import their .wgsl with Vite's ?raw: register the same for Node before loading them.
  await import('../scripts/lib/wgsl-raw-register.ts');
  const { nodeBench } = await import('./node-bench.ts');
  let ok = false;
  try {
    ok = await nodeBench(benchQuery(query), values['vulkan-icd']);
  } catch (e) {
    console.log(`ERROR ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  process.exit(ok ? 0 : 1); // Dawn's instance would otherwise keep the process alive
}

const server = await createServer({ server: { port: 5199, strictPort: false, host: '127.0.0.1' }, logLevel: 'warn' });
await server.listen();
await runBenchPage(server, 'bench/index.html', query);
