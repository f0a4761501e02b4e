/**
 * The page's model list: the bundled tiny model first, then the catalogue (web-llm's records we
 * run, and ours) with download size and memory, then models found downloaded that no record
 * names (another web-llm app's, or any while the catalogue cannot load offline), and the model
 * folder URL when one was loaded. Option values are ids: the bundled id, "url", or a record's
 * model_id (for an unnamed folder, its hub repository name, which is what model_id is).
 * Every label is set as text.
 */
import type { CatalogEntry } from '../catalog/records.ts';
import { formatBytes } from '../catalog/size.ts';
import type { CachedModel } from '../catalog/storage.ts';

export interface ListedModel {
  id: string;
  /** The folder to load and download from. */
  url: string;
  entry: CatalogEntry | null;
  cached: CachedModel | null;
}

const FAMILY_ORDER = ['DeepSeek-R1-Distill-Qwen', 'Qwen3', 'DeepSeek-R1-Distill-Llama', 'Llama-3.2-Instruct'];
const QUANT_ORDER = ['q4f16_1', 'q4f32_1', 'q0f16', 'q0f32'];

/** Catalogue first (families, then size, then quantization), then cached folders no record names. */
export function listModels(catalog: readonly CatalogEntry[], cached: readonly CachedModel[]): ListedModel[] {
  const byUrl = new Map(cached.map((c) => [c.url, c]));
  const sorted = [...catalog].sort(
    (a, b) =>
      FAMILY_ORDER.indexOf(a.family) - FAMILY_ORDER.indexOf(b.family) ||
      a.parameters - b.parameters ||
      QUANT_ORDER.indexOf(a.quantization) - QUANT_ORDER.indexOf(b.quantization),
  );
  const listed: ListedModel[] = sorted.map((e) => ({ id: e.id, url: e.url, entry: e, cached: byUrl.get(e.url) ?? null }));
  const known = new Set(catalog.map((e) => e.url));
  for (const c of cached) if (!known.has(c.url)) listed.push({ id: c.id, url: c.url, entry: null, cached: c });
  return listed;
}

const shortName = (id: string) => id.replace(/-MLC$/, '');

/** The download size: exact once the manifest is cached, else the estimate. */
export function downloadSize(m: ListedModel): string {
  if (m.cached?.weightsBytes != null) return formatBytes(m.cached.weightsBytes);
  return m.entry ? `≈${formatBytes(m.entry.downloadBytes)}` : 'size unknown';
}

function stateLabel(m: ListedModel): string {
  if (m.cached?.state === 'complete') return 'downloaded';
  if (m.cached?.state === 'partial') return 'partly downloaded';
  return 'not downloaded';
}

export function optionLabel(m: ListedModel): string {
  const memory = m.entry?.memoryBytes ? `, needs ${formatBytes(m.entry.memoryBytes)}` : '';
  return `${shortName(m.id)} (${downloadSize(m)}${memory}) · ${stateLabel(m)}`;
}

/** One line on the chosen model: what it is, its download and memory, and whether it is here. */
export function describeModel(m: ListedModel): string {
  const parts = [m.id];
  if (m.entry) {
    parts.push(`${m.entry.architecture}, ${m.entry.parameters / 1e9}B parameters, ${m.entry.quantization}${m.entry.ours ? ' (a record of ours)' : ' (web-llm record)'}`);
  }
  const size = m.cached?.weightsBytes != null ? `download ${formatBytes(m.cached.weightsBytes)}` : m.entry ? `download ≈${formatBytes(m.entry.downloadBytes)} (estimate)` : '';
  if (size) parts.push(size);
  if (m.entry?.memoryBytes) parts.push(`needs ${formatBytes(m.entry.memoryBytes)} of GPU memory (web-llm's figure)`);
  if (m.cached?.state === 'complete') parts.push('downloaded');
  else if (m.cached?.state === 'partial') parts.push(`partly downloaded (${formatBytes(m.cached.storedBytes)}): download to resume`);
  else parts.push('not downloaded');
  return parts.join(' · ');
}

export function renderModelSelect(
  select: HTMLSelectElement,
  bundled: readonly { id: string; label: string }[], // the first is the default
  models: readonly ListedModel[],
  url: { label: string } | null,
  selected: string,
): void {
  select.textContent = '';
  const group = (label: string) => Object.assign(document.createElement('optgroup'), { label });
  const own = group('Bundled');
  for (const b of bundled) own.append(new Option(b.label, b.id));
  select.append(own);
  const catalogue = group('Catalogue (MLC, shared with web-llm)');
  const others = group('Downloaded, not in the catalogue');
  for (const m of models) (m.entry ? catalogue : others).append(new Option(optionLabel(m), m.id));
  if (catalogue.children.length > 0) select.append(catalogue);
  if (others.children.length > 0) select.append(others);
  if (url) select.append(new Option(url.label, 'url'));
  select.value = [...select.options].some((o) => o.value === selected) ? selected : bundled[0].id;
}
