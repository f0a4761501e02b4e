/**
 * MLC's tensor cache (tvmjs dump_tensor_cache): `tensor-cache.json` (older name
 * `ndarray-cache.json`) lists shards `params_shard_*.bin`, each holding raw records:
 *   { records: [{ dataPath, format: "raw-shard", nbytes, md5sum?, records: [
 *       { name, shape, dtype, format: "raw" | "f32-to-bf16", nbytes, byteOffset }] }] }
 * A record of dtype float32 with format "f32-to-bf16" holds bfloat16 (the upper 16 bits; the
 * default of mlc-llm's convert_weight); every other record holds its dtype's bytes as they are.
 * Every count is checked here, and every shard against its size and md5, before anything is used.
 */
import SparkMD5 from 'spark-md5';
import { ShardChecksumError, ShardSizeError, TensorCacheFormatError, TensorRecordError } from '../errors.ts';

export type MlcDtype = 'float32' | 'float16' | 'bfloat16' | 'uint32' | 'int32';
const DTYPE_BYTES: Record<MlcDtype, number> = { float32: 4, float16: 2, bfloat16: 2, uint32: 4, int32: 4 };

export interface TensorRecord {
  name: string;
  shape: number[];
  dtype: MlcDtype;
  /** float32 stored as bfloat16 bits. */
  bf16Packed: boolean;
  shard: number; // index into shards
  byteOffset: number;
  nbytes: number;
}

export interface ShardInfo {
  dataPath: string;
  nbytes: number;
  md5sum?: string;
}

export interface TensorCache {
  shards: ShardInfo[];
  records: Map<string, TensorRecord>;
  metadata: Record<string, unknown>;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function parseTensorCache(json: unknown): TensorCache {
  const top = json as { records?: unknown; metadata?: unknown };
  if (!top || !Array.isArray(top.records)) throw new TensorCacheFormatError('it has no "records" list of shards');
  const shards: ShardInfo[] = [];
  const records = new Map<string, TensorRecord>();
  top.records.forEach((raw, s) => {
    const shard = raw as { dataPath?: unknown; format?: unknown; nbytes?: unknown; md5sum?: unknown; records?: unknown };
    if (typeof shard.dataPath !== 'string' || !/^[\w.-]+$/.test(shard.dataPath)) {
      throw new TensorCacheFormatError(`shard ${s} has no plain file name in "dataPath"`);
    }
    if (shard.format !== undefined && shard.format !== 'raw-shard') {
      throw new TensorCacheFormatError(`shard ${shard.dataPath} has format "${String(shard.format)}"; only "raw-shard" is read`);
    }
    if (!isCount(shard.nbytes)) throw new TensorCacheFormatError(`shard ${shard.dataPath} has no byte count`);
    if (!Array.isArray(shard.records)) throw new TensorCacheFormatError(`shard ${shard.dataPath} has no records`);
    const md5sum = typeof shard.md5sum === 'string' ? shard.md5sum : undefined;
    shards.push({ dataPath: shard.dataPath, nbytes: shard.nbytes, md5sum });
    for (const r of shard.records as Record<string, unknown>[]) {
      const name = typeof r.name === 'string' ? r.name : `(record ${records.size})`;
      const shape = r.shape;
      const dtype = r.dtype as MlcDtype;
      if (!Array.isArray(shape) || !shape.every(isCount)) throw new TensorRecordError(name, 'its shape is not a list of sizes');
      if (!(dtype in DTYPE_BYTES)) throw new TensorRecordError(name, `dtype "${String(r.dtype)}" is not one Crystal reads`);
      if (!isCount(r.byteOffset) || !isCount(r.nbytes)) throw new TensorRecordError(name, 'byteOffset or nbytes is missing');
      const bf16Packed = r.format === 'f32-to-bf16' && dtype === 'float32';
      const elements = (shape as number[]).reduce((a, d) => a * d, 1);
      const expected = elements * (bf16Packed ? 2 : DTYPE_BYTES[dtype]);
      if (r.nbytes !== expected) {
        throw new TensorRecordError(name, `${r.nbytes} bytes recorded, but shape [${shape}] ${dtype}${bf16Packed ? ' (as bf16)' : ''} needs ${expected}`);
      }
      if (r.byteOffset + r.nbytes > shard.nbytes) {
        throw new TensorRecordError(name, `bytes ${r.byteOffset}..${r.byteOffset + r.nbytes} lie past the end of ${shard.dataPath} (${shard.nbytes} bytes)`);
      }
      if (records.has(name)) throw new TensorRecordError(name, 'it is recorded twice');
      records.set(name, { name, shape: shape as number[], dtype, bf16Packed, shard: s, byteOffset: r.byteOffset, nbytes: r.nbytes });
    }
  });
  const metadata = top.metadata && typeof top.metadata === 'object' ? (top.metadata as Record<string, unknown>) : {};
  return { shards, records, metadata };
}

/** Throws ShardSizeError or ShardChecksumError unless `bytes` is exactly the shard recorded. */
export function checkShard(shard: ShardInfo, bytes: ArrayBuffer): void {
  if (bytes.byteLength !== shard.nbytes) throw new ShardSizeError(shard.dataPath, shard.nbytes, bytes.byteLength);
  if (shard.md5sum) {
    const actual = SparkMD5.ArrayBuffer.hash(bytes);
    if (actual !== shard.md5sum) throw new ShardChecksumError(shard.dataPath, shard.md5sum, actual);
  }
}

/** md5 of bytes as tvmjs writes it in md5sum (hex). */
export const md5Hex = (bytes: ArrayBuffer): string => SparkMD5.ArrayBuffer.hash(bytes);

/** A record's bytes, copied so typed views are aligned whatever the offset. */
export function recordBytes(shards: ArrayBuffer[], r: TensorRecord): ArrayBuffer {
  return shards[r.shard].slice(r.byteOffset, r.byteOffset + r.nbytes);
}
