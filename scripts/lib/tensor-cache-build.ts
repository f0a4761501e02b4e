/**
 * Writes a tvmjs tensor cache as mlc-llm's convert_weight does (tvm.contrib.tvmjs
 * dump_tensor_cache): records appended in order into shards of at most `shardCapMb` MiB; a record
 * that would overflow the current shard closes it, and a record of half the cap or more gets a
 * shard of its own; each shard carries its md5; float32 records are stored as bfloat16 under
 * encode format "f32-to-bf16" (mlc-llm's default) or as they are under "raw". Every record
 * carries the dump's encode format as its `format`, as tvmjs writes it. No Node imports: tests
 * build caches in the browser too (tensor-cache-writer.ts puts one on disk).
 */
import { floatToBf16 } from '../../src/gpu/half.ts';
import { md5Hex } from '../../src/model/tensor-cache.ts';
import type { MlcDtype } from '../../src/model/tensor-cache.ts';

export type EncodeFormat = 'f32-to-bf16' | 'raw';

export interface TensorToWrite {
  name: string;
  shape: number[];
  dtype: MlcDtype;
  data: Float32Array | Uint16Array | Uint32Array;
}

interface RecordJson {
  name: string;
  shape: number[];
  dtype: string;
  format: EncodeFormat;
  nbytes: number;
  byteOffset: number;
}

export interface BuiltTensorCache {
  /** tensor-cache.json's text. */
  manifest: string;
  /** params_shard_*.bin, in order. */
  shards: { dataPath: string; bytes: Uint8Array }[];
}

/** The tensor cache in memory (tests serve it from there; writeTensorCache puts it on disk). */
export function buildTensorCache(tensors: Iterable<TensorToWrite>, encode: EncodeFormat, shardCapMb = 32): BuiltTensorCache {
  const cap = shardCapMb * (1 << 20);
  const files: { dataPath: string; bytes: Uint8Array }[] = [];
  const shards: { dataPath: string; format: 'raw-shard'; nbytes: number; records: RecordJson[]; md5sum: string }[] = [];
  let pending: Uint8Array[] = [];
  let pendingRecords: RecordJson[] = [];
  let pendingBytes = 0;
  let params = 0;
  let paramBytes = 0;
  const commit = (parts: Uint8Array[], records: RecordJson[]) => {
    const total = parts.reduce((s, p) => s + p.length, 0);
    const data = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
    const dataPath = `params_shard_${shards.length}.bin`;
    files.push({ dataPath, bytes: data });
    shards.push({ dataPath, format: 'raw-shard', nbytes: total, records, md5sum: md5Hex(data.buffer) });
  };
  for (const t of tensors) {
    const elements = t.shape.reduce((a, d) => a * d, 1);
    params += elements;
    paramBytes += t.data.byteLength;
    const bytes =
      encode === 'f32-to-bf16' && t.dtype === 'float32'
        ? new Uint8Array(Uint16Array.from(t.data as Float32Array, floatToBf16).buffer)
        : new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const rec: RecordJson = { name: t.name, shape: t.shape, dtype: t.dtype, format: encode, nbytes: bytes.length, byteOffset: 0 };
    if (pendingBytes + bytes.length >= cap) {
      if (bytes.length * 2 >= cap) {
        commit([bytes], [rec]); // out of band: a shard of its own
        continue;
      }
      if (pendingBytes > 0) commit(pending, pendingRecords);
      pending = [];
      pendingRecords = [];
      pendingBytes = 0;
    }
    rec.byteOffset = pendingBytes;
    pending.push(bytes);
    pendingRecords.push(rec);
    pendingBytes += bytes.length;
  }
  if (pendingBytes > 0) commit(pending, pendingRecords);
  const metadata = { ParamSize: params, ParamBytes: paramBytes, BitsPerParam: (paramBytes * 8) / params };
  return { manifest: JSON.stringify({ metadata, records: shards }, null, 4), shards: files };
}

