/**
 * Which folder a model_id names: the record in the app's own appConfig.model_list (web-llm's
 * MLCEngineConfig), else Crystal's catalogue (web-llm's prebuilt records we run, and ours).
 */
import type { AppConfig, ModelRecord } from '@mlc-ai/web-llm';
import { modelFolderUrl } from '../catalog/cache-keys.ts';
import { loadCatalog } from '../catalog/records.ts';
import { ModelNotFoundError } from '../errors.ts';

export async function findModelRecord(modelId: string, appConfig?: AppConfig): Promise<ModelRecord> {
  const list = appConfig?.model_list ?? (await loadCatalog()).appConfig.model_list;
  const record = list.find((r) => r.model_id === modelId);
  if (!record) throw new ModelNotFoundError(modelId, list.map((r) => r.model_id));
  return record;
}

/**
 * The folder the engine loads: a Hugging Face repository resolves as web-llm resolves it
 * (…/resolve/main/); any other URL (an app's own server) is the folder itself.
 */
export function recordFolderUrl(record: ModelRecord, base?: string): string {
  const url = new URL(record.model, base);
  if (url.hostname === 'huggingface.co') return modelFolderUrl(url.href);
  return url.href.endsWith('/') ? url.href : url.href + '/';
}
