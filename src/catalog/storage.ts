/**
 * What is downloaded: the model folders held in web-llm's scopes (whoever fetched them), how
 * complete each is, deleting one, and the browser's storage (persistence, usage).
 *
 * A folder is complete when, like web-llm's hasTensorInCache, its manifest and every shard the
 * manifest lists are cached, and also its mlc-chat-config.json and tokenizer.json (the engine
 * needs them; web-llm fetches them on load). An older ndarray-cache.json folder can be complete
 * for Crystal, though web-llm, which reads only tensor-cache.json, does not see it. Anything less under the folder is partial: a
 * download that was cancelled or broke off, which downloadModel resumes.
 *
 * Deleting removes every entry under the folder in "webllm/model" and "webllm/config": what
 * web-llm's deleteModelAllInfoInCache removes (shards, tokenizer, chat config) plus the manifest
 * and tokenizer_config.json it leaves behind. The model-lib wasm in "webllm/wasm" stays: several
 * records share one, and it is web-llm's, never Crystal's.
 */
import {
  CHAT_CONFIG_FILE,
  CONFIG_SCOPE,
  fileUrl,
  folderOf,
  idFromFolderUrl,
  LEGACY_TENSOR_CACHE_FILE,
  MODEL_SCOPE,
  TENSOR_CACHE_FILE,
} from './cache-keys.ts';
import { parseShardList } from './manifest.ts';
import { tensorCacheBytes } from './size.ts';

export type CacheState = 'complete' | 'partial' | 'absent';

export interface CachedModel {
  /** The model folder. */
  url: string;
  /** Its hub repository name, e.g. "Qwen3-0.6B-q4f16_1-MLC" (web-llm's model_id for its records). */
  id: string;
  state: CacheState;
  /** Bytes stored for it now. */
  storedBytes: number;
  /** The weights' exact size from the cached manifest; null while the manifest is not cached. */
  weightsBytes: number | null;
}

const storageOf = (storage?: CacheStorage) => storage ?? globalThis.caches;

/** An entry's size: its Content-Length when that counts the stored bytes, else its body's size. */
async function entrySize(response: Response | undefined): Promise<number> {
  if (!response) return 0;
  const n = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isSafeInteger(n) && n >= 0 && !response.headers.get('content-encoding')) return n;
  return (await response.blob()).size;
}

async function describe(folder: string, modelKeys: Set<string>, configKeys: Set<string>, modelCache: Cache): Promise<CachedModel> {
  const id = idFromFolderUrl(folder);
  const under = [...modelKeys].filter((k) => folderOf(k) === folder);
  const hasConfig = configKeys.has(fileUrl(folder, CHAT_CONFIG_FILE));
  if (under.length === 0 && !hasConfig) return { url: folder, id, state: 'absent', storedBytes: 0, weightsBytes: null };
  const manifestFile = [TENSOR_CACHE_FILE, LEGACY_TENSOR_CACHE_FILE].find((f) => modelKeys.has(fileUrl(folder, f)));
  let shards: { dataPath: string; nbytes: number }[] | null = null;
  if (manifestFile) {
    const text = await (await modelCache.match(fileUrl(folder, manifestFile)))?.text();
    try {
      shards = text === undefined ? null : parseShardList(text, folder, manifestFile);
    } catch {
      shards = null; // a manifest we cannot read: the folder is partial, a download replaces nothing but resumes
    }
  }
  const shardSizes = new Map((shards ?? []).map((s) => [fileUrl(folder, s.dataPath), s.nbytes]));
  let storedBytes = 0;
  for (const key of under) storedBytes += shardSizes.get(key) ?? (await entrySize(await modelCache.match(key)));
  const complete =
    shards !== null &&
    hasConfig &&
    modelKeys.has(fileUrl(folder, 'tokenizer.json')) &&
    [...shardSizes.keys()].every((k) => modelKeys.has(k));
  return {
    url: folder,
    id,
    state: complete ? 'complete' : 'partial',
    storedBytes,
    weightsBytes: shards === null ? null : tensorCacheBytes(shards),
  };
}

async function keySets(storage: CacheStorage) {
  const [modelCache, configCache] = await Promise.all([storage.open(MODEL_SCOPE), storage.open(CONFIG_SCOPE)]);
  const urls = async (c: Cache) => new Set((await c.keys()).map((r) => r.url));
  return { modelCache, modelKeys: await urls(modelCache), configKeys: await urls(configCache) };
}

/** One folder's state. */
export async function modelCacheState(folder: string, storage?: CacheStorage): Promise<CachedModel> {
  const { modelCache, modelKeys, configKeys } = await keySets(storageOf(storage));
  return describe(folder, modelKeys, configKeys, modelCache);
}

/** Every folder with anything cached, complete or partial, sorted by id. */
export async function listCachedModels(storage?: CacheStorage): Promise<CachedModel[]> {
  const { modelCache, modelKeys, configKeys } = await keySets(storageOf(storage));
  const folders = new Set([...modelKeys, ...configKeys].map(folderOf));
  const models = await Promise.all([...folders].map((f) => describe(f, modelKeys, configKeys, modelCache)));
  return models.sort((a, b) => a.id.localeCompare(b.id));
}

/** Deletes every entry of the folder; resolves with how many there were. */
export async function deleteCachedModel(folder: string, storage?: CacheStorage): Promise<number> {
  let deleted = 0;
  for (const scope of [MODEL_SCOPE, CONFIG_SCOPE]) {
    const cache = await storageOf(storage).open(scope);
    for (const request of await cache.keys()) {
      if (request.url.startsWith(folder) && (await cache.delete(request))) deleted++;
    }
  }
  return deleted;
}

/** Asks the browser not to evict this origin's storage under pressure; resolves with whether it agreed. */
export async function requestPersistentStorage(): Promise<boolean> {
  if (!navigator.storage?.persist) return false;
  return navigator.storage.persist().catch(() => false);
}

export interface StorageUsage {
  usage: number;
  quota: number | null;
  /** Bytes of the Cache API (models and the app), where the browser says. */
  caches: number | null;
  persisted: boolean;
}

export async function storageUsage(): Promise<StorageUsage | null> {
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  if (!estimate || estimate.usage === undefined) return null;
  const details = (estimate as { usageDetails?: { caches?: number } }).usageDetails;
  return {
    usage: estimate.usage,
    quota: estimate.quota ?? null,
    caches: details?.caches ?? null,
    persisted: (await navigator.storage.persisted?.().catch(() => false)) ?? false,
  };
}
