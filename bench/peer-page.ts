/**
 * Crystal against the fastest in-browser peer, llama.cpp's WebGPU backend as @wllama/wllama ships
 * it, in the same browser on the same shapes (tsx bench/run-peer.ts drives it in Chromium).
 * First wllama on the random-weight Q4_0 GGUF (scripts/make-gguf.ts) on WebGPU, or, when that does
 * not come up on the adapter, on its WebAssembly CPU path; the log says which ran (llama.cpp's own
 * load lines: the device it uses, the layers it offloaded). Then Crystal on the q4f16_1 MLC model
 * of the same shapes and the same weights (scripts/make-real-shape-models.ts). Both get the same
 * prompt (text for wllama, which tokenizes it with the GGUF's copy of the same vocabulary; its
 * token count is checked), greedy decoding with eos ignored, the same decode count, and their
 * greedy tokens are compared at the end. Medians over runs of:
 *   prefill tok/s = prompt tokens / (prompt in → first token sampled)
 *   decode ms/token = (first token sampled → last token sampled) / (tokens − 1)
 * wllama's figures are llama-server's own timings (prompt_ms, predicted_ms); its wall clock per run,
 * worker round trips included, is printed beside them. Crystal's are wall clock, readbacks included.
 *
 * Query: prompt (tokens, 64), tokens (decoded, 16), runs (3), layers (N → real-models/N-layers/),
 * model and gguf (URLs), threads (wllama's n_threads), ngl (wllama's n_gpu_layers; 0 = CPU only),
 * only (wllama | crystal), verbose (llama.cpp's whole log, at debug level).
 */
import { Wllama, type LoadModelParams, type RawCompletionParams } from '@wllama/wllama';
import wllamaWasm from '@wllama/wllama/esm/wasm/wllama.wasm?url';
import { createGpuBackend } from '../src/engine/gpu-backend.ts';
import type { CacheConfig } from '../src/kv/budget.ts';
import { requestGpu } from '../src/gpu/device.ts';
import { loadModel } from '../src/model/load-model.ts';
import { urlModelSource } from '../src/model/model-source.ts';
import { loadTokenizer } from '../src/tokenizer/tokenizer.ts';
import { fmt, median } from './stats.ts';

const params = new URLSearchParams(location.search);
const PROMPT_TOKENS = Number(params.get('prompt') ?? 64);
const DECODE_TOKENS = Number(params.get('tokens') ?? 16);
const RUNS = Number(params.get('runs') ?? 3);
const LAYERS = params.get('layers');
const DIR = LAYERS ? `/real-models/${LAYERS}-layers/` : '/real-models/';
const MODEL = params.get('model') ?? `${DIR}qwen3-0.6b/`;
const GGUF = params.get('gguf') ?? `${DIR}qwen3-0.6b-q4_0.gguf`;
// wllama's default is half the cores, which is one thread (no pthreads) on a 2-core machine.
const THREADS = params.get('threads') ? Number(params.get('threads')) : Math.max(2, Math.floor(navigator.hardwareConcurrency / 2));
const NGL = params.get('ngl') !== null ? Number(params.get('ngl')) : undefined;
const ONLY = params.get('only');
// Crystal also runs with crystal at this `all` budget (a budget under the context, so every step evicts).
const BUDGET = params.get('budget') ? Number(params.get('budget')) : undefined;
const VERBOSE = params.has('verbose');

const logEl = document.getElementById('log')!;
function log(line: string) {
  logEl.append(document.createTextNode(line + '\n'));
  console.log(line);
}

interface Prompt {
  text: string;
  ids: number[];
}

interface EngineResult {
  engine: string;
  backend: string;
  prefillTokPerS: number;
  decodeMsPerToken: number;
  tokens: number[]; // greedy tokens, the first one sampled from the prompt (wllama: an extra untimed run)
  text: string; // their text
  note?: string;
  kvBytes?: number; // the KV pool Crystal allocates for the sequence
}

/**
 * The prompt as text and as Crystal's ids. wllama takes text only (llama.cpp tokenizes it with the
 * GGUF's copy of the vocabulary), so the text must tokenize to exactly PROMPT_TOKENS ids: whole
 * segments of the bench/real-model.ts prompt, then " x" (one token, a pre-token of its own) to
 * make up the count. llama.cpp's prompt count is checked against it on every run.
 */
async function makePrompt(): Promise<Prompt> {
  const response = await fetch(MODEL + 'tokenizer.json');
  if (!response.ok) throw new Error(`${MODEL}tokenizer.json: HTTP ${response.status}; write the model with tsx scripts/make-real-shape-models.ts --only qwen3-0.6b`);
  const tokenizer = await loadTokenizer(await response.arrayBuffer());
  let text = '';
  for (let i = 0; ; i++) {
    const next = text + `Step ${i}: let x_${i} = x_${i - 1} * ${i % 7} + ${i % 13}; `;
    if (tokenizer.encode(next).length > PROMPT_TOKENS) break;
    text = next;
  }
  text += ' x'.repeat(PROMPT_TOKENS - tokenizer.encode(text).length);
  const ids = tokenizer.encode(text);
  if (ids.length !== PROMPT_TOKENS) throw new Error(`the prompt text is ${ids.length} tokens, wanted ${PROMPT_TOKENS}`);
  return { text, ids };
}

// ---- wllama (llama.cpp) ----------------------------------------------------------------------

/** What llama.cpp's load log says about where the model runs. */
function backendFrom(lines: string[], wllama: Wllama): string {
  const find = (re: RegExp) => lines.map((l) => re.exec(l)).find((m) => m);
  const offload = find(/offloaded (\d+)\/(\d+) layers to GPU/);
  const device = find(/using device (\S+) \(([^)]*)\)/);
  const adapter = find(/ggml_webgpu: adapter_info: (.*)/);
  const threads = wllama.isMultithread() ? `${wllama.getNumThreads()} threads` : '1 thread';
  const gpuLayers = offload ? Number(offload[1]) : 0;
  if (gpuLayers > 0) {
    const name = adapter ? adapter[1].replace(/\s+/g, ' ').trim() : device ? `${device[1]} (${device[2]})` : 'device not logged';
    return `WebGPU, ${offload![1]}/${offload![2]} layers on GPU [${name}]; wasm ${threads}`;
  }
  return `CPU (WebAssembly, ${threads})${offload ? `, ${offload[1]}/${offload[2]} layers on GPU` : ''}`;
}

async function loadWllama(blob: Blob, ngl: number | undefined, lines: string[]): Promise<Wllama> {
  const keep = (...args: unknown[]) => lines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  const logger = { debug: keep, log: keep, warn: keep, error: (...args: unknown[]) => (keep(...args), console.error(...args)) };
  const wllama = new Wllama({ default: wllamaWasm }, { logger, allowOffline: true });
  wllama.setCompat(null); // the compat build is fetched from a CDN; Chromium has JSPI and memory64 and needs none
  const load: LoadModelParams = {
    n_ctx: Math.max(256, PROMPT_TOKENS + DECODE_TOKENS + 64),
    n_batch: 512,
    n_parallel: 1,
    warmup: true,
    ...(VERBOSE ? { log_level: 1 } : {}), // LogLevel.DEBUG
    ...(ngl !== undefined ? { n_gpu_layers: ngl } : {}),
    n_threads: THREADS,
  };
  try {
    await wllama.loadModel([blob], load);
  } catch (e) {
    await wllama.exit().catch(() => {});
    throw e;
  }
  return wllama;
}

/** llama-server's log probabilities name each sampled token's id (probs_to_json). */
type Logprobs = { content?: { id?: number }[] } | null;

/** One greedy completion; `ids` asks for log probabilities, which llama-server computes over the whole vocabulary on the CPU: never in a timed run. */
async function completion(wllama: Wllama, prompt: Prompt, tokens: number, ids = false) {
  const request: RawCompletionParams = {
    prompt: prompt.text,
    max_tokens: tokens,
    temperature: 0,
    top_k: 1,
    ignore_eos: true,
    ...(ids ? { logprobs: 1 } : {}),
    ...{ cache_prompt: false }, // llama-server's field, missing from wllama's raw completion type
  };
  const t0 = performance.now();
  const res = await wllama.createCompletion({ ...request, stream: false });
  const wallMs = performance.now() - t0;
  const t = res.timings;
  if (!t) throw new Error(`wllama returned no timings: ${JSON.stringify(res).slice(0, 300)}`);
  if (t.prompt_n !== prompt.ids.length) throw new Error(`llama.cpp tokenized the prompt into ${t.prompt_n} tokens, Crystal into ${prompt.ids.length} (cache_n ${t.cache_n})`);
  if (t.predicted_n !== tokens) throw new Error(`wllama generated ${t.predicted_n} tokens, asked for ${tokens}`);
  const content = (res.choices[0]?.logprobs as unknown as Logprobs)?.content ?? [];
  const sampled = content.map((c) => c.id).filter((id): id is number => typeof id === 'number');
  return { timings: t, wallMs, ids: sampled, text: res.choices[0]?.text ?? '' };
}

async function runWllama(prompt: Prompt): Promise<EngineResult> {
  const response = await fetch(GGUF);
  if (!response.ok || /html/.test(response.headers.get('content-type') ?? '')) {
    throw new Error(`${GGUF}: not found; write it with tsx scripts/make-gguf.ts${LAYERS ? ` --layers ${LAYERS}` : ''}`);
  }
  const blob = await response.blob();
  log(`wllama         ${Wllama.getLibllamaVersion()} (llama.cpp), ${GGUF} ${(blob.size / 2 ** 20).toFixed(1)} MiB`);
  // llama.cpp's WebGPU backend requires shader-f16 (ggml-webgpu.cpp: "we require f16 support").
  const adapter = await navigator.gpu?.requestAdapter();
  const f16 = adapter?.features.has('shader-f16');
  log(`wllama         WebGPU adapter ${adapter ? `${adapter.info.vendor} / ${adapter.info.architecture}, shader-f16 ${f16 ? 'yes' : 'no: llama.cpp will not use it'}` : 'none'}`);
  let lines: string[] = [];
  let wllama: Wllama;
  let fallback: string | undefined;
  const tryRun = async (w: Wllama) => {
    await completion(w, prompt, Math.min(4, DECODE_TOKENS)); // warm-up: pipelines, buffers
    const runs = [];
    for (let r = 0; r < RUNS; r++) runs.push(await completion(w, prompt, DECODE_TOKENS));
    return runs;
  };
  let runs: Awaited<ReturnType<typeof tryRun>>;
  try {
    wllama = await loadWllama(blob, NGL, lines);
    runs = await tryRun(wllama).catch(async (e) => {
      await wllama.exit().catch(() => {});
      throw e;
    });
  } catch (e) {
    if (NGL === 0) throw e;
    fallback = `WebGPU failed (${e instanceof Error ? e.message : String(e)}); CPU path`;
    log(`wllama         ${fallback}`);
    for (const l of lines.filter((l) => /webgpu|error|fail/i.test(l)).slice(-8)) log(`  llama.cpp: ${l.trim()}`);
    lines = [];
    wllama = await loadWllama(blob, 0, lines);
    runs = await tryRun(wllama);
  }
  const backend = backendFrom(lines, wllama);
  if (VERBOSE) for (const l of lines) log(`  llama.cpp: ${l.trim()}`);
  for (const l of lines.filter((l) => /using device|offloaded|model buffer size|adapter_info|KV buffer size|compute buffer size|system_info/.test(l))) log(`  llama.cpp: ${l.trim()}`);
  const last = await completion(wllama, prompt, DECODE_TOKENS, true); // untimed: the token ids
  const wallDecode = median(runs.map((r) => (r.wallMs - r.timings.prompt_ms) / (DECODE_TOKENS - 1)));
  log(`wllama         wall clock per run ${fmt(median(runs.map((r) => r.wallMs)), 1).trim()} ms (decode ${wallDecode.toFixed(2)} ms/token with the worker round trips)`);
  await wllama.exit();
  return {
    engine: 'wllama',
    backend,
    prefillTokPerS: median(runs.map((r) => (r.timings.prompt_n * 1000) / r.timings.prompt_ms)),
    decodeMsPerToken: median(runs.map((r) => r.timings.predicted_ms / (r.timings.predicted_n - 1))),
    tokens: last.ids,
    text: last.text,
    note: fallback,
  };
}

// ---- Crystal -----------------------------------------------------------------------------------

const GREEDY_U = { temperature: 0, topP: 1, u: 0 };

async function crystalBackend() {
  const gpu = await requestGpu();
  const model = await loadModel(urlModelSource(MODEL));
  const c = model.config;
  log(`crystal        ${MODEL} (${c.architecture}, ${c.numLayers} layers, hidden ${c.hiddenSize}, heads ${c.numHeads}/${c.numKvHeads}, vocab ${c.vocabSize})`);
  const backend = await createGpuBackend(gpu, model, { maxStepTokens: 64, contextLength: PROMPT_TOKENS + DECODE_TOKENS + 64 });
  log(`crystal        weights ${(backend.weightBytes / 2 ** 20).toFixed(1)} MiB on the GPU`);
  return { gpu, model, backend };
}

/** `cache`: the full cache (undefined) or a policy; the same backend serves both. */
async function runCrystal({ ids: prompt }: Prompt, { gpu, model, backend }: Awaited<ReturnType<typeof crystalBackend>>, cache?: CacheConfig): Promise<EngineResult> {
  const prefills: number[] = [];
  const decodes: number[] = [];
  let tokens: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    const steps = r === 0 ? Math.min(4, DECODE_TOKENS) : DECODE_TOKENS; // run 0 warms up
    backend.reset(cache, prompt.length);
    const t0 = performance.now();
    let token = 0;
    for (let at = 0; at < prompt.length; at += backend.maxStepTokens) {
      token = (await backend.forward(prompt.slice(at, at + backend.maxStepTokens), at, GREEDY_U)).token;
    }
    await backend.finishPrefill(prompt.length);
    const t1 = performance.now();
    const out = [token];
    // tokens − 1 forwards after the prompt's token: the same count llama.cpp's predicted_ms spans.
    for (let i = 0; i < steps - 1; i++) {
      token = (await backend.forward([token], prompt.length + i, GREEDY_U)).token;
      out.push(token);
    }
    const t2 = performance.now();
    if (r > 0) {
      prefills.push(t1 - t0);
      decodes.push((t2 - t1) / (steps - 1));
      tokens = out;
    }
  }
  return {
    engine: cache ? `crystal ${cache.policy} ${cache.mode} ${cache.budget}` : 'crystal',
    kvBytes: backend.kvBytes,
    backend: `WebGPU [${gpu.adapterInfo}]`,
    prefillTokPerS: (prompt.length * 1000) / median(prefills),
    decodeMsPerToken: median(decodes),
    tokens,
    text: model.tokenizer.decode(tokens),
  };
}

async function main() {
  if (DECODE_TOKENS < 2) throw new Error('tokens must be at least 2 (decode time spans tokens − 1 steps)');
  log(`user agent     ${navigator.userAgent}`);
  log(`page           crossOriginIsolated ${crossOriginIsolated} (wllama multi-thread needs it), ${navigator.hardwareConcurrency} cores`);
  const prompt = await makePrompt();
  log(`prompt         ${prompt.ids.length} tokens; decode ${DECODE_TOKENS} tokens; ${RUNS} runs (+1 warm-up); greedy, eos ignored`);
  const results: EngineResult[] = [];
  if (ONLY !== 'crystal') results.push(await runWllama(prompt));
  if (ONLY !== 'wllama') {
    const crystal = await crystalBackend();
    results.push(await runCrystal(prompt, crystal));
    if (BUDGET !== undefined) results.push(await runCrystal(prompt, crystal, { policy: 'crystal', budget: BUDGET, mode: 'all' }));
    crystal.backend.dispose();
  }

  log('');
  log('engine                  prefill tok/s  decode tok/s   ms/token  KV MiB  backend / adapter');
  for (const r of results) {
    const kv = r.kvBytes === undefined ? '-' : (r.kvBytes / 2 ** 20).toFixed(1);
    log(`${r.engine.padEnd(22)} ${fmt(r.prefillTokPerS, 1).padStart(14)} ${fmt(1000 / r.decodeMsPerToken, 2).padStart(13)} ${fmt(r.decodeMsPerToken, 2).padStart(10)} ${kv.padStart(7)}  ${r.backend}`);
  }
  const [w, c] = [results.find((r) => r.engine === 'wllama'), results.find((r) => r.engine === 'crystal')];
  for (const r of results.filter((r) => r.engine.startsWith('crystal') && w)) {
    log(`${`${r.engine}/wllama`.padEnd(30)} ${(r.prefillTokPerS / w!.prefillTokPerS).toFixed(2).padStart(8)}x ${(w!.decodeMsPerToken / r.decodeMsPerToken).toFixed(2).padStart(12)}x ${(r.decodeMsPerToken / w!.decodeMsPerToken).toFixed(2).padStart(9)}x  (speed ratios > 1: Crystal faster; ms ratio < 1: Crystal faster)`);
  }
  if (c) for (const r of results.filter((r) => r.engine.startsWith('crystal ') )) log(`${`${r.engine}/full`.padEnd(30)} decode ms/token ${(r.decodeMsPerToken / c.decodeMsPerToken).toFixed(2)}x`);
  if (w && c) {
    // The same weights in both files: greedy tokens agree until a near-tie of logits splits them.
    if (w.tokens.length) {
      let same = 0;
      while (same < Math.min(w.tokens.length, c.tokens.length) && w.tokens[same] === c.tokens[same]) same++;
      log(`greedy tokens  ${same}/${Math.min(w.tokens.length, c.tokens.length)} agree from the first`);
      log(`  wllama  ${w.tokens.join(' ')}`);
      log(`  crystal ${c.tokens.join(' ')}`);
    } else {
      log(`greedy text    ${w.text === c.text ? 'agrees' : 'differs'} (wllama returned no token ids)`);
    }
    log(`  wllama  ${JSON.stringify(w.text)}`);
    log(`  crystal ${JSON.stringify(c.text)}`);
  }
}

main()
  .catch((e) => log(`ERROR ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`))
  .finally(() => ((window as unknown as { benchDone: boolean }).benchDone = true));
