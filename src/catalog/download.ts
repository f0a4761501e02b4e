/**
 * Downloads an MLC model folder into web-llm's Cache API scopes, under web-llm's keys
 * (cache-keys.ts), so web-llm finds what Crystal stored and the other way round.
 *
 * Order: mlc-chat-config.json (its model_type is checked before anything large is fetched),
 * tensor-cache.json (else ndarray-cache.json), tokenizer.json, tokenizer_config.json when the
 * folder has one, then the shards, a few at a time as web-llm does. The manifest is stored
 * first, as web-llm stores it: "cached" means the manifest and every shard it lists are present
 * (web-llm's hasTensorInCache), and the tokenizer is fetched before any shard, so a model whose
 * shards are all in is whole.
 *
 * Each body streams into cache.put() through a byte counter: the Cache API commits an entry only
 * once its body has been read to the end, so a cancelled or broken transfer leaves no entry at
 * all, never half a file. A shard whose byte count differs from tensor-cache.json is deleted
 * again. A second call skips every file already in the cache (counted as done) and fetches only
 * the rest: that is the resume.
 */
import { CrystalError, DownloadCancelledError, DownloadFailedError, DownloadCorruptError, DownloadManifestError, StorageQuotaError, UnsupportedArchitectureError } from '../errors.ts';
import { SUPPORTED_ARCHITECTURES } from '../model/config.ts';
import {
  CHAT_CONFIG_FILE,
  CONFIG_SCOPE,
  fileUrl,
  LEGACY_TENSOR_CACHE_FILE,
  MODEL_SCOPE,
  modelFolderUrl,
  TENSOR_CACHE_FILE,
} from './cache-keys.ts';
import { parseShardList } from './manifest.ts';
import { createProgressTally, type DownloadProgress, type FileProgress } from './progress.ts';

export type { DownloadProgress } from './progress.ts';

export interface DownloadOptions {
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  fetch?: typeof fetch;
  caches?: CacheStorage;
  /** Shards fetched at once (web-llm: 4). */
  concurrency?: number;
  /** The least time between two progress events while bytes stream (ms). */
  progressIntervalMs?: number;
}

export interface DownloadResult {
  /** The model folder (…/resolve/main/). */
  url: string;
  /** Every file now cached for the model. */
  files: string[];
  /** Of those, the ones this call fetched (the rest were cached already). */
  fetched: string[];
  /** Bytes of the whole model, and how many of them came from the network this time. */
  bytes: number;
  fetchedBytes: number;
}

const OPTIONAL_FILES = new Set(['tokenizer_config.json']);

interface Task {
  file: string;
  url: string;
  cache: Cache;
  progress: FileProgress;
}

function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}

function isQuota(e: unknown): boolean {
  return e instanceof DOMException && (e.name === 'QuotaExceededError' || e.code === 22);
}

/** Content-Length when it counts the bytes we will read (not a compressed transfer). */
function knownLength(response: Response): number | null {
  const length = response.headers.get('content-length');
  if (length === null || response.headers.get('content-encoding')) return null;
  const n = Number(length);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

function storedHeaders(response: Response, length: number | null): Headers {
  const headers = new Headers({ 'content-type': response.headers.get('content-type') ?? 'application/octet-stream' });
  if (length !== null) headers.set('content-length', String(length));
  return headers;
}

/** The size of an entry already cached: its Content-Length, or its body's size. */
async function cachedSize(response: Response): Promise<number> {
  return knownLength(response) ?? (await response.blob()).size;
}

export async function downloadModel(model: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const folder = modelFolderUrl(model);
  const outer = options.signal;
  if (outer?.aborted) throw new DownloadCancelledError(folder);
  // One controller for every request of this download: the user's cancel aborts it, and so does
  // the first failure, which stops the shards still streaming.
  const controller = new AbortController();
  const cancel = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', cancel, { once: true });
  try {
    return await run(folder, controller, options);
  } catch (e) {
    if (outer?.aborted) throw new DownloadCancelledError(folder);
    if (isQuota(e)) throw new StorageQuotaError(folder);
    throw e;
  } finally {
    outer?.removeEventListener('abort', cancel);
  }
}

async function run(folder: string, controller: AbortController, options: DownloadOptions): Promise<DownloadResult> {
  const signal = controller.signal;
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const storage = options.caches ?? globalThis.caches;
  if (!storage) throw new DownloadFailedError(folder, 'this page has no Cache API to store it in; open it over https or from localhost');
  const [modelCache, configCache] = await Promise.all([storage.open(MODEL_SCOPE), storage.open(CONFIG_SCOPE)]);
  const tally = createProgressTally(folder, options.onProgress, options.progressIntervalMs);
  const fetched: string[] = [];
  let fetchedBytes = 0;

  const task = (file: string, cache: Cache, expected: number | null = null): Task => ({
    file,
    url: fileUrl(folder, file),
    cache,
    progress: tally.add(file, expected),
  });

  /** The response for a task, or null for an optional file the folder does not have. */
  const get = async (t: Task, optional: boolean): Promise<Response | null> => {
    signal.throwIfAborted();
    let response: Response;
    try {
      response = await fetchFn(t.url, { signal });
    } catch (e) {
      if (signal.aborted) throw e;
      throw new DownloadFailedError(t.url, `network error: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (response.ok) return response;
    await response.body?.cancel().catch(() => {});
    if (response.status === 404 && optional) return null;
    throw new DownloadFailedError(t.url, `HTTP ${response.status}`);
  };

  /** A small file needed before the rest, held in memory, checked, then stored; null if absent. */
  const small = async (t: Task, optional: boolean, check: (text: string) => void = () => {}): Promise<string | null> => {
    const hit = await t.cache.match(t.url);
    if (hit) {
      const bytes = await hit.arrayBuffer();
      const text = new TextDecoder().decode(bytes);
      check(text);
      tally.finish(t.progress, bytes.byteLength);
      return text;
    }
    const response = await get(t, optional);
    if (!response) {
      tally.drop(t.progress);
      return null;
    }
    const bytes = await response.arrayBuffer();
    const text = new TextDecoder().decode(bytes);
    check(text);
    signal.throwIfAborted();
    await t.cache.put(t.url, new Response(bytes, { headers: storedHeaders(response, bytes.byteLength) }));
    tally.bytes(t.progress, bytes.byteLength);
    tally.finish(t.progress);
    fetched.push(t.file);
    fetchedBytes += bytes.byteLength;
    return text;
  };

  /** Streams a file into its cache entry, or finds it there already. */
  const stream = async (t: Task, optional: boolean): Promise<void> => {
    const hit = await t.cache.match(t.url);
    if (hit) return tally.finish(t.progress, t.progress.expected ?? (await cachedSize(hit)));
    const response = await get(t, optional);
    if (!response) return tally.drop(t.progress);
    t.progress.expected ??= knownLength(response);
    const expected = t.progress.expected;
    let count = 0;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, out) {
        count += chunk.byteLength;
        tally.bytes(t.progress, chunk.byteLength);
        out.enqueue(chunk);
      },
    });
    const body = (response.body ?? new Blob([]).stream()).pipeThrough(counter, { signal });
    try {
      await t.cache.put(t.url, new Response(body, { headers: storedHeaders(response, expected) }));
    } catch (e) {
      if (signal.aborted || isAbort(e) || isQuota(e) || e instanceof CrystalError) throw e;
      throw new DownloadFailedError(t.url, `transfer broke off: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (expected !== null && count !== expected) {
      await t.cache.delete(t.url);
      throw new DownloadCorruptError(t.url, expected, count);
    }
    tally.finish(t.progress);
    fetched.push(t.file);
    fetchedBytes += count;
  };

  // 1. The chat config: an architecture we do not run fails here, before the weights.
  await small(task(CHAT_CONFIG_FILE, configCache), false, (text) => {
    let type: unknown;
    try {
      type = (JSON.parse(text) as { model_type?: unknown }).model_type;
    } catch {
      throw new DownloadManifestError(fileUrl(folder, CHAT_CONFIG_FILE), 'it is not valid JSON');
    }
    if (typeof type === 'string' && !(SUPPORTED_ARCHITECTURES as readonly string[]).includes(type)) {
      throw new UnsupportedArchitectureError(type, SUPPORTED_ARCHITECTURES);
    }
  });

  // 2. The manifest: tensor-cache.json, or the older ndarray-cache.json.
  let manifestFile = TENSOR_CACHE_FILE;
  let manifest: string | null = null;
  const checkManifest = (file: string) => (text: string) => void parseShardList(text, folder, file);
  const tensorCache = task(TENSOR_CACHE_FILE, modelCache);
  if (!(await modelCache.match(tensorCache.url)) && (await modelCache.match(fileUrl(folder, LEGACY_TENSOR_CACHE_FILE)))) {
    tally.drop(tensorCache.progress);
    manifestFile = LEGACY_TENSOR_CACHE_FILE;
    manifest = await small(task(LEGACY_TENSOR_CACHE_FILE, modelCache), false, checkManifest(LEGACY_TENSOR_CACHE_FILE));
  } else {
    manifest = await small(tensorCache, true, checkManifest(TENSOR_CACHE_FILE));
    if (manifest === null) {
      manifestFile = LEGACY_TENSOR_CACHE_FILE;
      manifest = await small(task(LEGACY_TENSOR_CACHE_FILE, modelCache), true, checkManifest(LEGACY_TENSOR_CACHE_FILE));
    }
  }
  if (manifest === null) throw new DownloadManifestError(folder, `it has neither ${TENSOR_CACHE_FILE} nor ${LEGACY_TENSOR_CACHE_FILE}`);
  const shards = parseShardList(manifest, folder, manifestFile);

  // 3. Every other file is known now, so the total is (but for the tokenizer's own size).
  const tokenizers = ['tokenizer.json', 'tokenizer_config.json'].map((f) => task(f, modelCache));
  const shardTasks = shards.map((s) => task(s.dataPath, modelCache, s.nbytes));
  tally.emit();
  for (const t of tokenizers) await stream(t, OPTIONAL_FILES.has(t.file));

  // 4. The shards, a few at a time; the first failure stops the others.
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (next < shardTasks.length && failure === null) {
      const t = shardTasks[next++];
      try {
        await stream(t, false);
      } catch (error) {
        if (failure === null) {
          failure = { error };
          controller.abort(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, shardTasks.length)) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;

  tally.emit();
  const files = [CHAT_CONFIG_FILE, manifestFile, ...tokenizers.filter((t) => t.progress.done).map((t) => t.file), ...shards.map((s) => s.dataPath)];
  return { url: folder, files, fetched, bytes: tally.loaded, fetchedBytes };
}
