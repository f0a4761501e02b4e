/**
 * WebGPU in Node: the `webgpu` npm package (Dawn, prebuilt dawn.node) supplies the `GPU` object
 * that src/gpu/device.ts's requestGpu takes, so kernels, the engine, the benchmark and the
 * evaluation run from Node on a Linux machine with a GPU and no display (Dawn's Vulkan backend).
 *
 * Which Vulkan driver: one named (`icd`, or VK_DRIVER_FILES / VK_ICD_FILENAMES) is used as it is.
 * Otherwise the driver manifests in the usual places are tried, GPU drivers first: a GPU host often
 * keeps its vendor's manifest outside the loader's default paths (NVIDIA's container toolkit puts it
 * in /usr/local/nvidia/share/vulkan/icd.d/), so the loader alone would find no GPU. Without a GPU
 * (this project's machines), Chromium's SwiftShader Vulkan driver stands in, and says so; with
 * `requireGpu` (the GPU bundle's run.sh) it never does: NoGpuAdapterError lists what was tried.
 * Dawn itself needs the Vulkan loader, libvulkan.so.1 (Debian: libvulkan1).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { create } from 'webgpu';

/** Chromium's SwiftShader Vulkan driver (Debian's chromium package). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Where Vulkan driver manifests live: the loader's own search path, then the vendors' own places. */
export const ICD_DIRS = [
  '/usr/local/nvidia/share/vulkan/icd.d', // NVIDIA's container toolkit
  '/usr/local/nvidia/icd.d',
  '/etc/vulkan/icd.d',
  '/usr/local/etc/vulkan/icd.d',
  '/usr/local/share/vulkan/icd.d',
  '/usr/share/vulkan/icd.d',
  '/opt/amdgpu/share/vulkan/icd.d', // AMD's packaged driver
];

/** Manifests of drivers that run on the CPU: tried last, and never with requireGpu. */
const CPU_DRIVER = /lvp|lavapipe|swiftshader/i;

/** No Vulkan driver gave Dawn a GPU adapter; `tried` says what each attempt found. */
export class NoGpuAdapterError extends Error {
  constructor(readonly tried: readonly string[]) {
    super(
      `No GPU adapter: Dawn (the webgpu package) found none through these Vulkan drivers:\n  ${tried.join('\n  ') || '(no driver manifest found)'}\n` +
        `Name the GPU's driver manifest with VK_DRIVER_FILES=/path/to/icd.json (NVIDIA: nvidia_icd.json), check that the driver's libraries ` +
        `(e.g. libGLX_nvidia.so.0) are on the library path, and that the Vulkan loader libvulkan.so.1 loads.`,
    );
    this.name = 'NoGpuAdapterError';
  }
}

/**
 * Dawn's instances, kept reachable for the life of the process: a device does not hold its
 * instance alive, and collecting it under a live device crashes the process.
 */
const instances: GPU[] = [];

export interface DawnGpu {
  gpu: GPU;
  /** How the adapter was found: which driver manifest, and why that one. */
  via: string;
  /** The driver manifest in use (undefined: the loader's own choice). */
  icd?: string;
}

export interface DawnOptions {
  /** A Vulkan driver manifest to use: 'swiftshader' or a path (else VK_DRIVER_FILES / VK_ICD_FILENAMES, else a search). */
  icd?: string;
  /** Never fall back to a CPU driver that was not asked for: NoGpuAdapterError instead. */
  requireGpu?: boolean;
  /** Where to look for manifests (default ICD_DIRS). */
  dirs?: readonly string[];
}

/** Every driver manifest in `dirs`, GPU drivers first, each once. */
export function driverManifests(dirs: readonly string[] = ICD_DIRS): string[] {
  const found = dirs.flatMap((dir) => {
    try {
      return readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => join(dir, f));
    } catch {
      return [];
    }
  });
  const unique = [...new Set(found)];
  return [...unique.filter((f) => !CPU_DRIVER.test(f)), ...unique.filter((f) => CPU_DRIVER.test(f))];
}

/** A Dawn instance whose Vulkan loader reads `manifest` (VK_DRIVER_FILES and its older name), and its adapter. */
async function tryDriver(manifest: string): Promise<{ gpu: GPU; adapter: GPUAdapter | null }> {
  process.env.VK_DRIVER_FILES = process.env.VK_ICD_FILENAMES = manifest;
  // The Vulkan loader reads the variables at each instance, so a new Dawn instance sees them.
  const gpu = create([]) as GPU;
  instances.push(gpu);
  return { gpu, adapter: await gpu.requestAdapter({ powerPreference: 'high-performance' }) };
}

const describe = (a: GPUAdapter) => [a.info.vendor, a.info.architecture, a.info.device, a.info.description].filter(Boolean).join(' ') || 'an adapter';

/**
 * Dawn's GPU with an adapter behind it, or an error that says what is missing: see the header for
 * which driver is taken. What it used is in `via`; callers print it.
 */
export async function dawnGpu({ icd, requireGpu = false, dirs = ICD_DIRS }: DawnOptions = {}): Promise<DawnGpu> {
  // Dawn's Vulkan backend warns about a missing XDG_RUNTIME_DIR (display sockets) on headless machines.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const named = icd === 'swiftshader' ? SWIFTSHADER_ICD : icd;
  const fromEnv = process.env.VK_DRIVER_FILES || process.env.VK_ICD_FILENAMES;
  if (named || fromEnv) {
    const manifest = named ?? fromEnv!;
    const { gpu, adapter } = await tryDriver(manifest);
    if (adapter) return { gpu, icd: manifest, via: `Vulkan driver ${manifest} (${named ? 'asked for' : 'from VK_DRIVER_FILES / VK_ICD_FILENAMES'}): ${describe(adapter)}` };
    throw new NoGpuAdapterError([`${manifest} (${named ? 'asked for' : 'from the environment'}): no adapter`]);
  }
  const tried: string[] = [];
  for (const manifest of driverManifests(dirs)) {
    if (requireGpu && CPU_DRIVER.test(manifest)) {
      tried.push(`${manifest}: a CPU driver, skipped (a GPU is required)`);
      continue;
    }
    const { gpu, adapter } = await tryDriver(manifest);
    if (adapter) return { gpu, icd: manifest, via: `Vulkan driver ${manifest} (found in ${dirs.join(', ')}): ${describe(adapter)}` };
    tried.push(`${manifest}: no adapter`);
  }
  if (!requireGpu && existsSync(SWIFTSHADER_ICD)) {
    const { gpu, adapter } = await tryDriver(SWIFTSHADER_ICD);
    if (adapter) return { gpu, icd: SWIFTSHADER_ICD, via: `no GPU driver gave an adapter (${tried.length} tried); SwiftShader on the CPU (${SWIFTSHADER_ICD})` };
    tried.push(`${SWIFTSHADER_ICD}: no adapter`);
  }
  throw new NoGpuAdapterError(tried);
}
