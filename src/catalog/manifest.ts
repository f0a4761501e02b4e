/**
 * The shard list of an MLC tensor-cache.json (older: ndarray-cache.json): which files hold the
 * weights and how many bytes each has. Only what a download needs; the tensors inside each
 * shard are the MLC loader's business (src/model). Checked before anything is fetched: a shard
 * path must stay inside the model folder, and its size must be a whole number of bytes.
 */
import { DownloadManifestError } from '../errors.ts';
import { fileUrl } from './cache-keys.ts';
import type { ShardRecord } from './size.ts';

export function parseShardList(text: string, folder: string, file: string): ShardRecord[] {
  const where = fileUrl(folder, file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DownloadManifestError(where, 'it is not valid JSON');
  }
  const records = (json as { records?: unknown }).records;
  if (!Array.isArray(records)) throw new DownloadManifestError(where, 'it has no "records" list');
  const shards = new Map<string, ShardRecord>();
  for (const [i, r] of records.entries()) {
    const { dataPath, nbytes } = (r ?? {}) as { dataPath?: unknown; nbytes?: unknown };
    if (typeof dataPath !== 'string' || dataPath === '') throw new DownloadManifestError(where, `records[${i}] has no dataPath`);
    if (!fileUrl(folder, dataPath).startsWith(folder)) {
      throw new DownloadManifestError(where, `records[${i}].dataPath "${dataPath}" points outside the model folder`);
    }
    if (typeof nbytes !== 'number' || !Number.isSafeInteger(nbytes) || nbytes < 0) {
      throw new DownloadManifestError(where, `records[${i}].nbytes is not a byte count`);
    }
    shards.set(dataPath, { dataPath, nbytes });
  }
  return [...shards.values()];
}
