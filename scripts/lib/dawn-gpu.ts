/**
 * WebGPU in Node: the `webgpu` npm package (Dawn, prebuilt dawn.node) supplies the `GPU` object
 * that src/gpu/device.ts's requestGpu takes, so kernels, the engine, the benchmark and the
 * evaluation run from Node on a Linux machine with a GPU and no display (Dawn's Vulkan backend).
 *
 * Without a GPU: Debian's lavapipe (mesa-vulkan-drivers 22.3) lacks a feature Dawn requires
 * (shaderUniform*ArrayDynamicIndexing), but Chromium ships SwiftShader's Vulkan driver, which Dawn
 * accepts. When the system's Vulkan drivers give no adapter, we point the Vulkan loader at that
 * one and say so. Dawn itself needs the Vulkan loader, libvulkan.so.1 (Debian: libvulkan1).
 */
import { existsSync } from 'node:fs';
import { create } from 'webgpu';

/** Chromium's SwiftShader Vulkan driver (Debian's chromium package). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Dawn's instances, kept reachable for the life of the process: a device does not hold its
 * instance alive, and collecting it under a live device crashes the process.
 */
const instances: GPU[] = [];
const newInstance = () => {
  const gpu = create([]) as GPU;
  instances.push(gpu);
  return gpu;
};

export interface DawnGpu {
  gpu: GPU;
  /** How the adapter was found: the system's Vulkan drivers, or the SwiftShader fallback. */
  via: string;
}

/**
 * Dawn's GPU with an adapter behind it, or an error that says what is missing. `icd` picks a
 * Vulkan driver manifest (VK_ICD_FILENAMES) instead of the system's: 'swiftshader' or a path.
 */
export async function dawnGpu({ icd }: { icd?: string } = {}): Promise<DawnGpu> {
  // Dawn's Vulkan backend warns about a missing XDG_RUNTIME_DIR (display sockets) on headless machines.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const useIcd = (path: string) => (process.env.VK_ICD_FILENAMES = path === 'swiftshader' ? SWIFTSHADER_ICD : path);
  if (icd) useIcd(icd);
  let gpu = newInstance();
  if (await gpu.requestAdapter({ powerPreference: 'high-performance' })) {
    return { gpu, via: icd ? `Vulkan driver ${process.env.VK_ICD_FILENAMES}` : 'system Vulkan drivers' };
  }
  if (!icd && existsSync(SWIFTSHADER_ICD)) {
    // The Vulkan loader reads VK_ICD_FILENAMES at each instance, so a second Dawn instance sees it.
    useIcd('swiftshader');
    gpu = newInstance();
    if (await gpu.requestAdapter()) return { gpu, via: `no adapter from the system's Vulkan drivers; SwiftShader (${SWIFTSHADER_ICD})` };
  }
  throw new Error(
    'Dawn (the webgpu package) found no GPU adapter: it needs the Vulkan loader (Debian: apt-get install libvulkan1) and a Vulkan driver ' +
      `(a GPU's, or Chromium's SwiftShader at ${SWIFTSHADER_ICD}). Dawn's warnings above say what it tried.`,
  );
}
