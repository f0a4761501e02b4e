/**
 * Chromium flags that give WebGPU on machines without a GPU (SwiftShader) and keep a closed
 * network from stalling the browser (../shared/DESIGN.md section 6). Used by vitest's browser
 * project, Playwright, the benchmark and the GPU evaluation.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
