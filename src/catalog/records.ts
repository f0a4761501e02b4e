/**
 * The model catalogue: web-llm's own prebuiltAppConfig.model_list (imported, never copied),
 * filtered to what Crystal runs, plus our records for conversions web-llm leaves out.
 *
 * The filter. web-llm's records carry no architecture, so the model_id decides, read against
 * FAMILIES below (the only list): "<family>-<size>B[-Instruct]-<quantization>-MLC".
 * A record is kept when
 * - its id matches a family we run: Qwen3 (qwen3, 0.6B and up; not Qwen3.5, another
 *   architecture), DeepSeek-R1-Distill-Qwen (qwen2), DeepSeek-R1-Distill-Llama (llama: the
 *   R1 distills whose architecture we support) and Llama-3.2-1B-Instruct (llama);
 * - its quantization is one we decode: q4f16_1, q4f32_1, q0f16, q0f32 (not q4f16_0, q3f16_1);
 * - the id ends in "-MLC": the "-MLC-1k" variants share the same folder and weights and differ
 *   only in web-llm's context window, which is not our setting;
 * - it is a chat LLM (model_type absent or LLM, not embedding or VLM) and has no model
 *   manifest (web-llm's newer package layout, which only its Gemma records use).
 * Our records come after, unless web-llm has since added the same id (then web-llm's wins).
 *
 * The module keeps web-llm out of the page's first paint: only loadCatalog() imports it, with a
 * dynamic import(), so the bundler puts web-llm into a chunk of its own that loads afterwards.
 * Everything else takes the model list as an argument and runs in Node.
 */
import type { AppConfig, ModelRecord } from '@mlc-ai/web-llm';
import type { Architecture } from '../model/config.ts';
import { modelFolderUrl } from './cache-keys.ts';
import { estimateDownloadBytes, QUANTIZATIONS, type Quantization } from './size.ts';

interface Family {
  name: string;
  architecture: Architecture;
  /** Captures the size in billions and the quantization. */
  id: RegExp;
  minParameters: number;
}

const Q = `(${QUANTIZATIONS.join('|')})`;
const FAMILIES: readonly Family[] = [
  { name: 'Qwen3', architecture: 'qwen3', id: new RegExp(`^Qwen3-(\\d+(?:\\.\\d+)?)B-${Q}-MLC$`), minParameters: 0.6e9 },
  { name: 'DeepSeek-R1-Distill-Qwen', architecture: 'qwen2', id: new RegExp(`^DeepSeek-R1-Distill-Qwen-(\\d+(?:\\.\\d+)?)B-${Q}-MLC$`), minParameters: 0 },
  { name: 'DeepSeek-R1-Distill-Llama', architecture: 'llama', id: new RegExp(`^DeepSeek-R1-Distill-Llama-(\\d+(?:\\.\\d+)?)B-${Q}-MLC$`), minParameters: 0 },
  { name: 'Llama-3.2-Instruct', architecture: 'llama', id: new RegExp(`^Llama-3\\.2-(1)B-Instruct-${Q}-MLC$`), minParameters: 0 },
];

/** web-llm's ModelType.LLM (a const enum in its typings; the value is what the records hold). */
const LLM_MODEL_TYPE = 0;

export interface CatalogEntry {
  /** web-llm's model_id. */
  id: string;
  /** The model folder, as web-llm resolves it: cleanModelUrl(record.model), …/resolve/main/. */
  url: string;
  family: string;
  architecture: Architecture;
  quantization: Quantization;
  /** From the id ("1.5B"); see size.ts for what that means for the download estimate. */
  parameters: number;
  /** GPU memory web-llm says the model needs (vram_required_MB), in bytes; null when unknown. */
  memoryBytes: number | null;
  /** Weights download, estimated from parameters × bits per weight (exact: size.ts tensorCacheBytes). */
  downloadBytes: number;
  /** True for a record of ours rather than web-llm's. */
  ours: boolean;
  /** The record itself, for web-llm's own functions (hasModelInCache, deleteModelAllInfoInCache). */
  record: ModelRecord;
}

/** The family, size and quantization a model_id names; null when it is not one we run. */
export function parseModelId(id: string): { family: Family; parameters: number; quantization: Quantization } | null {
  for (const family of FAMILIES) {
    const m = family.id.exec(id);
    if (!m) continue;
    const parameters = Number(m[1]) * 1e9;
    if (parameters < family.minParameters) return null;
    return { family, parameters, quantization: m[2] as Quantization };
  }
  return null;
}

export function isRunnable(record: ModelRecord): boolean {
  const type = record.model_type as number | undefined;
  return (
    (type === undefined || type === null || type === LLM_MODEL_TYPE) &&
    record.model_manifest === undefined &&
    /^https?:\/\//.test(record.model) &&
    parseModelId(record.model_id) !== null
  );
}

/**
 * Ours: DeepSeek-R1-Distill-Qwen-1.5B in q4f16_1, which web-llm does not list. Shaped like
 * web-llm's DeepSeek-R1-Distill-Qwen-7B record. The 1.5B distill has the architecture and shapes
 * of Qwen2.5-Math-1.5B (it is distilled from it), so its model_lib and memory are taken from
 * web-llm's record of that model; the fallbacks are that record's values in web-llm 0.2.86.
 */
export function ourRecords(modelList: readonly ModelRecord[]): ModelRecord[] {
  const sibling = modelList.find((r) => r.model_id === 'Qwen2.5-Math-1.5B-Instruct-q4f16_1-MLC');
  return [
    {
      model: 'https://huggingface.co/mlc-ai/DeepSeek-R1-Distill-Qwen-1.5B-q4f16_1-MLC',
      model_id: 'DeepSeek-R1-Distill-Qwen-1.5B-q4f16_1-MLC',
      model_lib:
        sibling?.model_lib ??
        'https://raw.githubusercontent.com/mlc-ai/binary-mlc-llm-libs/main/web-llm-models/v0_2_86/base/Qwen2-1.5B-Instruct-q4f16_1_cs1k-webgpu.wasm',
      low_resource_required: true,
      vram_required_MB: sibling?.vram_required_MB ?? 1629.75,
      overrides: { context_window_size: 4096 },
    },
  ];
}

const OUR_IDS = new Set(ourRecords([]).map((r) => r.model_id));

/** web-llm's records we run, then ours. */
export function catalogRecords(modelList: readonly ModelRecord[]): ModelRecord[] {
  const kept = modelList.filter(isRunnable);
  const ids = new Set(kept.map((r) => r.model_id));
  return [...kept, ...ourRecords(modelList).filter((r) => !ids.has(r.model_id))];
}

export function catalogEntry(record: ModelRecord): CatalogEntry {
  const parsed = parseModelId(record.model_id);
  if (!parsed) throw new Error(`${record.model_id} is not a model Crystal runs`);
  return {
    id: record.model_id,
    url: modelFolderUrl(record.model),
    family: parsed.family.name,
    architecture: parsed.family.architecture,
    quantization: parsed.quantization,
    parameters: parsed.parameters,
    memoryBytes: record.vram_required_MB === undefined ? null : Math.round(record.vram_required_MB * 2 ** 20),
    downloadBytes: estimateDownloadBytes(parsed.parameters, parsed.quantization),
    ours: OUR_IDS.has(record.model_id),
    record,
  };
}

export function buildCatalog(modelList: readonly ModelRecord[]): CatalogEntry[] {
  return catalogRecords(modelList).map(catalogEntry);
}

export interface Catalog {
  entries: CatalogEntry[];
  /** web-llm's prebuiltAppConfig with the model list replaced by the catalogue's records. */
  appConfig: AppConfig;
}

/** Loads web-llm (its own chunk, once) and builds the catalogue from its prebuiltAppConfig. */
export async function loadCatalog(): Promise<Catalog> {
  const { prebuiltAppConfig } = await import('@mlc-ai/web-llm');
  const records = catalogRecords(prebuiltAppConfig.model_list);
  return { entries: records.map(catalogEntry), appConfig: { ...prebuiltAppConfig, model_list: records } };
}
