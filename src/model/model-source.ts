/**
 * Where a model's files come from: a URL folder (the bundled model under public/, or any
 * Hugging Face-style folder served over HTTP) or, in Node, a directory. Reads report progress.
 */

export interface ModelSource {
  /** Shown in messages: a URL or a directory. */
  location: string;
  /** The file's bytes, or null when the folder has no such file. */
  read(file: string, onBytes?: (loaded: number, total: number) => void): Promise<ArrayBuffer | null>;
}

export function urlModelSource(baseUrl: string, fetchFn: typeof fetch = fetch): ModelSource {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  return {
    location: base,
    async read(file, onBytes) {
      const response = await fetchFn(base + file);
      if (response.status === 404) return null;
      // A single-page-app server answers a missing file with its index page: no model file is HTML.
      if (/text\/html/i.test(response.headers.get('content-type') ?? '')) return null;
      if (!response.ok) throw new Error(`Fetching ${base + file} failed: HTTP ${response.status}`);
      return readResponse(response, onBytes);
    },
  };
}

/**
 * A response's bytes, reporting (loaded, total) as they arrive; total from Content-Length when it
 * counts the body (not when the body is compressed), else what has arrived so far.
 */
export async function readResponse(response: Response, onBytes?: (loaded: number, total: number) => void): Promise<ArrayBuffer> {
  if (!response.body || !onBytes) return response.arrayBuffer();
  const length = response.headers.get('content-encoding') ? 0 : Number(response.headers.get('content-length') ?? 0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onBytes(loaded, Math.max(length, loaded));
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out.buffer;
}

/** Files already in memory (a generated test model, or files a user dropped on the page). */
export function memoryModelSource(location: string, files: ReadonlyMap<string, ArrayBuffer | Uint8Array | string>): ModelSource {
  return {
    location,
    async read(file, onBytes) {
      const f = files.get(file);
      if (f === undefined) return null;
      const bytes = typeof f === 'string' ? new TextEncoder().encode(f) : f instanceof Uint8Array ? f : new Uint8Array(f);
      onBytes?.(bytes.length, bytes.length);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}
