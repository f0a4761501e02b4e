/**
 * The per-step uniform shared by every kernel whose work depends on the step, written once per
 * command buffer. WGSL side: shaders/step.wgsl, joined by the host of each shader that binds it:
 *   struct Step { rows: u32, pos_start: u32, real_rows: u32, answer_rows: u32 }
 * rows: tokens processed this step (1 when decoding, up to the prefill tile when prefilling);
 * pos_start: absolute position of the first of those tokens; real_rows and answer_rows: where
 * the answer-first probe's rows sit in the tile (step.wgsl), rows and 0 without a probe.
 */
import { createBuffer, UNIFORM } from './buffers.ts';

export const STEP_BYTES = 16;

export function createStepBuffer(device: GPUDevice, label = 'step'): GPUBuffer {
  return createBuffer(device, label, STEP_BYTES, UNIFORM);
}

/** Where a step's probe rows sit: real tokens first, then the answer block, then the lookahead. */
export interface ProbeRows {
  realRows: number;
  answerRows: number;
}

export function writeStep(device: GPUDevice, step: GPUBuffer, rows: number, posStart: number, probe: ProbeRows = { realRows: rows, answerRows: 0 }): void {
  device.queue.writeBuffer(step, 0, new Uint32Array([rows, posStart, probe.realRows, probe.answerRows]));
}
