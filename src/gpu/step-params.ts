/**
 * The per-step uniform shared by every kernel whose work depends on the step, written once per
 * command buffer. WGSL side: shaders/step.wgsl, joined by the host of each shader that binds it:
 *   struct Step { rows: u32, pos_start: u32, _pad0: u32, _pad1: u32 }
 * rows: tokens processed this step (1 when decoding, up to the prefill tile when prefilling);
 * pos_start: absolute position of the first of those tokens.
 */
import { createBuffer, UNIFORM } from './buffers.ts';

export const STEP_BYTES = 16;

export function createStepBuffer(device: GPUDevice, label = 'step'): GPUBuffer {
  return createBuffer(device, label, STEP_BYTES, UNIFORM);
}

export function writeStep(device: GPUDevice, step: GPUBuffer, rows: number, posStart: number): void {
  device.queue.writeBuffer(step, 0, new Uint32Array([rows, posStart, 0, 0]));
}
