/**
 * mlc-llm's group quantization (GroupQuantize, q4f16_1 / q4f32_1: int4 in uint32, group 32,
 * "NK" layout), redone in TypeScript for the converter and the tests:
 *   w is first cast to the model dtype; per group of 32 inputs, scale = max|w| / 7 (in the model
 *   dtype); code = clamp(round(w / scale + 7), 0, 14), each step rounded to the model dtype;
 *   eight codes per u32, least significant first; a row's last group padded with code 0.
 * round() is round-half-to-even (TVM lowers tir.round to nearbyint). An all-zero group has
 * scale 0 and code 7, which dequantizes to 0.
 */
import { floatToHalf, roundHalf } from '../../src/gpu/half.ts';
import { q4Layout, Q4_GROUP } from '../../src/model/linear.ts';

export type ModelDtype = 'float16' | 'float32';

const roundEven = (x: number): number => {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

export interface Q4Tensor {
  codes: Uint32Array; // (rows, wordsPerRow)
  scales: Float32Array; // (rows, groupsPerRow), values exact in the model dtype
}

export function quantizeQ4(values: Float32Array, rows: number, cols: number, dtype: ModelDtype): Q4Tensor {
  const cast = dtype === 'float16' ? roundHalf : Math.fround;
  const { groupsPerRow, wordsPerRow } = q4Layout(cols, Q4_GROUP);
  const codes = new Uint32Array(rows * wordsPerRow);
  const scales = new Float32Array(rows * groupsPerRow);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groupsPerRow; g++) {
      const start = g * Q4_GROUP;
      const end = Math.min(cols, start + Q4_GROUP);
      let maxAbs = 0;
      for (let c = start; c < end; c++) maxAbs = Math.max(maxAbs, Math.abs(cast(values[r * cols + c])));
      const scale = cast(maxAbs / 7);
      scales[r * groupsPerRow + g] = scale;
      for (let c = start; c < end; c++) {
        const code = scale === 0 ? 7 : Math.min(14, Math.max(0, roundEven(cast(cast(cast(values[r * cols + c]) / scale) + 7))));
        codes[r * wordsPerRow + (c >>> 3)] |= code << ((c & 7) * 4);
      }
    }
  }
  return { codes, scales };
}

/** Float values as the bytes of a record of the model dtype (f16 bits, or f32). */
export function encodeFloats(values: Float32Array, dtype: ModelDtype): Uint16Array | Float32Array {
  return dtype === 'float16' ? Uint16Array.from(values, floatToHalf) : values;
}
