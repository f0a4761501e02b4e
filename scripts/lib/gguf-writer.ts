/**
 * Writes GGUF v3, llama.cpp's model container (ggml docs/gguf.md), for the peer benchmark
 * (scripts/make-gguf.ts): the header (magic "GGUF", version 3, tensor count, KV count as u64),
 * the metadata KVs, the tensor infos (name, dims in ggml order, ggml type, offset into the data
 * section), then the data section, which starts at the header padded to `general.alignment` (32)
 * and holds each tensor at an offset that is a multiple of it. Little-endian throughout; strings
 * are a u64 byte length and UTF-8 without a terminator. Also the Q4_0 block (ggml-common.h
 * block_q4_0): an f16 scale d, then 16 bytes whose low nibbles are elements 0..15 and high nibbles
 * elements 16..31, each stored as q = round(x / d) + 8, read back as (q − 8) · d.
 * No Node imports: the tests build files in memory, make-gguf.ts puts them on disk.
 */
import { floatToHalf } from '../../src/gpu/half.ts';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_ALIGNMENT = 32;

/** GGUF metadata value types (gguf_type). */
export const GGUF_TYPE = {
  uint8: 0, int8: 1, uint16: 2, int16: 3, uint32: 4, int32: 5, float32: 6, bool: 7, string: 8, array: 9, uint64: 10, int64: 11, float64: 12,
} as const;
export type GgufScalarType = Exclude<keyof typeof GGUF_TYPE, 'array'>;
type Scalar = number | bigint | boolean | string;

export type GgufKv =
  | { key: string; type: GgufScalarType; value: Scalar }
  | { key: string; type: 'array'; itemType: GgufScalarType; value: readonly Scalar[] };

export const kv = (key: string, type: GgufScalarType, value: Scalar): GgufKv => ({ key, type, value });
export const kvArray = (key: string, itemType: GgufScalarType, value: readonly Scalar[]): GgufKv => ({ key, type: 'array', itemType, value });

/** The ggml tensor types this writer stores: id, elements per block, bytes per block. */
export const GGML_TYPES = {
  F32: { id: 0, block: 1, bytes: 4 },
  F16: { id: 1, block: 1, bytes: 2 },
  Q4_0: { id: 2, block: 32, bytes: 18 },
} as const;
export type GgmlTypeName = keyof typeof GGML_TYPES;

/** A tensor as GGUF stores it. dims are ggml's ne: dims[0] is the contiguous one (a PyTorch [N, K] weight is [K, N]). */
export interface GgufTensor {
  name: string;
  dims: readonly number[];
  type: GgmlTypeName;
  data: Uint8Array; // (prod(dims) / block) blocks of `bytes`
}

export function tensorBytes(dims: readonly number[], type: GgmlTypeName): number {
  const t = GGML_TYPES[type];
  if (dims[0] % t.block !== 0) throw new Error(`${type} needs the first dimension to be a multiple of ${t.block}, got [${dims}]`);
  return (dims.reduce((a, d) => a * d, 1) / t.block) * t.bytes;
}

const pad = (n: number, align: number) => Math.ceil(n / align) * align;

/** Little-endian bytes into a buffer that grows. */
class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private readonly utf8 = new TextEncoder();

  private room(n: number) {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number) { this.room(1); this.view.setUint8(this.length, v); this.length += 1; }
  i8(v: number) { this.room(1); this.view.setInt8(this.length, v); this.length += 1; }
  u16(v: number) { this.room(2); this.view.setUint16(this.length, v, true); this.length += 2; }
  i16(v: number) { this.room(2); this.view.setInt16(this.length, v, true); this.length += 2; }
  u32(v: number) { this.room(4); this.view.setUint32(this.length, v, true); this.length += 4; }
  i32(v: number) { this.room(4); this.view.setInt32(this.length, v, true); this.length += 4; }
  f32(v: number) { this.room(4); this.view.setFloat32(this.length, v, true); this.length += 4; }
  f64(v: number) { this.room(8); this.view.setFloat64(this.length, v, true); this.length += 8; }
  u64(v: number | bigint) { this.room(8); this.view.setBigUint64(this.length, BigInt(v), true); this.length += 8; }
  i64(v: number | bigint) { this.room(8); this.view.setBigInt64(this.length, BigInt(v), true); this.length += 8; }
  str(s: string) {
    const bytes = this.utf8.encode(s);
    this.u64(bytes.length);
    this.room(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
  zeros(n: number) { this.room(n); this.buf.fill(0, this.length, this.length + n); this.length += n; }
  bytes(): Uint8Array { return this.buf.slice(0, this.length); }
}

function writeScalar(w: ByteWriter, type: GgufScalarType, v: Scalar, key: string) {
  const num = () => {
    if (typeof v !== 'number' && typeof v !== 'bigint') throw new Error(`${key}: ${type} needs a number, got ${typeof v}`);
    return v;
  };
  switch (type) {
    case 'uint8': return w.u8(Number(num()));
    case 'int8': return w.i8(Number(num()));
    case 'uint16': return w.u16(Number(num()));
    case 'int16': return w.i16(Number(num()));
    case 'uint32': return w.u32(Number(num()));
    case 'int32': return w.i32(Number(num()));
    case 'float32': return w.f32(Number(num()));
    case 'float64': return w.f64(Number(num()));
    case 'uint64': return w.u64(num());
    case 'int64': return w.i64(num());
    case 'bool': return w.u8(v ? 1 : 0);
    case 'string':
      if (typeof v !== 'string') throw new Error(`${key}: string needs a string, got ${typeof v}`);
      return w.str(v);
  }
}

export interface GgufLayout {
  /** Everything before the data section, padded to the alignment. */
  header: Uint8Array;
  /** Each tensor's offset from the start of the data section (multiples of the alignment). */
  offsets: number[];
  /** The whole file's length. */
  fileBytes: number;
}

/** The header and where each tensor's data goes; the data itself is the caller's (ggufParts). */
export function ggufLayout(kvs: readonly GgufKv[], tensors: readonly Omit<GgufTensor, 'data'>[], alignment = GGUF_ALIGNMENT): GgufLayout {
  const keys = new Set<string>();
  for (const { key } of kvs) {
    if (keys.has(key)) throw new Error(`GGUF key ${key} is written twice`);
    keys.add(key);
  }
  const declared = kvs.find((k) => k.key === 'general.alignment');
  if (declared && declared.value !== alignment) throw new Error(`general.alignment says ${String(declared.value)} but the layout uses ${alignment}`);
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(tensors.length);
  w.u64(kvs.length);
  for (const k of kvs) {
    w.str(k.key);
    w.u32(GGUF_TYPE[k.type]);
    if (k.type === 'array') {
      w.u32(GGUF_TYPE[k.itemType]);
      w.u64(k.value.length);
      for (const v of k.value) writeScalar(w, k.itemType, v, k.key);
    } else {
      writeScalar(w, k.type, k.value, k.key);
    }
  }
  const offsets: number[] = [];
  let at = 0;
  for (const t of tensors) {
    if (t.dims.length < 1 || t.dims.length > 4) throw new Error(`${t.name}: GGUF tensors have 1 to 4 dims, got [${t.dims}]`);
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(GGML_TYPES[t.type].id);
    w.u64(at);
    offsets.push(at);
    at = pad(at + tensorBytes(t.dims, t.type), alignment);
  }
  w.zeros(pad(w.length, alignment) - w.length);
  const header = w.bytes();
  return { header, offsets, fileBytes: header.length + at };
}

/** The file as consecutive parts (header, each tensor's bytes, padding): write them in order, or concatenate. */
export function ggufParts(kvs: readonly GgufKv[], tensors: readonly GgufTensor[], alignment = GGUF_ALIGNMENT): Uint8Array[] {
  const layout = ggufLayout(kvs, tensors, alignment);
  const parts = [layout.header];
  let at = 0;
  tensors.forEach((t, i) => {
    const want = tensorBytes(t.dims, t.type);
    if (t.data.length !== want) throw new Error(`${t.name}: ${t.type} [${t.dims}] is ${want} bytes, got ${t.data.length}`);
    if (layout.offsets[i] !== at) throw new Error(`${t.name}: layout offset ${layout.offsets[i]}, writing at ${at}`);
    parts.push(t.data);
    const padding = pad(want, alignment) - want;
    if (padding) parts.push(new Uint8Array(padding));
    at += want + padding;
  });
  return parts;
}

export function concatParts(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Q4_0 as llama.cpp's reference quantizer does it (quantize_row_q4_0_ref): per 32 values, the
 * value of largest magnitude m (with its sign) gives d = m / −8; q = min(15, trunc(x / d + 8.5)).
 */
export function quantizeQ4_0(x: Float32Array): Uint8Array {
  if (x.length % 32 !== 0) throw new Error(`Q4_0 quantizes whole blocks of 32 values, got ${x.length}`);
  const out = new Uint8Array((x.length / 32) * 18);
  const view = new DataView(out.buffer);
  const q = new Uint8Array(32);
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = x[b * 32 + j];
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = max / -8;
    const id = d ? 1 / d : 0;
    // f32 arithmetic as in C: x·id + 8.5, truncated toward zero into an int8, clamped to 15.
    for (let j = 0; j < 32; j++) q[j] = Math.min(15, Math.trunc(Math.fround(Math.fround(x[b * 32 + j] * Math.fround(id)) + 8.5)));
    writeQ4_0Block(out, view, b, floatToHalf(d), q);
  }
  return out;
}

/** Block `b` of a Q4_0 buffer from its f16 scale bits and 32 codes 0..15: byte j holds element j (low nibble) and element j + 16 (high). */
export function writeQ4_0Block(out: Uint8Array, view: DataView, b: number, scaleHalf: number, q: ArrayLike<number>): void {
  const at = b * 18;
  view.setUint16(at, scaleHalf, true);
  for (let j = 0; j < 16; j++) out[at + 2 + j] = (q[j] & 15) | ((q[j + 16] & 15) << 4);
}

/**
 * Rows [row0, row0 + rows) of an MLC q4f16_1 matrix as Q4_0, the same weights bit for bit. MLC:
 * `codes` uint32 (N, K/8), eight 4-bit codes per word, least significant first, w = (c − 7)·s with
 * `scales` f16 (N, K/32); Q4_0 with q = c + 1 and d = s gives (q − 8)·d, the same w.
 */
export function q4_0FromMlc(codes: Uint32Array, scales: Uint16Array, K: number, row0: number, rows: number): Uint8Array {
  if (K % 32 !== 0) throw new Error(`Q4_0 needs rows of whole 32-value groups, got K = ${K}`);
  const words = K / 8;
  const blocksPerRow = K / 32;
  if ((row0 + rows) * words > codes.length) throw new Error(`rows ${row0}..${row0 + rows} are past the ${codes.length / words} rows of the matrix`);
  const data = new Uint8Array(rows * blocksPerRow * 18);
  const view = new DataView(data.buffer);
  const q = new Uint8Array(32);
  for (let r = 0; r < rows; r++) {
    const row = row0 + r;
    for (let b = 0; b < blocksPerRow; b++) {
      for (let w = 0; w < 4; w++) {
        const word = codes[row * words + b * 4 + w];
        for (let c = 0; c < 8; c++) q[w * 8 + c] = ((word >>> (c * 4)) & 15) + 1;
      }
      writeQ4_0Block(data, view, r * blocksPerRow + b, scales[row * blocksPerRow + b], q);
    }
  }
  return data;
}
