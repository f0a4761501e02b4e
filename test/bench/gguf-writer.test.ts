/**
 * scripts/lib/gguf-writer.ts against the GGUF v3 layout (ggml docs/gguf.md), read back by a small
 * reader written here from the spec, and the Q4_0 block (ggml-common.h block_q4_0) from inputs
 * worked by hand.
 */
import { describe, expect, test } from 'vitest';
import { concatParts, ggufLayout, ggufParts, kv, kvArray, q4_0FromMlc, quantizeQ4_0, type GgufKv, type GgufTensor } from '../../scripts/lib/gguf-writer.ts';
import { floatToHalf, halfToFloat } from '../../src/gpu/half.ts';

/** An independent GGUF reader: header, KVs, tensor infos, data offset; nothing shared with the writer. */
function readGguf(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const u32 = () => ((at += 4), view.getUint32(at - 4, true));
  const u64 = () => ((at += 8), Number(view.getBigUint64(at - 8, true)));
  const str = () => {
    const len = u64();
    at += len;
    return new TextDecoder().decode(bytes.subarray(at - len, at));
  };
  const value = (type: number): unknown => {
    switch (type) {
      case 0: return view.getUint8((at += 1) - 1);
      case 1: return view.getInt8((at += 1) - 1);
      case 4: return u32();
      case 5: return view.getInt32((at += 4) - 4, true);
      case 6: return view.getFloat32((at += 4) - 4, true);
      case 7: return view.getUint8((at += 1) - 1) === 1;
      case 8: return str();
      case 9: {
        const item = u32();
        const n = u64();
        return Array.from({ length: n }, () => value(item));
      }
      case 10: return u64();
      default: throw new Error(`reader: value type ${type} not handled`);
    }
  };
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  at = 4;
  const version = u32();
  const tensorCount = u64();
  const kvCount = u64();
  const kvs = new Map<string, { type: number; value: unknown }>();
  for (let i = 0; i < kvCount; i++) {
    const key = str();
    const type = u32();
    kvs.set(key, { type, value: value(type) });
  }
  const tensors = Array.from({ length: tensorCount }, () => {
    const name = str();
    const nDims = u32();
    const dims = Array.from({ length: nDims }, u64);
    return { name, dims, type: u32(), offset: u64() };
  });
  const alignment = (kvs.get('general.alignment')?.value as number | undefined) ?? 32;
  const dataStart = Math.ceil(at / alignment) * alignment;
  return { magic, version, tensorCount, kvCount, kvs, tensors, infoEnd: at, dataStart };
}

const f32Bytes = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

describe('GGUF container', () => {
  const q4Input = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 0.7) * (1 + i / 10));
  const tensors: GgufTensor[] = [
    { name: 'norm.weight', dims: [5], type: 'F32', data: f32Bytes([1, 2, 3, 4, 5]) }, // 20 bytes: padded to 32
    { name: 'blk.0.w.weight', dims: [32, 2], type: 'Q4_0', data: quantizeQ4_0(q4Input) },
    { name: 'half', dims: [3], type: 'F16', data: new Uint8Array(new Uint16Array([floatToHalf(1), floatToHalf(-2), floatToHalf(0.5)]).buffer) },
  ];
  const kvs: GgufKv[] = [
    kv('general.architecture', 'string', 'qwen3'),
    kv('general.alignment', 'uint32', 32),
    kv('qwen3.block_count', 'uint32', 1),
    kv('qwen3.rope.freq_base', 'float32', 1e6),
    kv('tokenizer.ggml.add_bos_token', 'bool', false),
    kvArray('tokenizer.ggml.tokens', 'string', ['a', 'Ġb', '<|im_end|>', 'ü']),
    kvArray('tokenizer.ggml.token_type', 'int32', [1, 1, 3, 1]),
  ];
  const file = concatParts(ggufParts(kvs, tensors));
  const parsed = readGguf(file);

  test('header: magic, version 3, tensor and KV counts', () => {
    expect(Array.from(file.subarray(0, 4))).toEqual([0x47, 0x47, 0x55, 0x46]); // "GGUF"
    expect(parsed.magic).toBe('GGUF');
    expect(parsed.version).toBe(3);
    expect(parsed.tensorCount).toBe(3);
    expect(parsed.kvCount).toBe(kvs.length);
    // The counts are u64: bytes 12..15 and 20..23 are the high words.
    expect(new DataView(file.buffer).getUint32(12, true)).toBe(0);
    expect(new DataView(file.buffer).getUint32(20, true)).toBe(0);
  });

  test('metadata KVs read back with their types', () => {
    const v = (k: string) => parsed.kvs.get(k)!;
    expect(v('general.architecture')).toEqual({ type: 8, value: 'qwen3' });
    expect(v('qwen3.block_count')).toEqual({ type: 4, value: 1 });
    expect(v('qwen3.rope.freq_base')).toEqual({ type: 6, value: 1e6 });
    expect(v('tokenizer.ggml.add_bos_token')).toEqual({ type: 7, value: false });
    expect(v('tokenizer.ggml.tokens')).toEqual({ type: 9, value: ['a', 'Ġb', '<|im_end|>', 'ü'] });
    expect(v('tokenizer.ggml.token_type')).toEqual({ type: 9, value: [1, 1, 3, 1] });
  });

  test('tensor infos, offsets aligned to 32, data where the offsets say', () => {
    expect(parsed.tensors.map((t) => [t.name, t.dims, t.type])).toEqual([
      ['norm.weight', [5], 0],
      ['blk.0.w.weight', [32, 2], 2],
      ['half', [3], 1],
    ]);
    expect(parsed.tensors.map((t) => t.offset)).toEqual([0, 32, 96]); // 20 → 32; 2 blocks × 18 = 36 → 64 more
    expect(parsed.dataStart % 32).toBe(0);
    expect(file.subarray(parsed.infoEnd, parsed.dataStart).every((b) => b === 0)).toBe(true);
    for (const [i, t] of parsed.tensors.entries()) {
      expect(t.offset % 32).toBe(0);
      const at = parsed.dataStart + t.offset;
      expect(Array.from(file.subarray(at, at + tensors[i].data.length))).toEqual(Array.from(tensors[i].data));
    }
    expect(file.length).toBe(parsed.dataStart + 128); // the last tensor padded too
    expect(ggufLayout(kvs, tensors).fileBytes).toBe(file.length);
  });

  test('a wrong data size, a duplicate key or a contradicting alignment is refused', () => {
    expect(() => ggufParts(kvs, [{ ...tensors[0], data: new Uint8Array(16) }])).toThrow(/20 bytes, got 16/);
    expect(() => ggufLayout([...kvs, kv('qwen3.block_count', 'uint32', 2)], [])).toThrow(/twice/);
    expect(() => ggufLayout(kvs, [], 64)).toThrow(/alignment/);
    expect(() => ggufLayout([], [{ name: 'x', dims: [20], type: 'Q4_0' }])).toThrow(/multiple of 32/);
  });
});

describe('Q4_0 blocks', () => {
  test('x = j − 16: d = 2 (max magnitude −16 over −8), codes trunc(j/2 + 0.5) clamped to 15', () => {
    const block = quantizeQ4_0(Float32Array.from({ length: 32 }, (_, j) => j - 16));
    // d as f16 2.0 = 0x4000, little-endian; byte j = q[j] | q[j + 16] << 4.
    expect(Array.from(block)).toEqual([
      0x00, 0x40, 0x80, 0x91, 0x91, 0xa2, 0xa2, 0xb3, 0xb3, 0xc4, 0xc4, 0xd5, 0xd5, 0xe6, 0xe6, 0xf7, 0xf7, 0xf8,
    ]);
  });

  test('an all-zero block: d = 0 / −8 = −0 (f16 0x8000, as C computes it) and every code 8', () => {
    expect(Array.from(quantizeQ4_0(new Float32Array(32)))).toEqual([0x00, 0x80, ...new Array(16).fill(0x88)]);
  });

  test('dequantized (q − 8)·d is within |d| of the input; the largest magnitude is exact', () => {
    const x = Float32Array.from({ length: 96 }, (_, i) => Math.sin(i * 1.3) * 3 + (i % 5) * 0.1);
    const q = quantizeQ4_0(x);
    const view = new DataView(q.buffer);
    for (let b = 0; b < 3; b++) {
      const d = halfToFloat(view.getUint16(b * 18, true));
      for (let j = 0; j < 32; j++) {
        const byte = q[b * 18 + 2 + (j % 16)];
        const code = j < 16 ? byte & 15 : byte >> 4;
        expect(Math.abs((code - 8) * d - x[b * 32 + j])).toBeLessThanOrEqual(Math.abs(d) * 1.001);
      }
    }
  });

  test('an MLC q4f16_1 matrix repacks to Q4_0 with the same weights', () => {
    // 3 rows × 64 inputs: 8 words and 2 scales per row; codes 0..14 as real-shapes.ts writes them.
    const K = 64;
    const codes = Uint32Array.from({ length: 3 * (K / 8) }, (_, i) => {
      let w = 0;
      for (let c = 0; c < 8; c++) w |= ((i * 7 + c * 3) % 15) << (c * 4);
      return w >>> 0;
    });
    const scales = Uint16Array.from({ length: 3 * (K / 32) }, (_, i) => floatToHalf(0.01 * (i + 1)));
    const mlcWeight = (row: number, k: number) => (((codes[row * 8 + (k >> 3)] >>> ((k & 7) * 4)) & 15) - 7) * halfToFloat(scales[row * 2 + (k >> 5)]);
    const q = q4_0FromMlc(codes, scales, K, 1, 2); // rows 1 and 2
    const view = new DataView(q.buffer);
    for (let r = 0; r < 2; r++) {
      for (let k = 0; k < K; k++) {
        const block = r * 2 + (k >> 5);
        const j = k & 31;
        const byte = q[block * 18 + 2 + (j % 16)];
        const code = j < 16 ? byte & 15 : byte >> 4;
        expect((code - 8) * halfToFloat(view.getUint16(block * 18, true))).toBe(mlcWeight(1 + r, k));
      }
    }
    expect(() => q4_0FromMlc(codes, scales, K, 2, 2)).toThrow(/past the 3 rows/);
  });
});
