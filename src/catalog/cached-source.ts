/**
 * A ModelSource (src/model/model-source.ts) over web-llm's caches, so the engine loads a
 * downloaded model with the network off. A file is served from its scope (cache-keys.ts) when
 * there; otherwise fetched, and stored if the folder is an MLC one (its mlc-chat-config.json is
 * the first file a load reads and is itself stored), so a load that fetched everything works
 * offline the next time, exactly as after downloadModel. Files of other folders (a Hugging Face
 * layout read by URL) pass through unstored: web-llm's scopes keep web-llm's models only, and
 * the page lists and deletes nothing else.
 *
 * Offline, a file absent from a complete cached folder is a file the folder does not have
 * (null, as a 404 would say), so a loader that probes for optional files still loads.
 */
import { DownloadFailedError } from '../errors.ts';
import { readResponse, urlModelSource, type ModelSource } from '../model/model-source.ts';
import { CHAT_CONFIG_FILE, CONFIG_SCOPE, fileUrl, scopeOf } from './cache-keys.ts';
import { modelCacheState } from './storage.ts';

export interface CachedSourceOptions {
  fetch?: typeof fetch;
  caches?: CacheStorage;
  /** Store what is fetched (default); false only peeks, so a folder is not half-cached by a look. */
  store?: boolean;
}

/** `folder` is the model folder as web-llm keys it (a catalogue entry's url, …/resolve/main/). */
export function cachedModelSource(folder: string, options: CachedSourceOptions = {}): ModelSource {
  const base = folder.endsWith('/') ? folder : folder + '/';
  const storage = () => options.caches ?? globalThis.caches;
  const fetchFn = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  return {
    location: base,
    async read(file, onBytes) {
      const url = fileUrl(base, file);
      const cache = await storage().open(scopeOf(file));
      const hit = await cache.match(url);
      if (hit) return readResponse(hit, onBytes);
      let response: Response;
      try {
        response = await fetchFn(url);
      } catch (e) {
        if ((await modelCacheState(base, storage())).state === 'complete') return null;
        throw new DownloadFailedError(url, `network error: ${e instanceof Error ? e.message : String(e)}`);
      }
      // A single-page-app server answers a missing file with its index page: no model file is HTML.
      if (response.status === 404 || /text\/html/i.test(response.headers.get('content-type') ?? '')) return null;
      if (!response.ok) throw new DownloadFailedError(url, `HTTP ${response.status}`);
      const bytes = await readResponse(response, onBytes);
      const mlc = file === CHAT_CONFIG_FILE || (await (await storage().open(CONFIG_SCOPE)).match(fileUrl(base, CHAT_CONFIG_FILE))) !== undefined;
      if (mlc && options.store !== false) {
        const headers = { 'content-type': response.headers.get('content-type') ?? 'application/octet-stream', 'content-length': String(bytes.byteLength) };
        // Keeping a copy is a convenience: a full disk must not fail the load itself.
        await cache.put(url, new Response(bytes, { headers })).catch(() => {});
      }
      return bytes;
    },
  };
}

/**
 * The engine's source for a model URL (engine-core's deps.source): the app's own files (the
 * bundled model, which sw.js precaches) and any URL where the Cache API is missing (Node, an
 * insecure origin) straight from the network; every other folder through web-llm's caches.
 */
export function modelSourceFor(url: string, options: Pick<CachedSourceOptions, 'store'> = {}): ModelSource {
  const origin = globalThis.location?.origin;
  const own = origin !== undefined && new URL(url, origin).origin === origin;
  return own || globalThis.caches === undefined ? urlModelSource(url) : cachedModelSource(url, options);
}
