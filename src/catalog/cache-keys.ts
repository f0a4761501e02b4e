/**
 * Where web-llm keeps a model in the Cache API, so that Crystal reads and writes the very same
 * entries: a model downloaded by either app is found by the other. These mirror web-llm 0.2.86
 * (lib/index.js: cleanModelUrl, hasModelInCache, deleteModelAllInfoInCache, reloadInternal):
 * - a record's folder is cleanModelUrl(record.model): a trailing "/", then "resolve/main/" unless
 *   the URL already names a revision (…/resolve/<rev>/);
 * - mlc-chat-config.json (and a model manifest) lives in scope "webllm/config";
 * - tensor-cache.json, every shard (records[i].dataPath) and the tokenizer files in "webllm/model";
 * - the model-lib wasm in "webllm/wasm" (web-llm's, never ours; only deleted with the model);
 * each entry keyed by the file's absolute URL. web-llm reads an entry only through
 * Response.json() / arrayBuffer() and checks presence with cache.keys(), so any complete
 * Response stored under that key is accepted.
 */

export const MODEL_SCOPE = 'webllm/model';
export const CONFIG_SCOPE = 'webllm/config';
export const WASM_SCOPE = 'webllm/wasm';

export const CHAT_CONFIG_FILE = 'mlc-chat-config.json';
/** web-llm reads only this name; older MLC conversions ship ndarray-cache.json instead. */
export const TENSOR_CACHE_FILE = 'tensor-cache.json';
export const LEGACY_TENSOR_CACHE_FILE = 'ndarray-cache.json';

/** web-llm's cleanModelUrl: the folder every file of a record resolves against. */
export function modelFolderUrl(model: string, base?: string): string {
  let url = model.endsWith('/') ? model : model + '/';
  if (!/.+\/resolve\/.+\//.test(url)) url += 'resolve/main/';
  return new URL(url, base).href;
}

/** The cache key of one file of a model folder. */
export function fileUrl(folder: string, file: string): string {
  return new URL(file, folder).href;
}

/** The scope a file of a model folder is kept in. */
export function scopeOf(file: string): string {
  return file === CHAT_CONFIG_FILE || file === 'mlc-model-manifest.json' ? CONFIG_SCOPE : MODEL_SCOPE;
}

/** The folder a key belongs to: everything up to its last "/". */
export function folderOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1);
}

/** A readable name for a folder that no record names: the hub repository, e.g. "Qwen3-0.6B-q4f16_1-MLC". */
export function idFromFolderUrl(folder: string): string {
  const parts = new URL(folder).pathname.split('/').filter(Boolean);
  const at = parts.indexOf('resolve');
  return (at > 0 ? parts[at - 1] : parts[parts.length - 1]) ?? folder;
}
