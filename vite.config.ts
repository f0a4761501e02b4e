import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

/** Every file the build wrote, for the service worker to cache (public/sw.js). */
function precacheList(): Plugin {
  const skip = new Set(['sw.js', 'precache.json', 'README.md', 'golden.json']);
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)]));
  let outDir = 'dist';
  // web-llm's chunk (the catalogue, src/catalog/records.ts) is left out: sw.js caches it when the
  // page first loads it, and offline the downloaded models are listed from the Cache API without it.
  const lazy = new Set<string>();
  return {
    name: 'precache-list',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    generateBundle(_, bundle) {
      for (const c of Object.values(bundle)) if (c.type === 'chunk' && c.moduleIds.some((id) => id.includes('/@mlc-ai/web-llm/'))) lazy.add(c.fileName);
    },
    closeBundle() {
      const files = walk(outDir)
        .map((f) => relative(outDir, f).split('\\').join('/'))
        .filter((f) => !skip.has(f.split('/').pop()!) && !lazy.has(f))
        .sort();
      writeFileSync(join(outDir, 'precache.json'), JSON.stringify({ files }, null, 1));
    },
  };
}

// The app: index.html at the root, the engine in a module worker, the bundled model under public/.
export default defineConfig({
  base: './',
  plugins: [precacheList()],
  worker: { format: 'es' },
  optimizeDeps: {
    include: ['@mlc-ai/web-tokenizers', '@huggingface/jinja', 'comlink', '@mlc-ai/web-llm'],
    // The pages' own entries: the library e2e's fixture app (e2e/fixtures/lib-app) imports the packed
    // package, which is only installed there, and would otherwise fail the dev server's dependency scan.
    entries: ['index.html', 'bench/*.html'],
  },
  build: { target: 'es2022', outDir: 'dist' },
  preview: { port: 4173, strictPort: true },
});
