/** A tvmjs tensor cache on disk: tensor-cache.json and params_shard_*.bin (tensor-cache-build.ts). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTensorCache, type EncodeFormat, type TensorToWrite } from './tensor-cache-build.ts';

export type { EncodeFormat, TensorToWrite } from './tensor-cache-build.ts';

export function writeTensorCache(dir: string, tensors: Iterable<TensorToWrite>, encode: EncodeFormat, shardCapMb = 32): { shards: number; bytes: number } {
  const built = buildTensorCache(tensors, encode, shardCapMb);
  for (const s of built.shards) writeFileSync(join(dir, s.dataPath), s.bytes);
  writeFileSync(join(dir, 'tensor-cache.json'), built.manifest);
  return { shards: built.shards.length, bytes: built.shards.reduce((s, sh) => s + sh.bytes.length, 0) };
}
