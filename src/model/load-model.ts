/**
 * Loads a model folder in either form, told apart by mlc-chat-config.json:
 *   MLC / web-llm artifacts: mlc-chat-config.json, tensor-cache.json (or ndarray-cache.json),
 *     params_shard_*.bin, tokenizer.json (+ tokenizer_config.json for the chat template);
 *   Hugging Face: config.json, model.safetensors, tokenizer.json, tokenizer_config.json and
 *     generation_config.json.
 * Both produce the same ModelWeights. Everything is validated on the host (sizes, shapes, dtypes,
 * names, md5) before a GPU buffer is made.
 */
import { InvalidConfigError, MissingModelFileError } from '../errors.ts';
import { createChatTemplate, type ChatTemplate } from '../tokenizer/chat-template.ts';
import { loadTokenizer, type TextTokenizer, type WebTokenizersModule } from '../tokenizer/tokenizer.ts';
import { parseConfig, type ModelConfig } from './config.ts';
import type { ModelSource } from './model-source.ts';
import { parseMlcChatConfig, type MlcQuantization } from './mlc-config.ts';
import { mlcWeights } from './mlc-weights.ts';
import { checkShard, parseTensorCache } from './tensor-cache.ts';
import { loadWeights, type MatrixStorage, type ModelWeights } from './weights.ts';

export interface LoadedModel {
  name: string;
  /** Where the weights came from: a Hugging Face folder, or MLC artifacts in a quantization. */
  format: { kind: 'hf' } | { kind: 'mlc'; quantization: MlcQuantization };
  config: ModelConfig;
  weights: ModelWeights;
  tokenizer: TextTokenizer;
  chatTemplate: ChatTemplate;
  /** Generation stops at any of these ids. */
  stopTokenIds: number[];
  /** Token ids of <think> and </think>, when the vocabulary has them. */
  thinkStartId: number | null;
  thinkEndId: number | null;
}

export interface LoadProgress {
  stage: 'config' | 'weights' | 'tokenizer' | 'gpu';
  loaded: number;
  total: number;
}

async function required(source: ModelSource, file: string, onBytes?: (l: number, t: number) => void): Promise<ArrayBuffer> {
  const bytes = await source.read(file, onBytes);
  if (!bytes) throw new MissingModelFileError(file, source.location);
  return bytes;
}

function parseJson(bytes: ArrayBuffer, file: string): Record<string, unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new InvalidConfigError(`${file} is not valid JSON`);
  }
}

function idList(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

interface Parts {
  config: ModelConfig;
  weights: ModelWeights;
  format: LoadedModel['format'];
  stop: number[];
  tokenizerConfig: Record<string, unknown>;
}

async function loadHuggingFace(source: ModelSource, progress: (p: LoadProgress) => void): Promise<Parts> {
  const rawConfig = parseJson(await required(source, 'config.json'), 'config.json');
  const config = parseConfig(rawConfig); // unsupported architectures fail before the big download
  const tokenizerConfig = parseJson(await required(source, 'tokenizer_config.json'), 'tokenizer_config.json');
  const generationBytes = await source.read('generation_config.json');
  const generationConfig = generationBytes ? parseJson(generationBytes, 'generation_config.json') : {};
  const weightBytes = await required(source, 'model.safetensors', (loaded, total) => progress({ stage: 'weights', loaded, total }));
  return {
    config,
    weights: loadWeights(weightBytes, config),
    format: { kind: 'hf' },
    stop: [...idList(generationConfig.eos_token_id), ...idList(rawConfig.eos_token_id)],
    tokenizerConfig,
  };
}

async function loadMlc(source: ModelSource, configBytes: ArrayBuffer, progress: (p: LoadProgress) => void): Promise<Parts> {
  const mlc = parseMlcChatConfig(parseJson(configBytes, 'mlc-chat-config.json')); // unsupported models fail first
  const manifest = (await source.read('tensor-cache.json')) ?? (await source.read('ndarray-cache.json'));
  if (!manifest) throw new MissingModelFileError('tensor-cache.json', source.location);
  const cache = parseTensorCache(parseJson(manifest, 'tensor-cache.json'));
  const tokenizerConfigBytes = await source.read('tokenizer_config.json');
  const total = cache.shards.reduce((s, sh) => s + sh.nbytes, 0);
  const shards: ArrayBuffer[] = [];
  let done = 0;
  for (const shard of cache.shards) {
    const bytes = await required(source, shard.dataPath, (loaded) => progress({ stage: 'weights', loaded: done + loaded, total }));
    checkShard(shard, bytes);
    shards.push(bytes);
    done += shard.nbytes;
  }
  return {
    config: mlc.config,
    weights: mlcWeights(cache, shards, mlc),
    format: { kind: 'mlc', quantization: mlc.quantization },
    stop: mlc.stopTokenIds,
    // Without tokenizer_config.json the chat template falls back to ChatML (chat-template.ts).
    tokenizerConfig: tokenizerConfigBytes ? parseJson(tokenizerConfigBytes, 'tokenizer_config.json') : {},
  };
}

export async function loadModel(
  source: ModelSource,
  options: { name?: string; onProgress?: (p: LoadProgress) => void; tokenizerLib?: WebTokenizersModule } = {},
): Promise<LoadedModel> {
  const progress = options.onProgress ?? (() => {});
  progress({ stage: 'config', loaded: 0, total: 1 });
  const mlcConfig = await source.read('mlc-chat-config.json');
  const parts = mlcConfig ? await loadMlc(source, mlcConfig, progress) : await loadHuggingFace(source, progress);
  progress({ stage: 'tokenizer', loaded: 0, total: 1 });
  const tokenizer = await loadTokenizer(await required(source, 'tokenizer.json'), options.tokenizerLib);
  const { config, tokenizerConfig } = parts;

  const tokenId = (text: string): number | null => {
    const ids = tokenizer.encode(text);
    return ids.length === 1 ? ids[0] : null;
  };
  const eosText = typeof tokenizerConfig.eos_token === 'string' ? tokenizerConfig.eos_token : null;
  const stop = new Set(parts.stop);
  if (eosText !== null) {
    const id = tokenId(eosText);
    if (id !== null) stop.add(id);
  }
  return {
    name: options.name ?? source.location,
    format: parts.format,
    config,
    weights: parts.weights,
    tokenizer,
    chatTemplate: createChatTemplate(tokenizerConfig),
    stopTokenIds: [...stop],
    thinkStartId: tokenId('<think>'),
    thinkEndId: tokenId('</think>'),
  };
}

/**
 * What a folder holds, from its small files only (no weights): the config and how its matrices
 * are stored, so the memory it needs can be shown before a download.
 */
export async function probeModel(source: ModelSource): Promise<{ config: ModelConfig; storage: MatrixStorage }> {
  const mlcBytes = await source.read('mlc-chat-config.json');
  if (mlcBytes) {
    const mlc = parseMlcChatConfig(parseJson(mlcBytes, 'mlc-chat-config.json'));
    if (mlc.q4) return { config: mlc.config, storage: { storage: 'q4', scaleType: mlc.modelDtype === 'float16' ? 'f16' : 'f32' } };
    if (mlc.modelDtype === 'float16') return { config: mlc.config, storage: { storage: 'f16' } };
    // q0f32: float32 records are bf16 on disk (and on the GPU) unless written raw.
    const manifest = (await source.read('tensor-cache.json')) ?? (await source.read('ndarray-cache.json'));
    const records = manifest ? [...parseTensorCache(parseJson(manifest, 'tensor-cache.json')).records.values()] : [];
    const raw = records.some((r) => r.dtype === 'float32' && !r.bf16Packed);
    return { config: mlc.config, storage: { storage: raw ? 'f32' : 'bf16' } };
  }
  const rawConfig = parseJson(await required(source, 'config.json'), 'config.json');
  const dtype = String(rawConfig.torch_dtype ?? 'float32');
  const storage = dtype === 'float16' ? 'f16' : dtype === 'bfloat16' ? 'bf16' : 'f32';
  return { config: parseConfig(rawConfig), storage: { storage } };
}
