/** Random Linears in every storage, for the kernels' format tests: the bytes are what is random. */
import { floatToBf16, floatToHalf } from '../../src/gpu/half.ts';
import { q4Layout, Q4_GROUP, type Linear, type LinearStorage } from '../../src/model/linear.ts';
import { randomArray, seededRandom } from './close.ts';

export type TestFormat = Exclude<LinearStorage, 'q4'> | 'q4f16' | 'q4f32';
export const TEST_FORMATS: TestFormat[] = ['f32', 'f16', 'bf16', 'q4f16', 'q4f32'];

/** A (rows, cols) Linear of |w| up to about `scale`; q4 codes cover all 16 values, 15 included. */
export function randomLinear(format: TestFormat, rows: number, cols: number, seed: number, scale = 0.5, bias = false): Linear {
  const b = bias ? randomArray(rows, seed + 99) : undefined;
  if (format === 'f32') return { storage: 'f32', rows, cols, bias: b, data: randomArray(rows * cols, seed, scale) };
  if (format === 'f16' || format === 'bf16') {
    const values = randomArray(rows * cols, seed, scale);
    const encode = format === 'f16' ? floatToHalf : floatToBf16;
    return { storage: format, rows, cols, bias: b, data: Uint16Array.from(values, encode) };
  }
  const { groupsPerRow, wordsPerRow } = q4Layout(cols);
  const rand = seededRandom(seed);
  const codes = new Uint32Array(rows * wordsPerRow);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const code = Math.floor(rand() * 16);
      codes[r * wordsPerRow + (c >>> 3)] |= code << ((c & 7) * 4);
    }
  }
  const scaleValues = Float32Array.from({ length: rows * groupsPerRow }, () => (0.2 + rand()) * (scale / 8));
  const scales = format === 'q4f16' ? Uint16Array.from(scaleValues, floatToHalf) : scaleValues;
  return { storage: 'q4', rows, cols, bias: b, groupSize: Q4_GROUP, scaleType: format === 'q4f16' ? 'f16' : 'f32', codes, scales };
}
