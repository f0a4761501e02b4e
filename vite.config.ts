import { defineConfig } from 'vite';

// The app: index.html at the root, the engine in a module worker, the bundled model under public/.
export default defineConfig({
  base: './',
  worker: { format: 'es' },
  optimizeDeps: { include: ['@mlc-ai/web-tokenizers', '@huggingface/jinja', 'comlink'] },
  build: { target: 'es2022', outDir: 'dist' },
  preview: { port: 4173, strictPort: true },
});
