/**
 * Getting a WebGPU device with the limits our kernels need. requestDevice() without
 * requiredLimits gets the spec defaults (128 MiB bindings, 8 storage buffers), so we always
 * ask for the adapter's own limits (DESIGN.md section 6).
 */
import { DeviceLostError, GpuLimitError, NoGpuAdapterError, WebGpuUnavailableError } from '../errors.ts';
import { browserGpu } from './platform.ts';

/**
 * Which code paths the kernels take (gpu/workgroup.ts): a CPU adapter's (SwiftShader: 4-thread
 * reductions, one gemv lane per output) or a discrete GPU's (64-256-thread reductions, 32 lanes).
 * Chosen from the adapter, or forced to the GPU's so that a machine without one runs, and checks,
 * exactly what a user's GPU will.
 */
export type CodePaths = 'cpu-adapter' | 'discrete-gpu';

export interface GpuOptions {
  /** 'adapter' (default): the adapter's own; 'discrete-gpu': a GPU's, whatever the adapter. */
  codePaths?: 'adapter' | 'discrete-gpu';
}

export interface Gpu {
  device: GPUDevice;
  adapterInfo: string; // vendor / architecture / description, printed by tests and benchmarks
  codePaths: CodePaths;
  hasTimestamps: boolean;
  hasSubgroups: boolean;
  /** Resolves when the device is lost; rejects never. */
  lost: Promise<DeviceLostError>;
  pipelines: Map<string, GPUComputePipeline>; // key: shader label + constants
}

const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** The fewest storage buffers one of our kernels binds; below this nothing runs. */
const MIN_STORAGE_BUFFERS = 8;

/** `gpuApi`: the platform's GPU object (platform.ts; default the browser's); null stands for a browser without WebGPU (tests). */
export async function requestGpu(gpuApi: GPU | null | undefined = browserGpu(), options: GpuOptions = {}): Promise<Gpu> {
  if (!gpuApi) throw new WebGpuUnavailableError();
  const adapter = await gpuApi.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new NoGpuAdapterError();
  const limits = adapter.limits;
  if (limits.maxStorageBuffersPerShaderStage < MIN_STORAGE_BUFFERS) {
    throw new GpuLimitError('maxStorageBuffersPerShaderStage', MIN_STORAGE_BUFFERS, limits.maxStorageBuffersPerShaderStage);
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = limits[name];
  const hasTimestamps = adapter.features.has('timestamp-query');
  const hasSubgroups = adapter.features.has('subgroups');
  const requiredFeatures: GPUFeatureName[] = [];
  if (hasTimestamps) requiredFeatures.push('timestamp-query');
  if (hasSubgroups) requiredFeatures.push('subgroups'); // the split attention kernel's subgroup variant
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const info = adapter.info;
  // A broken shader or binding otherwise fails silently (outputs stay untouched): say so loudly.
  device.addEventListener('uncapturederror', (event) => {
    console.error(`WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
  });
  const lost = device.lost.then((l) => new DeviceLostError(l.message || l.reason || 'unknown reason'));
  const adapterInfo = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ');
  return {
    device,
    adapterInfo,
    codePaths: options.codePaths === 'discrete-gpu' || !/swiftshader/i.test(adapterInfo) ? 'discrete-gpu' : 'cpu-adapter',
    hasTimestamps,
    hasSubgroups,
    lost,
    pipelines: new Map(),
  };
}

/** The same device taking the other code paths (its own pipeline cache: the same shader compiles to other constants). */
export function withCodePaths(gpu: Gpu, codePaths: CodePaths): Gpu {
  return codePaths === gpu.codePaths ? gpu : { ...gpu, codePaths, pipelines: new Map() };
}
