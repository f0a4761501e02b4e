/**
 * The safetensors container: an 8-byte little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}}, then the raw little-endian data.
 * Everything is checked against the file's real size before any tensor is read.
 */
import { WeightsFormatError } from '../errors.ts';
import { bf16ToFloat, floatToBf16, floatToHalf, halfToFloat } from '../gpu/half.ts';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';
const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number; // byte offset into the file
  end: number;
}

export interface SafetensorsFile {
  bytes: ArrayBuffer;
  tensors: Map<string, TensorInfo>;
}

export function parseSafetensors(bytes: ArrayBuffer): SafetensorsFile {
  if (bytes.byteLength < 8) throw new WeightsFormatError(`the file has only ${bytes.byteLength} bytes`);
  const headerLength = Number(new DataView(bytes).getBigUint64(0, true));
  if (8 + headerLength > bytes.byteLength) {
    throw new WeightsFormatError(`its header claims ${headerLength} bytes but the file has ${bytes.byteLength}`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(bytes, 8, headerLength)));
  } catch {
    throw new WeightsFormatError('its header is not valid JSON');
  }
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, TensorInfo>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const t = raw as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') {
      throw new WeightsFormatError(`tensor ${name} has dtype ${t.dtype}; only F32, F16 and BF16 are supported`);
    }
    const shape = t.shape ?? [];
    const [b, e] = t.data_offsets ?? [NaN, NaN];
    const expectedBytes = shape.reduce((a, d) => a * d, 1) * DTYPE_BYTES[t.dtype];
    if (!(e - b === expectedBytes)) {
      throw new WeightsFormatError(`tensor ${name} spans ${e - b} bytes but shape [${shape}] ${t.dtype} needs ${expectedBytes}`);
    }
    if (dataStart + e > bytes.byteLength) {
      throw new WeightsFormatError(
        `tensor ${name} ends at byte ${dataStart + e} but the file has ${bytes.byteLength} (truncated download?)`,
      );
    }
    tensors.set(name, { name, dtype: t.dtype, shape, begin: dataStart + b, end: dataStart + e });
  }
  return { bytes, tensors };
}

/** The tensor's values as float32 (F16 and BF16 are widened exactly). */
export function readTensorF32(file: SafetensorsFile, info: TensorInfo): Float32Array {
  const count = (info.end - info.begin) / DTYPE_BYTES[info.dtype];
  if (info.dtype === 'F32') {
    // Copy: the offset into the file need not be 4-byte aligned.
    return new Float32Array(file.bytes.slice(info.begin, info.end));
  }
  const halves = readTensorBits16(file, info);
  const out = new Float32Array(count);
  const decode = info.dtype === 'BF16' ? bf16ToFloat : halfToFloat;
  for (let i = 0; i < count; i++) out[i] = decode(halves[i]);
  return out;
}

/** An F16 or BF16 tensor's raw 16-bit patterns, unwidened (they go to the GPU as they are). */
export function readTensorBits16(file: SafetensorsFile, info: TensorInfo): Uint16Array {
  if (info.dtype === 'F32') throw new WeightsFormatError(`tensor ${info.name} is F32, not 16-bit`);
  return new Uint16Array(file.bytes.slice(info.begin, info.end)); // a copy: offsets need not be 2-byte aligned
}

/** Writes tensors as a safetensors file (scripts that make test models; F16/BF16 are rounded). */
export function writeSafetensors(
  tensors: { name: string; shape: number[]; data: Float32Array }[],
  dtype: SafetensorsDtype = 'F32',
): Uint8Array {
  const size = DTYPE_BYTES[dtype];
  const encoded = tensors.map((t) => {
    if (dtype === 'F32') return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const halves = new Uint16Array(t.data.length);
    for (let i = 0; i < t.data.length; i++) halves[i] = dtype === 'F16' ? floatToHalf(t.data[i]) : floatToBf16(t.data[i]);
    return new Uint8Array(halves.buffer);
  });
  const header: Record<string, unknown> = {};
  let offset = 0;
  tensors.forEach((t, i) => {
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length * size] };
    offset += encoded[i].length;
  });
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const e of encoded) {
    out.set(e, at);
    at += e.length;
  }
  return out;
}
