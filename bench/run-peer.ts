/**
 * tsx bench/run-peer.ts [--prompt N] [--tokens N] [--runs N] [--layers N] [--threads N] [--ngl N]
 *                     [--only wllama|crystal] [--model URL --gguf URL] [--budget N] [--verbose]
 *
 * --budget N also runs Crystal with crystal at an `all` budget of N (under the prompt: every step evicts).
 *
 * Crystal against @wllama/wllama (llama.cpp, WebGPU) in one Chromium (bench/peer-page.ts says
 * what is measured). Serves the repository with Vite, sending COOP/COEP so the page is
 * cross-origin isolated and wllama may use its multi-thread path (the page says whether it did),
 * opens bench/peer.html and prints its log; exits 1 when the page logs ERROR. Needs the model pair:
 *   tsx scripts/make-gguf.ts [--layers N]
 *   tsx scripts/make-real-shape-models.ts --only qwen3-0.6b [--layers N --out real-models/N-layers]
 */
import { parseArgs } from 'node:util';
import { createServer } from 'vite';
import { runBenchPage } from '../scripts/lib/bench-page-runner.ts';

const { values } = parseArgs({
  options: {
    prompt: { type: 'string', default: '64' },
    tokens: { type: 'string', default: '16' },
    runs: { type: 'string', default: '3' },
    layers: { type: 'string' },
    threads: { type: 'string' },
    ngl: { type: 'string' },
    only: { type: 'string' },
    model: { type: 'string' },
    gguf: { type: 'string' },
    budget: { type: 'string' },
    verbose: { type: 'boolean' },
  },
});
const server = await createServer({
  server: {
    port: 5198,
    strictPort: false,
    host: '127.0.0.1',
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
    hmr: false, // others edit the tree while a run takes minutes: a reload would restart it
  },
  logLevel: values.verbose ? 'info' : 'warn',
});
await server.listen();
const query = new URLSearchParams();
for (const key of ['prompt', 'tokens', 'runs', 'layers', 'threads', 'ngl', 'only', 'model', 'gguf', 'budget'] as const) {
  const v = values[key];
  if (v !== undefined) query.set(key, v);
}
if (values.verbose) query.set('verbose', '1');
await runBenchPage(server, 'bench/peer.html', query, (m) => {
  if (m.type() === 'log') console.log(m.text());
  else if (m.type() === 'error') console.error(`console.error: ${m.text()}`);
});
