// The catalogue filter on web-llm's real prebuiltAppConfig (its bundle imports in Node): which
// families and quantizations stay, which go, our record, and the size estimates.
import { prebuiltAppConfig, type ModelRecord } from '@mlc-ai/web-llm';
import { describe, expect, test } from 'vitest';
import { buildCatalog, catalogRecords, ourRecords, parseModelId } from '../../src/catalog/records.ts';
import { BITS_PER_WEIGHT, estimateDownloadBytes, formatBytes, tensorCacheBytes } from '../../src/catalog/size.ts';

const list = prebuiltAppConfig.model_list;
const catalog = buildCatalog(list);
const ids = catalog.map((e) => e.id);

describe('the filter keeps what Crystal runs', () => {
  test('Qwen3 from 0.6B up, in all four quantizations web-llm has', () => {
    for (const size of ['0.6B', '1.7B', '4B', '8B']) {
      expect(ids).toContain(`Qwen3-${size}-q4f16_1-MLC`);
      expect(ids).toContain(`Qwen3-${size}-q4f32_1-MLC`);
    }
    expect(ids).toContain('Qwen3-0.6B-q0f16-MLC');
    expect(ids).toContain('Qwen3-0.6B-q0f32-MLC');
    for (const e of catalog.filter((e) => e.family === 'Qwen3')) {
      expect(e.architecture).toBe('qwen3');
      expect(e.parameters).toBeGreaterThanOrEqual(0.6e9);
    }
  });

  test('the R1 distills of supported architectures, and Llama-3.2-1B', () => {
    expect(ids).toContain('DeepSeek-R1-Distill-Qwen-7B-q4f16_1-MLC');
    expect(ids).toContain('DeepSeek-R1-Distill-Qwen-7B-q4f32_1-MLC');
    expect(ids).toContain('DeepSeek-R1-Distill-Llama-8B-q4f16_1-MLC');
    for (const q of ['q4f16_1', 'q4f32_1', 'q0f16', 'q0f32']) expect(ids).toContain(`Llama-3.2-1B-Instruct-${q}-MLC`);
    const byId = new Map(catalog.map((e) => [e.id, e]));
    expect(byId.get('DeepSeek-R1-Distill-Qwen-7B-q4f16_1-MLC')!.architecture).toBe('qwen2');
    expect(byId.get('DeepSeek-R1-Distill-Llama-8B-q4f16_1-MLC')!.architecture).toBe('llama');
    expect(byId.get('Llama-3.2-1B-Instruct-q4f16_1-MLC')!.architecture).toBe('llama');
  });

  test('every entry is in a quantization we decode, with web-llm folder URL and memory', () => {
    // The whole catalogue for web-llm 0.2.86 (package-lock.json): a new web-llm shows up here.
    expect(ids).toEqual([
      'Llama-3.2-1B-Instruct-q4f32_1-MLC',
      'Llama-3.2-1B-Instruct-q4f16_1-MLC',
      'Llama-3.2-1B-Instruct-q0f32-MLC',
      'Llama-3.2-1B-Instruct-q0f16-MLC',
      'DeepSeek-R1-Distill-Qwen-7B-q4f16_1-MLC',
      'DeepSeek-R1-Distill-Qwen-7B-q4f32_1-MLC',
      'DeepSeek-R1-Distill-Llama-8B-q4f32_1-MLC',
      'DeepSeek-R1-Distill-Llama-8B-q4f16_1-MLC',
      'Qwen3-0.6B-q4f16_1-MLC',
      'Qwen3-0.6B-q4f32_1-MLC',
      'Qwen3-0.6B-q0f16-MLC',
      'Qwen3-0.6B-q0f32-MLC',
      'Qwen3-1.7B-q4f16_1-MLC',
      'Qwen3-1.7B-q4f32_1-MLC',
      'Qwen3-4B-q4f16_1-MLC',
      'Qwen3-4B-q4f32_1-MLC',
      'Qwen3-8B-q4f16_1-MLC',
      'Qwen3-8B-q4f32_1-MLC',
      'DeepSeek-R1-Distill-Qwen-1.5B-q4f16_1-MLC',
    ]);
    for (const e of catalog) {
      expect(['q4f16_1', 'q4f32_1', 'q0f16', 'q0f32']).toContain(e.quantization);
      expect(e.url).toBe(`${e.record.model}/resolve/main/`);
      expect(e.memoryBytes).toBeGreaterThan(0);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('the filter drops what Crystal does not run', () => {
  test('other families, other quantizations, context variants, Qwen3.5, embeddings', () => {
    for (const id of ids) {
      expect(id).not.toMatch(/Phi|phi|gemma|Gemma|Mistral|SmolLM|TinyLlama|Hermes|OLMo|stablelm|RedPajama|snowflake|Ministral|Qwen2\.5|Qwen2-|Qwen3\.5/);
      expect(id).not.toMatch(/q4f16_0|q3f16_1|-1k$/);
      expect(id).not.toMatch(/Llama-3\.2-3B|Llama-3\.1|Llama-3-|Llama-2/);
    }
    // Those do exist in web-llm's list: the filter, not the list, drops them.
    const all = list.map((r) => r.model_id);
    for (const present of ['Phi-3.5-mini-instruct-q4f16_1-MLC', 'gemma-2-2b-it-q4f16_1-MLC', 'Mistral-7B-Instruct-v0.3-q4f16_1-MLC', 'Qwen3.5-0.8B-q4f16_1-MLC', 'Llama-3.2-3B-Instruct-q4f16_1-MLC', 'Llama-3.1-70B-Instruct-q3f16_1-MLC']) {
      expect(all).toContain(present);
    }
  });

  test('a record with the right name but another type, a manifest, or a smaller Qwen3 is dropped', () => {
    const base = list.find((r) => r.model_id === 'Qwen3-0.6B-q4f16_1-MLC')!;
    const variants: ModelRecord[] = [
      { ...base, model_id: 'Qwen3-0.6B-q4f16_0-MLC' },
      { ...base, model_id: 'Qwen3-0.3B-q4f16_1-MLC' },
      { ...base, model_id: 'Qwen3-0.6B-q4f16_1-MLC-1k' },
      { ...base, model_type: 1 as ModelRecord['model_type'] },
      { ...base, model_manifest: 'mlc-model-manifest.json' },
    ];
    expect(catalogRecords(variants).map((r) => r.model_id)).toEqual(['DeepSeek-R1-Distill-Qwen-1.5B-q4f16_1-MLC']);
  });
});

describe('our record', () => {
  test('DeepSeek-R1-Distill-Qwen-1.5B q4f16_1 is there, marked as ours, shaped like web-llm records', () => {
    const ours = catalog.filter((e) => e.ours);
    expect(ours.map((e) => e.id)).toEqual(['DeepSeek-R1-Distill-Qwen-1.5B-q4f16_1-MLC']);
    const [e] = ours;
    expect(list.some((r) => r.model_id === e.id)).toBe(false); // web-llm leaves it out
    expect(e.url).toBe('https://huggingface.co/mlc-ai/DeepSeek-R1-Distill-Qwen-1.5B-q4f16_1-MLC/resolve/main/');
    expect(e.architecture).toBe('qwen2');
    expect(e.quantization).toBe('q4f16_1');
    expect(e.parameters).toBe(1.5e9);
    // model_lib and memory come from web-llm's Qwen2.5-Math-1.5B record, the model it is distilled from.
    const sibling = list.find((r) => r.model_id === 'Qwen2.5-Math-1.5B-Instruct-q4f16_1-MLC')!;
    expect(e.record.model_lib).toBe(sibling.model_lib);
    expect(e.record.vram_required_MB).toBe(sibling.vram_required_MB);
    expect(Object.keys(e.record).sort()).toEqual(Object.keys(list.find((r) => r.model_id === 'DeepSeek-R1-Distill-Qwen-7B-q4f16_1-MLC')!).sort());
  });

  test('web-llm wins when it lists the same id', () => {
    const theirs = { ...ourRecords(list)[0], vram_required_MB: 1 };
    const records = catalogRecords([...list, theirs]);
    expect(records.filter((r) => r.model_id === theirs.model_id)).toEqual([theirs]);
  });
});

describe('sizes', () => {
  test('parameters come from the id', () => {
    expect(parseModelId('Qwen3-0.6B-q4f16_1-MLC')!.parameters).toBe(0.6e9);
    expect(parseModelId('Qwen3-1.7B-q0f32-MLC')!.parameters).toBe(1.7e9);
    expect(parseModelId('DeepSeek-R1-Distill-Llama-8B-q4f32_1-MLC')!.parameters).toBe(8e9);
    expect(parseModelId('Phi-3.5-mini-instruct-q4f16_1-MLC')).toBeNull();
  });

  test('estimates: bits per weight, ordering, and below the memory web-llm says the model needs', () => {
    expect(BITS_PER_WEIGHT.q4f16_1).toBe(4.5);
    expect(estimateDownloadBytes(0.6e9, 'q4f16_1')).toBe(337_500_000);
    expect(estimateDownloadBytes(1e9, 'q0f32')).toBe(4e9);
    const order = ['q4f16_1', 'q4f32_1', 'q0f16', 'q0f32'] as const;
    for (let i = 1; i < order.length; i++) expect(estimateDownloadBytes(1e9, order[i])).toBeGreaterThan(estimateDownloadBytes(1e9, order[i - 1]));
    for (const e of catalog) {
      // Weights are most of what a model needs on the GPU, never more than it.
      expect(e.downloadBytes).toBeLessThan(e.memoryBytes!);
      expect(e.downloadBytes).toBeGreaterThan(0.15 * e.memoryBytes!);
    }
    const qwen = catalog.filter((e) => e.family === 'Qwen3' && e.quantization === 'q4f16_1').map((e) => e.downloadBytes);
    expect(qwen).toEqual([...qwen].sort((a, b) => a - b));
  });

  test('the exact size counts every shard once', () => {
    expect(tensorCacheBytes([{ dataPath: 'a', nbytes: 10 }, { dataPath: 'b', nbytes: 5 }, { dataPath: 'a', nbytes: 10 }])).toBe(15);
    expect(formatBytes(337_500_000)).toBe('338 MB');
    expect(formatBytes(4.2e9)).toBe('4.20 GB');
    expect(formatBytes(8192)).toBe('8 KB');
  });
});
