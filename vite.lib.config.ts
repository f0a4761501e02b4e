/**
 * `npm run build:lib`: Crystal as an ES-module package in dist-lib/ (package.json `exports`):
 * `.` (src/index.ts) and `./worker` (src/engine/worker.ts, which exposes the engine with Comlink
 * when imported: an app's worker file is `import 'crystal/worker'`). The runtime dependencies
 * stay external, the WGSL shaders (`?raw`) are inlined as strings, src/ui is not reachable from
 * either entry. Declarations come from tsc (tsconfig.lib.json) into dist-lib/types/.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import pkg from './package.json' with { type: 'json' };

const external = Object.keys(pkg.dependencies);
const OUT = 'dist-lib';

/**
 * createWorkerEngine()'s default worker (src/engine/client.ts) is `new URL('./worker.ts',
 * import.meta.url)`: left alone, Vite would bundle a second copy of the engine, dependencies
 * included, as a worker asset. In the package it is the `./worker` entry, worker.js beside every
 * chunk (all chunks are written at the package root), so an app's bundler that handles
 * `new Worker(new URL(..., import.meta.url))` (Vite, webpack 5) builds it from the package.
 */
function defaultWorkerIsTheWorkerEntry(): Plugin {
  const placeholder = '__CRYSTAL_WORKER_ENTRY__';
  return {
    name: 'crystal-default-worker',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('/src/engine/client.ts')) return;
      const from = "new URL('./worker.ts', import.meta.url)";
      if (!code.includes(from)) this.error(`client.ts no longer has ${from}: update vite.lib.config.ts`);
      // Not a string literal, so Vite's worker plugin leaves it alone in this build.
      return { code: code.replace(from, `new URL(${placeholder}, import.meta.url)`), map: null };
    },
    renderChunk(code) {
      if (code.includes(placeholder)) return { code: code.replaceAll(placeholder, '"./worker.js"'), map: null };
    },
  };
}

/**
 * Declarations: tsc (TypeScript 7) emits them with the sources' `.ts` import specifiers kept
 * (rewriteRelativeImportExtensions rewrites only emitted JavaScript); they are rewritten to `.js`,
 * the specifiers every TypeScript resolution mode (bundler, node16, nodenext) maps to `.d.ts`.
 */
function declarations(): Plugin {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)]));
  return {
    name: 'crystal-declarations',
    apply: 'build',
    closeBundle() {
      const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.lib.json'], { stdio: 'inherit' });
      if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.lib.json failed (${tsc.status ?? tsc.signal})`);
      for (const file of walk(join(OUT, 'types')).filter((f) => f.endsWith('.d.ts'))) {
        const text = readFileSync(file, 'utf8');
        const out = text.replace(/((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*?)\.ts(['"])/g, '$1$2.js$3');
        if (out !== text) writeFileSync(file, out);
      }
    },
  };
}

export default defineConfig({
  publicDir: false,
  plugins: [defaultWorkerIsTheWorkerEntry(), declarations()],
  build: {
    target: 'es2022',
    outDir: OUT,
    emptyOutDir: true,
    minify: false,
    sourcemap: true,
    lib: { entry: { index: 'src/index.ts', worker: 'src/engine/worker.ts' }, formats: ['es'] },
    rolldownOptions: {
      external: (id) => external.some((d) => id === d || id.startsWith(d + '/')),
      output: { chunkFileNames: 'crystal-[hash].js' },
    },
  },
});
