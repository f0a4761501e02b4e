/**
 * The model panel: the model list (the bundled forms, the catalogue, what is downloaded), Download
 * and Delete with the storage line, what the chosen model needs on the GPU, and loading it (from
 * the list, from a URL, or again after a lost device) with the model status line. It holds the
 * loaded model.
 */
import { loadCatalog, type CatalogEntry } from '../catalog/records.ts';
import { deleteCachedModel, listCachedModels } from '../catalog/storage.ts';
import type { Engine, ModelInfo } from '../engine/interface.ts';
import { renderCachedList } from './cached-list.ts';
import { createDownloadView } from './download-view.ts';
import type { ErrorView } from './error-view.ts';
import { describeModel, downloadSize, listModels, renderModelSelect, type ListedModel } from './model-list.ts';
import { cacheOf, readSettings, type Settings } from './settings.ts';
import { enablePersist, showStorage } from './storage.ts';

export const BUNDLED = { id: 'tiny-reasoner-qwen3', label: 'tiny-reasoner-qwen3 (bundled, 1M params)', path: 'models/tiny-reasoner-qwen3/' };
/** The bundled model in every form it ships in: its Hugging Face folder, and our MLC conversions. */
const BUNDLED_FORMS = [
  BUNDLED,
  { id: 'tiny-reasoner-qwen3-q4f32_1-MLC', label: 'tiny-reasoner-qwen3, MLC q4f32_1 (bundled, 4-bit)', path: 'models/tiny-reasoner-qwen3-q4f32_1-MLC/' },
  { id: 'tiny-reasoner-qwen3-q0f32-MLC', label: 'tiny-reasoner-qwen3, MLC q0f32 (bundled)', path: 'models/tiny-reasoner-qwen3-q0f32-MLC/' },
];

const urlName = (url: string) => new URL(url).pathname.split('/').filter(Boolean).pop() ?? 'model';

export interface ModelElements {
  select: HTMLSelectElement;
  info: HTMLElement;
  needs: HTMLElement;
  download: HTMLButtonElement;
  downloadProgress: HTMLProgressElement;
  downloadStatus: HTMLElement;
  downloadCancel: HTMLButtonElement;
  url: HTMLInputElement;
  loadUrl: HTMLButtonElement;
  status: HTMLElement;
  loadProgress: HTMLProgressElement;
  cached: HTMLElement;
  catalogStatus: HTMLElement;
  storage: HTMLElement;
  persist: HTMLButtonElement;
}

export interface ModelDeps {
  engine: Engine;
  errors: ErrorView;
  /** The chosen model is a setting; the estimate also reads the policy, budget, mode and prompt. */
  settings: { current(): Settings; store(next: Settings): void; prompt(): string };
  /** Whether a generation may start: not while a model loads, and only with one loaded. */
  setStartable(enabled: boolean): void;
  /** A model was loaded: the views drawn per layer and head follow it. */
  ready(info: ModelInfo): void;
}

export interface ModelPanel {
  /** The loaded model; null before the first load and after a lost device. */
  model(): ModelInfo | null;
  /** Lists the models and loads the chosen one; adds the catalogue when it arrives. */
  start(): void;
  /** What the chosen model needs on the GPU at the chosen policy and budget, before it is loaded. */
  showNeeds(): Promise<void>;
  /** Loads the last loaded model again (Reload model after a lost device). */
  reload(): Promise<void>;
  /** The GPU device was lost: the engine dropped the model, so nothing runs until Reload model. */
  drop(): void;
  showStorage(): void;
}

export function createModelPanel(ui: ModelElements, deps: ModelDeps): ModelPanel {
  const { engine, errors } = deps;
  const settings = () => deps.settings.current();
  let model: ModelInfo | null = null;
  /** The folder the model was loaded from, for Reload model after a lost device. */
  let loaded: { url: string; name: string } | null = null;
  let catalog: CatalogEntry[] = [];
  let listed: ListedModel[] = [];
  let needsAsked = 0;

  const updateStorage = () => void showStorage(ui.storage, ui.persist);
  enablePersist(ui.persist, ui.storage);
  const downloads = createDownloadView(ui.downloadProgress, ui.downloadStatus, ui.downloadCancel);
  const chosenListed = () => listed.find((m) => m.id === ui.select.value) ?? null;

  /** The folder the model list has chosen: a bundled form, a catalogue entry, or the URL. */
  function chosenUrl(): string | null {
    const bundled = BUNDLED_FORMS.find((b) => b.id === ui.select.value);
    if (bundled) return new URL(bundled.path, location.href).href;
    if (ui.select.value === 'url') return settings().modelUrl || null;
    return chosenListed()?.url ?? null;
  }

  async function showNeeds() {
    const url = chosenUrl();
    const asked = ++needsAsked;
    if (!url) return void (ui.needs.textContent = '');
    const s = settings();
    const cache = cacheOf(s);
    // Tokens are at most the prompt's UTF-8 bytes plus the chat template's markers: a bound that
    // needs no tokenizer here, exact enough to show what a budget saves.
    const promptLength = new TextEncoder().encode(deps.settings.prompt()).length + 32;
    try {
      const e = await engine.estimate({ url, cache, promptLength });
      if (asked !== needsAsked) return; // a later choice answered first
      const mib = (n: number) => `${(n / 2 ** 20).toFixed(n < 2 ** 24 ? 2 : 0)} MiB`;
      const now = settings();
      const kv = cache ? `KV ${mib(e.kv)} (${now.policy}, ${now.mode} budget ${now.budget}, this prompt)` : `KV ${mib(e.kv)} (full cache)`;
      ui.needs.textContent = `Needs ${mib(e.total)} of GPU memory: weights ${mib(e.weights)}, ${kv}, working buffers ${mib(e.working)}.`;
    } catch {
      if (asked === needsAsked) ui.needs.textContent = ''; // config not reachable (offline, not downloaded): nothing to add
    }
  }

  function showChosen() {
    void showNeeds();
    const m = chosenListed();
    ui.info.textContent = m ? describeModel(m) : '';
    ui.download.hidden = m === null || m.cached?.state === 'complete';
    ui.download.disabled = downloads.busy;
    if (m) ui.download.textContent = m.cached?.state === 'partial' ? `Resume download (${downloadSize(m)}) and load` : `Download ${downloadSize(m)} and load`;
  }

  /**
   * The model list: the bundled model, the catalogue (web-llm's own chunk, imported after the first
   * paint) and whatever is downloaded (read from the Cache API, so it lists offline too).
   */
  async function refreshModels(selected = ui.select.value || settings().model) {
    listed = listModels(catalog, await listCachedModels().catch(() => []));
    const s = settings();
    const url = s.model === 'url' && s.modelUrl ? { label: `${urlName(s.modelUrl)} (from URL)` } : null;
    renderModelSelect(ui.select, BUNDLED_FORMS, listed, url, selected);
    renderCachedList(ui.cached, listed, (m) => void deleteModel(m), downloads.busy);
    showChosen();
  }

  async function deleteModel(m: ListedModel) {
    const files = await deleteCachedModel(m.url);
    const stays = model?.name === m.id ? '; it stays loaded until another model is chosen' : '';
    ui.downloadStatus.textContent = `Deleted ${m.id} (${files} files)${stays}.`;
    await refreshModels();
    updateStorage();
  }

  ui.download.addEventListener('click', async () => {
    const m = chosenListed();
    if (!m || downloads.busy) return;
    errors.hide();
    const running = downloads.run(m.url, m.id);
    await refreshModels(m.id); // Delete and Download stay disabled while it runs
    try {
      const complete = await running;
      await refreshModels(m.id);
      if (complete) chooseModel({ model: m.id });
    } catch (e) {
      errors.show(e);
      await refreshModels(m.id);
    }
    updateStorage();
  });

  /** Loads a model folder into the engine: the bundled one, or one the user named by URL. */
  async function loadModelFrom(url: string, name: string) {
    deps.setStartable(false);
    document.body.dataset.modelReady = 'false';
    const info = await engine.load({ url, name }, (p) => {
      ui.loadProgress.max = p.total || 1;
      ui.loadProgress.value = p.loaded;
      ui.status.textContent = `Loading ${name}: ${p.stage}…`;
    });
    model = info;
    loaded = { url, name };
    ui.loadProgress.value = ui.loadProgress.max;
    ui.status.textContent =
      `${info.name}: ${info.architecture}, ${info.numLayers} layers, ${info.numHeads}/${info.numKvHeads} heads, ` +
      `${(info.parameters / 1e6).toFixed(2)}M params on ${info.backend === 'gpu' ? 'WebGPU' : 'CPU'} (${info.adapter})`;
    deps.ready(info);
    document.body.dataset.modelReady = 'true';
    deps.setStartable(true);
    updateStorage();
  }

  async function loadChosen() {
    const s = settings();
    if (s.model === 'url' && s.modelUrl) {
      const name = urlName(s.modelUrl);
      if (![...ui.select.options].some((o) => o.value === 'url')) ui.select.append(new Option(`${name} (from URL)`, 'url'));
      ui.select.value = 'url';
      showChosen();
      await loadModelFrom(s.modelUrl, name);
      return;
    }
    const bundled = BUNDLED_FORMS.find((b) => b.id === s.model);
    if (bundled) {
      ui.select.value = bundled.id;
      showChosen();
      await loadModelFrom(new URL(bundled.path, location.href).href, bundled.id);
      return;
    }
    if (s.model !== BUNDLED.id) {
      // A downloaded catalogue model: the engine reads it from web-llm's cache.
      const m = listed.find((x) => x.id === s.model);
      if (m?.cached?.state === 'complete') {
        ui.select.value = m.id;
        showChosen();
        await loadModelFrom(m.url, m.id);
        return;
      }
      ui.downloadStatus.textContent = `${s.model} is not downloaded (any more); the bundled model is loaded instead.`;
      deps.settings.store({ ...s, model: BUNDLED.id });
    }
    ui.select.value = BUNDLED.id;
    showChosen();
    await loadModelFrom(new URL(BUNDLED.path, location.href).href, BUNDLED.id);
  }

  function chooseModel(next: Partial<Settings>) {
    const previous = settings();
    deps.settings.store({ ...previous, ...next });
    errors.hide();
    loadChosen().catch((e) => {
      ui.status.textContent = 'The model could not be loaded; the previous one stays.';
      errors.show(e);
      deps.settings.store(previous); // a reload must not retry a model that failed
      ui.select.value = previous.model;
      if (ui.select.value !== previous.model) ui.select.value = BUNDLED.id;
      showChosen();
      deps.setStartable(model !== null);
      document.body.dataset.modelReady = String(model !== null);
    });
  }

  ui.url.value = settings().modelUrl;
  ui.loadUrl.addEventListener('click', () => {
    const url = ui.url.value.trim();
    const checked = readSettings(new URL(`?modelUrl=${encodeURIComponent(url)}`, location.href), null).modelUrl;
    if (!url || checked !== url) return errors.show(new Error(`"${url}" is not an http(s) URL of a model folder.`));
    chooseModel({ model: 'url', modelUrl: url });
  });
  ui.select.addEventListener('change', () => {
    const m = chosenListed();
    // A model not (fully) downloaded waits for its Download button: no gigabytes on a mere selection.
    if (m && m.cached?.state !== 'complete') return showChosen();
    chooseModel({ model: ui.select.value });
  });

  return {
    model: () => model,
    start() {
      refreshModels(settings().model)
        .then(loadChosen)
        .catch((e) => {
          ui.status.textContent = 'The model could not be loaded.';
          errors.show(e);
        });
      ui.catalogStatus.textContent = 'Loading the model catalogue…';
      loadCatalog()
        .then((c) => {
          catalog = c.entries;
          ui.catalogStatus.textContent = `Catalogue: ${c.entries.length} models from web-llm's list that Crystal runs, and ours.`;
          document.body.dataset.catalog = String(c.entries.length);
          return refreshModels();
        })
        .catch((e) => {
          // Offline before web-llm's chunk was ever cached: downloaded models are listed all the same.
          ui.catalogStatus.textContent = `The catalogue could not be loaded (${e instanceof Error ? e.message : String(e)}); downloaded models are listed.`;
          document.body.dataset.catalog = '0';
        });
    },
    showNeeds,
    async reload() {
      if (!loaded) throw new Error('No model was loaded yet: choose one in the model list.');
      await loadModelFrom(loaded.url, loaded.name);
    },
    drop() {
      model = null;
      document.body.dataset.modelReady = 'false';
      ui.status.textContent = 'The GPU device was lost: press Reload model to load the model on a new device.';
    },
    showStorage: updateStorage,
  };
}
