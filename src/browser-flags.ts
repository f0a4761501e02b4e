/**
 * Chromium flags that give WebGPU on machines without a GPU (SwiftShader) and keep a closed
 * network from stalling the browser (../shared/DESIGN.md section 6). Used by vitest's browser
 * project, Playwright, the benchmark and the GPU evaluation.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * CHROMIUM_WEBGPU=gpu gives the page the machine's GPU (Vulkan, headless Linux) instead of
 * SwiftShader: for the benchmarks on a GPU machine (npm run bench, npm run bench:peer).
 */
const adapterArgs =
  process.env.CHROMIUM_WEBGPU === 'gpu' ? ['--enable-features=Vulkan,VulkanFromANGLE', '--use-angle=vulkan', '--ignore-gpu-blocklist'] : ['--use-webgpu-adapter=swiftshader'];

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  ...adapterArgs,
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
