/**
 * Loads a Hugging Face model folder: config.json, model.safetensors, tokenizer.json,
 * tokenizer_config.json and generation_config.json. Everything is validated on the host
 * before a GPU buffer is made.
 */
import { InvalidConfigError, MissingModelFileError } from '../errors.ts';
import { createChatTemplate, type ChatTemplate } from '../tokenizer/chat-template.ts';
import { loadTokenizer, type TextTokenizer, type WebTokenizersModule } from '../tokenizer/tokenizer.ts';
import { parseConfig, type ModelConfig } from './config.ts';
import type { ModelSource } from './model-source.ts';
import { loadWeights, type ModelWeights } from './weights.ts';

export interface LoadedModel {
  name: string;
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

export async function loadModel(
  source: ModelSource,
  options: { name?: string; onProgress?: (p: LoadProgress) => void; tokenizerLib?: WebTokenizersModule } = {},
): Promise<LoadedModel> {
  const progress = options.onProgress ?? (() => {});
  progress({ stage: 'config', loaded: 0, total: 1 });
  const rawConfig = parseJson(await required(source, 'config.json'), 'config.json');
  const config = parseConfig(rawConfig); // unsupported architectures fail before the big download
  const tokenizerConfigBytes = await required(source, 'tokenizer_config.json');
  const tokenizerConfig = parseJson(tokenizerConfigBytes, 'tokenizer_config.json');
  const generationBytes = await source.read('generation_config.json');
  const generationConfig = generationBytes ? parseJson(generationBytes, 'generation_config.json') : {};
  progress({ stage: 'tokenizer', loaded: 0, total: 1 });
  const tokenizer = await loadTokenizer(await required(source, 'tokenizer.json'), options.tokenizerLib);
  const weightBytes = await required(source, 'model.safetensors', (loaded, total) =>
    progress({ stage: 'weights', loaded, total }),
  );
  const weights = loadWeights(weightBytes, config);

  const tokenId = (text: string): number | null => {
    const ids = tokenizer.encode(text);
    return ids.length === 1 ? ids[0] : null;
  };
  const eosText = typeof tokenizerConfig.eos_token === 'string' ? tokenizerConfig.eos_token : null;
  const stop = new Set([...idList(generationConfig.eos_token_id), ...idList(rawConfig.eos_token_id)]);
  if (eosText !== null) {
    const id = tokenId(eosText);
    if (id !== null) stop.add(id);
  }
  return {
    name: options.name ?? source.location,
    config,
    weights,
    tokenizer,
    chatTemplate: createChatTemplate(tokenizerConfig),
    stopTokenIds: [...stop],
    thinkStartId: tokenId('<think>'),
    thinkEndId: tokenId('</think>'),
  };
}
