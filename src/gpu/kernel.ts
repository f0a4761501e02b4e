/**
 * Pipelines and dispatches. A kernel's host file turns (shader, override constants, buffers)
 * into a Dispatch once; the forward pass is then a list of Dispatches encoded each step.
 * Shapes are `override` constants, so each shape gets its own cached pipeline.
 */
import type { Gpu } from './device.ts';
import { isWholeBuffer } from './platform.ts';

export type Grid = readonly [number, number, number];

export interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  /**
   * Workgroup counts for a step that processes `rows` tokens (1 when decoding); `probe`: some of
   * them are the answer-first probe's rows (step.wgsl), which only some kernels take.
   */
  grid: (rows: number, probe?: boolean) => Grid;
}

export function getPipeline(
  gpu: Gpu,
  label: string,
  code: string,
  constants: Record<string, number>,
): GPUComputePipeline {
  const key = `${label}|${JSON.stringify(constants)}|${code.length}`;
  let pipeline = gpu.pipelines.get(key);
  if (!pipeline) {
    const module = gpu.device.createShaderModule({ label, code });
    pipeline = gpu.device.createComputePipeline({
      label,
      layout: 'auto',
      compute: { module, entryPoint: 'main', constants },
    });
    gpu.pipelines.set(key, pipeline);
  }
  return pipeline;
}

/** A whole buffer, or a slice of one (offset a multiple of 256 bytes: per-layer tables). */
export type Binding = GPUBuffer | GPUBufferBinding;

/** Binding i of group 0 is buffers[i]; the shader must use every one of them. */
export function makeDispatch(
  gpu: Gpu,
  label: string,
  code: string,
  constants: Record<string, number>,
  buffers: readonly Binding[],
  grid: (rows: number, probe?: boolean) => Grid,
): Dispatch {
  const pipeline = getPipeline(gpu, label, code, constants);
  const bindGroup = gpu.device.createBindGroup({
    label,
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((b, binding) => ({ binding, resource: isWholeBuffer(b) ? { buffer: b } : b })),
  });
  return { label, pipeline, bindGroup, grid };
}

export function encodeDispatch(pass: GPUComputePassEncoder, d: Dispatch, rows: number, probe = false): void {
  const [x, y, z] = d.grid(rows, probe);
  if (x === 0 || y === 0 || z === 0) return;
  pass.setPipeline(d.pipeline);
  pass.setBindGroup(0, d.bindGroup);
  pass.dispatchWorkgroups(x, y, z);
}

/** Encodes and submits `dispatches` in one compute pass and waits for the GPU. */
export async function runDispatches(gpu: Gpu, dispatches: readonly Dispatch[], rows: number): Promise<void> {
  const encoder = gpu.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (const d of dispatches) encodeDispatch(pass, d, rows);
  pass.end();
  gpu.device.queue.submit([encoder.finish()]);
  await gpu.device.queue.onSubmittedWorkDone();
}

export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
