/**
 * A fake Hugging Face folder for the download tests: a small MLC model (mlc-chat-config.json,
 * tensor-cache.json with two shard records, shards of a few KB, tokenizer.json) served by a
 * stubbed fetch that streams each body in chunks, honours the AbortSignal, counts requests per
 * file, and can stall a file halfway so a test cancels in the middle of it.
 */

export const FAKE_MODEL = 'https://huggingface.co/crystal-test/Fake-Qwen3-q4f16_1-MLC';
export const FAKE_FOLDER = `${FAKE_MODEL}/resolve/main/`;

const encode = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

function shard(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export function fakeFiles(options: { modelType?: string; legacyManifest?: boolean } = {}): Map<string, Uint8Array> {
  const shards = [shard(5000, 1), shard(3000, 2)];
  const manifest = {
    metadata: { ParamSize: 3, ParamBytes: 8000, BitsPerParam: 4.5 },
    records: shards.map((s, i) => ({
      dataPath: `params_shard_${i}.bin`,
      format: 'raw-shard',
      nbytes: s.length,
      records: [{ name: `w${i}`, shape: [s.length / 2], dtype: 'float16', format: 'f32-to-bf16', nbytes: s.length, byteOffset: 0 }],
      md5sum: '0',
    })),
  };
  return new Map<string, Uint8Array>([
    ['mlc-chat-config.json', encode({ model_type: options.modelType ?? 'qwen3', quantization: 'q4f16_1', tokenizer_files: ['tokenizer.json'] })],
    [options.legacyManifest ? 'ndarray-cache.json' : 'tensor-cache.json', encode(manifest)],
    ['tokenizer.json', encode({ version: '1.0', model: { type: 'BPE', vocab: { a: 0 }, merges: [] } })],
    ['params_shard_0.bin', shards[0]],
    ['params_shard_1.bin', shards[1]],
  ]);
}

export interface FakeHub {
  fetch: typeof fetch;
  /** Requests per file name. */
  counts: Map<string, number>;
  /** Resolves when the stalled file has sent its first chunk. */
  stalled: Promise<void>;
}

export function fakeHub(files: Map<string, Uint8Array>, options: { stall?: string; chunk?: number; truncate?: string } = {}): FakeHub {
  const counts = new Map<string, number>();
  let onStall = () => {};
  const stalled = new Promise<void>((r) => (onStall = r));
  const chunk = options.chunk ?? 1000;
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input);
    const signal = init?.signal ?? undefined;
    signal?.throwIfAborted();
    const name = url.startsWith(FAKE_FOLDER) ? url.slice(FAKE_FOLDER.length) : url;
    counts.set(name, (counts.get(name) ?? 0) + 1);
    const bytes = files.get(name);
    if (!bytes) return new Response('Entry not found', { status: 404 });
    const served = options.truncate === name ? bytes.subarray(0, bytes.length - 7) : bytes;
    let at = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        signal?.addEventListener('abort', () => controller.error(signal.reason), { once: true });
      },
      async pull(controller) {
        await new Promise((r) => setTimeout(r, 1)); // a network's pace: events between chunks
        if (signal?.aborted) return;
        if (at >= served.length) return controller.close();
        if (name === options.stall && at > 0) {
          onStall();
          return new Promise<void>(() => {}); // never more bytes: the test cancels here
        }
        controller.enqueue(served.slice(at, at + chunk));
        at += chunk;
      },
    });
    return new Response(body, {
      headers: { 'content-length': String(bytes.length), 'content-type': name.endsWith('.json') ? 'application/json' : 'application/octet-stream' },
    });
  };
  return { fetch: fetchFn as typeof fetch, counts, stalled };
}
