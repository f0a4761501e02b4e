/**
 * A weight matrix as a value that states its storage. Every loader (Hugging Face safetensors,
 * MLC tensor-cache) produces these, the GPU forward picks its kernel variant from `storage`, and
 * the CPU reference dequantizes the very same bytes, so it stays the oracle for every format.
 *
 *   f32   data (rows, cols) float32
 *   f16   data (rows, cols) IEEE half bits          } 16-bit, decoded in the kernel with
 *   bf16  data (rows, cols) bfloat16 bits           } unpack2x16float / a shift: no widening
 *   q4    MLC's q4f16_1 / q4f32_1 group quantization along cols (mlc-llm GroupQuantize, "NK"):
 *         codes  (rows, wordsPerRow) u32, eight 4-bit codes per word, least significant first
 *         scales (rows, groupsPerRow) f16 bits or f32
 *         w[r, c] = (code[r, c] - 7) * scale[r, c / groupSize]
 *         groupsPerRow = ceil(cols / groupSize), wordsPerRow = groupsPerRow * groupSize / 8: a
 *         row's last group is padded with zero codes past `cols`, as mlc-llm pads it.
 *
 * Vectors (norms, biases) are always f32: they are tiny, and widening them costs nothing.
 */
import { WeightsFormatError } from '../errors.ts';
import { gemvQ4Ref, gemvRef, gemvRowsRef, Q4_GROUP } from '../kernels/gemv.ref.ts';
import { bf16ToFloat, halfToFloat } from '../gpu/half.ts';

interface Shape {
  rows: number; // N, outputs
  cols: number; // K, inputs
  /** (rows) added to every output row (qwen2's q/k/v). */
  bias?: Float32Array;
}

export type Linear =
  | (Shape & { storage: 'f32'; data: Float32Array })
  | (Shape & { storage: 'f16' | 'bf16'; data: Uint16Array })
  | (Shape & {
      storage: 'q4';
      groupSize: number;
      scaleType: 'f16' | 'f32';
      codes: Uint32Array;
      scales: Uint16Array | Float32Array;
    });

export type LinearStorage = Linear['storage'];

/** The group size of q4f16_1 / q4f32_1; the kernels are written for it. */
export { Q4_GROUP };

export function q4Layout(cols: number, groupSize = Q4_GROUP): { groupsPerRow: number; wordsPerRow: number } {
  const groupsPerRow = Math.ceil(cols / groupSize);
  return { groupsPerRow, wordsPerRow: (groupsPerRow * groupSize) / 8 };
}

/** Checks that a Linear's arrays hold exactly its shape; throws WeightsFormatError naming it. */
export function checkLinear(name: string, w: Linear): Linear {
  const fail = (what: string) => {
    throw new WeightsFormatError(`${name}: ${what}`);
  };
  if (!(w.rows > 0 && w.cols > 0)) fail(`shape (${w.rows}, ${w.cols}) is empty`);
  if (w.bias && w.bias.length !== w.rows) fail(`bias has ${w.bias.length} values for ${w.rows} rows`);
  if (w.storage === 'q4') {
    if (w.groupSize !== Q4_GROUP) fail(`q4 group size ${w.groupSize} is not supported (only ${Q4_GROUP}, as in q4f16_1 / q4f32_1)`);
    const { groupsPerRow, wordsPerRow } = q4Layout(w.cols, w.groupSize);
    if (w.codes.length !== w.rows * wordsPerRow) fail(`q_weight has ${w.codes.length} words, (${w.rows}, ${w.cols}) needs ${w.rows * wordsPerRow}`);
    if (w.scales.length !== w.rows * groupsPerRow) fail(`q_scale has ${w.scales.length} values, (${w.rows}, ${w.cols}) needs ${w.rows * groupsPerRow}`);
    if ((w.scaleType === 'f16') !== w.scales instanceof Uint16Array) fail(`q_scale is not stored as ${w.scaleType}`);
  } else if (w.data.length !== w.rows * w.cols) {
    fail(`${w.data.length} values for shape (${w.rows}, ${w.cols})`);
  }
  return w;
}

/** Bytes the matrix occupies where it is stored (bias excluded). */
export function linearBytes(w: Linear): number {
  return w.storage === 'q4' ? w.codes.byteLength + w.scales.byteLength : w.data.byteLength;
}

/**
 * Rows [first, first + count) as float32, (count, cols), dequantized from the stored bytes.
 * The CPU reference reads every format through this.
 */
export function dequantizeRows(w: Linear, first: number, count: number, out = new Float32Array(count * w.cols)): Float32Array {
  const K = w.cols;
  switch (w.storage) {
    case 'f32':
      out.set(w.data.subarray(first * K, (first + count) * K));
      return out;
    case 'f16':
    case 'bf16': {
      const decode = w.storage === 'f16' ? halfToFloat : bf16ToFloat;
      const base = first * K;
      for (let i = 0; i < count * K; i++) out[i] = decode(w.data[base + i]);
      return out;
    }
    case 'q4': {
      const { groupsPerRow, wordsPerRow } = q4Layout(K, w.groupSize);
      const f16 = w.scaleType === 'f16';
      for (let r = 0; r < count; r++) {
        const row = first + r;
        const o = r * K;
        for (let g = 0; g < groupsPerRow; g++) {
          const si = row * groupsPerRow + g;
          const scale = f16 ? halfToFloat(w.scales[si]) : w.scales[si];
          const end = Math.min(K, (g + 1) * w.groupSize);
          for (let c = g * w.groupSize; c < end; c++) {
            const code = (w.codes[row * wordsPerRow + (c >>> 3)] >>> ((c & 7) * 4)) & 0xf;
            out[o + c] = (code - 7) * scale; // rounded to f32 on store, as the kernel's f32 product
          }
        }
      }
      return out;
    }
  }
}

/** Stacks Linears of one storage and width row-wise (q, k, v into qkv; gate and up into gate_up). */
export function concatRows(parts: Linear[]): Linear {
  const first = parts[0];
  if (parts.some((p) => p.storage !== first.storage || p.cols !== first.cols)) {
    throw new WeightsFormatError('tensors to be fused differ in storage or width');
  }
  const rows = parts.reduce((s, p) => s + p.rows, 0);
  const bias = first.bias ? concat(parts.map((p) => p.bias!), Float32Array) : undefined;
  if (first.storage === 'q4') {
    const q = parts as Extract<Linear, { storage: 'q4' }>[];
    const scales = first.scaleType === 'f16' ? concat(q.map((p) => p.scales as Uint16Array), Uint16Array) : concat(q.map((p) => p.scales as Float32Array), Float32Array);
    return { ...first, rows, bias, codes: concat(q.map((p) => p.codes), Uint32Array), scales };
  }
  if (first.storage === 'f32') {
    return { ...first, rows, bias, data: concat((parts as Extract<Linear, { storage: 'f32' }>[]).map((p) => p.data), Float32Array) };
  }
  return { ...first, rows, bias, data: concat((parts as Extract<Linear, { storage: 'f16' | 'bf16' }>[]).map((p) => p.data), Uint16Array) };
}

/**
 * The two halves of a Linear's rows interleaved: row 2i is row i, row 2i + 1 is row rows/2 + i.
 * The GPU keeps gate_up so (gemv.wgsl GATED): one workgroup reads a gate row and its up row
 * together, and any even row range holds whole pairs.
 */
export function interleaveHalves(w: Linear): Linear {
  if (w.rows % 2 !== 0) throw new WeightsFormatError(`cannot interleave the halves of ${w.rows} rows`);
  const half = w.rows / 2;
  const shuffle = <T extends Float32Array | Uint16Array | Uint32Array>(a: T, perRow: number): T => {
    const out = a.slice() as T;
    for (let i = 0; i < half; i++) {
      out.set(a.subarray(i * perRow, (i + 1) * perRow) as never, 2 * i * perRow);
      out.set(a.subarray((half + i) * perRow, (half + i + 1) * perRow) as never, (2 * i + 1) * perRow);
    }
    return out;
  };
  const bias = w.bias && shuffle(w.bias, 1);
  if (w.storage === 'q4') {
    const { groupsPerRow, wordsPerRow } = q4Layout(w.cols, w.groupSize);
    return { ...w, bias, codes: shuffle(w.codes, wordsPerRow), scales: shuffle(w.scales, groupsPerRow) };
  }
  if (w.storage === 'f32') return { ...w, bias, data: shuffle(w.data, w.cols) };
  return { ...w, bias, data: shuffle(w.data, w.cols) };
}

type TypedCtor<T> = { new (n: number): T };
function concat<T extends Float32Array | Uint16Array | Uint32Array>(arrays: T[], Ctor: TypedCtor<T>): T {
  const out = new Ctor(arrays.reduce((s, a) => s + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a as never, at);
    at += a.length;
  }
  return out;
}

/** Matrices up to this many elements are dequantized once and kept (the bundled model's all are). */
const KEEP_DEQUANTIZED = 1 << 24;
const dequantized = new WeakMap<Linear, Float32Array>();
const decodedScales = new WeakMap<Linear, Float32Array>(); // f16 q4 scales as f32, for gemvQ4Ref

/** x · Wᵀ (+ bias) in f64 over the Linear's stored bytes: the CPU reference's every matmul. */
export function linearRef(x: ArrayLike<number>, w: Linear, rows: number, out?: Float64Array, accumulate = false): Float64Array {
  if (w.storage === 'f32') return gemvRef(x, w.data, w.bias, rows, w.rows, w.cols, out, accumulate);
  if (w.rows * w.cols <= KEEP_DEQUANTIZED) return gemvRef(x, linearValues(w), w.bias, rows, w.rows, w.cols, out, accumulate);
  if (w.storage === 'q4') {
    let scales = w.scaleType === 'f32' ? (w.scales as Float32Array) : decodedScales.get(w);
    if (!scales) decodedScales.set(w, (scales = Float32Array.from(w.scales, halfToFloat)));
    return gemvQ4Ref(x instanceof Float64Array ? x : Float64Array.from(x), w.codes, scales, w.bias, rows, w.rows, w.cols, out, accumulate);
  }
  return gemvRowsRef(x, (first, count) => dequantizeRows(w, first, count), w.bias, rows, w.rows, w.cols, out, accumulate);
}

/** Row `row` of a Linear as f32 (an embedding lookup). */
export function linearRow(w: Linear, row: number): Float32Array {
  const full = w.storage === 'f32' ? w.data : dequantized.get(w);
  if (full) return full.subarray(row * w.cols, (row + 1) * w.cols);
  return dequantizeRows(w, row, 1);
}

/** The whole matrix as f32 (rows, cols): kept for small matrices, decoded afresh for large ones. */
export function linearValues(w: Linear): Float32Array {
  if (w.storage === 'f32') return w.data;
  let full = dequantized.get(w);
  if (!full) {
    full = dequantizeRows(w, 0, w.rows);
    if (w.rows * w.cols <= KEEP_DEQUANTIZED) dequantized.set(w, full);
  }
  return full;
}
