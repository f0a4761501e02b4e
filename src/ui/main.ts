/**
 * The page: choose a model, a policy and its budget, run a reasoning prompt in the worker engine,
 * and watch the think stage stream beside the cache's occupancy and one head's attention; or run
 * the same prompt under two settings side by side, or chat over several turns. It codes against
 * the Engine interface only.
 */
import { deleteCachedModel, listCachedModels } from '../catalog/storage.ts';
import { loadCatalog, type CatalogEntry } from '../catalog/records.ts';
import { createWorkerEngine } from '../engine/client.ts';
import type { Engine } from '../engine/engine.ts';
import { POLICY_CATALOG } from '../engine/policy-catalog.ts';
import type { GenerateRequest, GenerationResult, ModelInfo } from '../engine/types.ts';
import { renderCachedList } from './cached-list.ts';
import { createChat } from './chat.ts';
import { createCompareCard, type RunSummary } from './compare.ts';
import { showCrystalMap } from './crystal-map.ts';
import { createDownloadView } from './download-view.ts';
import { createErrorView } from './error-view.ts';
import { createFieldErrors } from './field-errors.ts';
import { FIELD_RULES, parseField, type RuledField } from './field-rules.ts';
import { createHeatmap } from './heatmap.ts';
import { streamRun } from './live-run.ts';
import { describeModel, downloadSize, listModels, renderModelSelect, type ListedModel } from './model-list.ts';
import { createOccupancyView } from './occupancy.ts';
import { readSettings, settingsUrl, writeSettings, type Settings } from './settings.ts';
import { enableOffline } from './offline.ts';
import { enablePersist, showStorage } from './storage.ts';
import { createTranscript } from './transcript.ts';

const BUNDLED = { id: 'tiny-reasoner-qwen3', label: 'tiny-reasoner-qwen3 (bundled, 1M params)', path: 'models/tiny-reasoner-qwen3/' };
/** The bundled model in every form it ships in: its Hugging Face folder, and our MLC conversions. */
const BUNDLED_FORMS = [
  BUNDLED,
  { id: 'tiny-reasoner-qwen3-q4f32_1-MLC', label: 'tiny-reasoner-qwen3, MLC q4f32_1 (bundled, 4-bit)', path: 'models/tiny-reasoner-qwen3-q4f32_1-MLC/' },
  { id: 'tiny-reasoner-qwen3-q0f32-MLC', label: 'tiny-reasoner-qwen3, MLC q0f32 (bundled)', path: 'models/tiny-reasoner-qwen3-q0f32-MLC/' },
];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const promptBox = $<HTMLTextAreaElement>('prompt');
const runButton = $<HTMLButtonElement>('run');
const stopButton = $<HTMLButtonElement>('stop');
const compareButton = $<HTMLButtonElement>('compare');
const sendButton = $<HTMLButtonElement>('chat-send');
const newChatButton = $<HTMLButtonElement>('chat-new');
/** What starts a generation, and what stops one: enabled and disabled together. */
const startButtons = [runButton, compareButton, sendButton, newChatButton];
const stopButtons = [stopButton, $<HTMLButtonElement>('chat-stop')];
const genStatus = $('gen-status');
const transcript = createTranscript($('think-text'), $('answer-text'), $('think-count'));
const occupancy = createOccupancyView($('occupancy'), $('occupancy-summary'));
const heatmap = createHeatmap($<HTMLCanvasElement>('heatmap'), $('heatmap-tip'));
const fieldErrors = createFieldErrors();

let settings: Settings = readSettings(new URL(location.href), localStorage);
let model: ModelInfo | null = null;
/** The folder the model was loaded from, for Reload model after a lost device. */
let loaded: { url: string; name: string } | null = null;

const setStartable = (enabled: boolean) => startButtons.forEach((b) => (b.disabled = !enabled));

function fillSelect(select: HTMLSelectElement, options: { value: string; label: string }[], selected: string) {
  select.textContent = '';
  for (const o of options) select.append(new Option(o.label, o.value, false, o.value === selected));
}

const policyOptions = POLICY_CATALOG.map((p) => ({ value: p.id, label: p.id }));
fillSelect($('policy'), policyOptions, settings.policy);
fillSelect($('compare-policy'), policyOptions, settings.comparePolicy);

function showPolicyInfo() {
  const info = POLICY_CATALOG.find((p) => p.id === settings.policy);
  $('policy-summary').textContent = info?.summary ?? '';
  const link = $<HTMLAnchorElement>('policy-paper');
  link.textContent = info?.paper ?? '';
  if (info?.url) link.href = info.url;
  else link.removeAttribute('href');
}

/** Every control mirrors one setting; a change is stored and put in the URL at once. */
const BINDINGS: [string, keyof Settings][] = [
  ['policy', 'policy'],
  ['budget', 'budget'],
  ['mode', 'mode'],
  ['temperature', 'temperature'],
  ['top-p', 'topP'],
  ['seed', 'seed'],
  ['max-tokens', 'maxTokens'],
  ['compare-policy', 'comparePolicy'],
  ['compare-budget', 'compareBudget'],
  ['watch-layer', 'watchLayer'],
  ['watch-head', 'watchHead'],
];
const isRuled = (key: keyof Settings): key is RuledField => key in FIELD_RULES;

function applySetting(key: keyof Settings, value: Settings[keyof Settings]) {
  if (settings[key] === value) return;
  settings = { ...settings, [key]: value };
  writeSettings(settings, localStorage);
  if (key === 'policy') showPolicyInfo();
  if (key === 'policy' || key === 'budget' || key === 'mode') void showNeeds();
  if (key === 'watchHead') heatmap.setHead(settings.watchHead);
}

/**
 * A typed number field: a value the engine accepts becomes the setting; any other stays in the
 * field, marked with what is allowed, and the setting keeps its last good value. False: invalid.
 */
function checkRuled(control: HTMLInputElement, key: RuledField): boolean {
  const value = parseField(key, control.value);
  if (value === null) {
    const got = control.value.trim() === '' ? '' : `; got ${control.value}`;
    fieldErrors.set(control, `Must be ${FIELD_RULES[key].allowed}${got}.`);
    return false;
  }
  fieldErrors.set(control, null);
  applySetting(key, value);
  return true;
}

for (const [id, key] of BINDINGS) {
  const control = $<HTMLInputElement | HTMLSelectElement>(id);
  control.value = String(settings[key]);
  if (isRuled(key)) {
    const input = control as HTMLInputElement;
    input.addEventListener('change', () => checkRuled(input, key));
    // Once marked, the mark goes as soon as the text is fixed (not while a first value is typed).
    input.addEventListener('input', () => input.hasAttribute('aria-invalid') && checkRuled(input, key));
    continue;
  }
  control.addEventListener('change', () => {
    const next = readSettings(new URL(`?${key}=${encodeURIComponent(control.value)}`, location.href), null);
    applySetting(key, next[key]);
    control.value = String(settings[key]); // a list holds only good values: this never moves
  });
}
showPolicyInfo();
writeSettings(settings, localStorage);

/** The field's name as its label writes it (without the error line inside the label). */
const fieldName = (control: HTMLElement) => (control as HTMLInputElement).labels?.[0]?.firstChild?.textContent?.trim() || control.id;

/**
 * Before a run: every typed field is checked again (a value typed without a change event counts
 * too). False, with the reason in the status line and focus on the first bad field: nothing runs.
 */
function fieldsReady(): boolean {
  for (const [id, key] of BINDINGS) if (isRuled(key)) checkRuled($<HTMLInputElement>(id), key);
  const bad = fieldErrors.current().filter(({ control }) => control.tagName === 'INPUT');
  if (bad.length === 0) return true;
  genStatus.textContent = `Not started: ${bad.map(({ control, message }) => `${fieldName(control)}: ${message}`).join(' ')}`;
  bad[0].control.focus();
  return false;
}

/** An empty prompt is refused here, before the engine is asked (which would refuse it too). */
function promptReady(): boolean {
  if (promptBox.value.trim() !== '') return true;
  fieldErrors.set(promptBox, 'Must be a non-empty string: write a prompt.');
  genStatus.textContent = 'Not started: the prompt is empty.';
  promptBox.focus();
  return false;
}
promptBox.addEventListener('input', () => promptBox.value.trim() !== '' && fieldErrors.set(promptBox, null));

const errors = createErrorView($('error'), $<HTMLButtonElement>('reload-model'), async () => {
  if (!loaded) throw new Error('No model was loaded yet: choose one in the model list.');
  await loadModelFrom(loaded.url, loaded.name);
  genStatus.textContent = 'The model was loaded again: run when ready.';
});
const showError = (e: unknown) => errors.show(e);

/** Eval prompts with their answers: the examples, and the check of a finished answer. */
let examples: { prompt: string; answer: string }[] = [];
let exampleIndex = 0;
async function loadExamples() {
  const response = await fetch(new URL(BUNDLED.path + 'eval.jsonl', location.href));
  examples = (await response.text())
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { prompt: string; answer: string });
  const shared = new URL(location.href).searchParams.get('prompt');
  promptBox.value = shared ?? examples[0]?.prompt ?? '';
  void showNeeds();
}
$('example').addEventListener('click', () => {
  if (examples.length === 0) return;
  exampleIndex = (exampleIndex + 1) % examples.length;
  promptBox.value = examples[exampleIndex].prompt;
  fieldErrors.set(promptBox, null);
  void showNeeds();
});
$('share').addEventListener('click', async () => {
  const url = settingsUrl(new URL(location.href), settings, promptBox.value).href;
  history.replaceState(null, '', url);
  await navigator.clipboard?.writeText(url).catch(() => {});
  genStatus.textContent = 'Link to these settings and this prompt copied (and in the address bar).';
});

const engine: Engine = createWorkerEngine();

const persistButton = $<HTMLButtonElement>('persist');
const updateStorage = () => void showStorage($('storage'), persistButton);
enablePersist(persistButton, $('storage'));

/**
 * The model list: the bundled model, the catalogue (web-llm's own chunk, imported after the first
 * paint) and whatever is downloaded (read from the Cache API, so it lists offline too).
 */
const modelSelect = $<HTMLSelectElement>('model');
const downloads = createDownloadView($<HTMLProgressElement>('download-progress'), $('download-status'), $<HTMLButtonElement>('download-cancel'));
let catalog: CatalogEntry[] = [];
let listed: ListedModel[] = [];
const urlName = (url: string) => new URL(url).pathname.split('/').filter(Boolean).pop() ?? 'model';
const chosenListed = () => listed.find((m) => m.id === modelSelect.value) ?? null;

/** The folder the model list has chosen: a bundled form, a catalogue entry, or the URL. */
function chosenUrl(): string | null {
  const bundled = BUNDLED_FORMS.find((b) => b.id === modelSelect.value);
  if (bundled) return new URL(bundled.path, location.href).href;
  if (modelSelect.value === 'url') return settings.modelUrl || null;
  return chosenListed()?.url ?? null;
}

/** What the chosen model needs on the GPU at the chosen policy and budget, before it is loaded. */
let needsAsked = 0;
async function showNeeds() {
  const url = chosenUrl();
  const asked = ++needsAsked;
  const line = $('model-needs');
  if (!url) return void (line.textContent = '');
  const cache = settings.policy === 'full' ? undefined : { policy: settings.policy, budget: settings.budget, mode: settings.mode };
  // Tokens are at most the prompt's UTF-8 bytes plus the chat template's markers: a bound that
  // needs no tokenizer here, exact enough to show what a budget saves.
  const promptLength = new TextEncoder().encode(promptBox.value).length + 32;
  try {
    const e = await engine.estimate({ url, cache, promptLength });
    if (asked !== needsAsked) return; // a later choice answered first
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(n < 2 ** 24 ? 2 : 0)} MiB`;
    const kv = cache ? `KV ${mib(e.kv)} (${settings.policy}, ${settings.mode} budget ${settings.budget}, this prompt)` : `KV ${mib(e.kv)} (full cache)`;
    line.textContent = `Needs ${mib(e.total)} of GPU memory: weights ${mib(e.weights)}, ${kv}, working buffers ${mib(e.working)}.`;
  } catch {
    if (asked === needsAsked) line.textContent = ''; // config not reachable (offline, not downloaded): nothing to add
  }
}

function showChosen() {
  void showNeeds();
  const m = chosenListed();
  $('model-info').textContent = m ? describeModel(m) : '';
  const button = $<HTMLButtonElement>('download');
  button.hidden = m === null || m.cached?.state === 'complete';
  button.disabled = downloads.busy;
  if (m) button.textContent = m.cached?.state === 'partial' ? `Resume download (${downloadSize(m)}) and load` : `Download ${downloadSize(m)} and load`;
}

async function refreshModels(selected = modelSelect.value || settings.model) {
  listed = listModels(catalog, await listCachedModels().catch(() => []));
  const url = settings.model === 'url' && settings.modelUrl ? { label: `${urlName(settings.modelUrl)} (from URL)` } : null;
  renderModelSelect(modelSelect, BUNDLED_FORMS, listed, url, selected);
  renderCachedList($('cached-models'), listed, (m) => void deleteModel(m), downloads.busy);
  showChosen();
}

async function deleteModel(m: ListedModel) {
  const files = await deleteCachedModel(m.url);
  const loaded = model?.name === m.id ? '; it stays loaded until another model is chosen' : '';
  $('download-status').textContent = `Deleted ${m.id} (${files} files)${loaded}.`;
  await refreshModels();
  updateStorage();
}

$('download').addEventListener('click', async () => {
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
    showError(e);
    await refreshModels(m.id);
  }
  updateStorage();
});

/** Loads a model folder into the engine: the bundled one, or one the user named by URL. */
async function loadModelFrom(url: string, name: string) {
  setStartable(false);
  document.body.dataset.modelReady = 'false';
  const info = await engine.load({ url, name }, (p) => {
    const bar = $<HTMLProgressElement>('load-progress');
    bar.max = p.total || 1;
    bar.value = p.loaded;
    $('model-status').textContent = `Loading ${name}: ${p.stage}…`;
  });
  model = info;
  loaded = { url, name };
  $<HTMLProgressElement>('load-progress').value = $<HTMLProgressElement>('load-progress').max;
  $('model-status').textContent =
    `${info.name}: ${info.architecture}, ${info.numLayers} layers, ${info.numHeads}/${info.numKvHeads} heads, ` +
    `${(info.parameters / 1e6).toFixed(2)}M params on ${info.backend === 'gpu' ? 'WebGPU' : 'CPU'} (${info.adapter})`;
  const count = (n: number, label: string) => Array.from({ length: n }, (_, i) => ({ value: String(i), label: `${label} ${i}` }));
  settings.watchLayer = Math.min(settings.watchLayer, info.numLayers - 1);
  settings.watchHead = Math.min(settings.watchHead, info.numKvHeads - 1);
  fillSelect($('watch-layer'), count(info.numLayers, 'layer'), String(settings.watchLayer));
  fillSelect($('watch-head'), count(info.numKvHeads, 'KV head'), String(settings.watchHead));
  occupancy.reset(info.numLayers, info.numKvHeads);
  document.body.dataset.modelReady = 'true';
  setStartable(true);
  updateStorage();
}

async function loadChosen() {
  if (settings.model === 'url' && settings.modelUrl) {
    const name = urlName(settings.modelUrl);
    if (![...modelSelect.options].some((o) => o.value === 'url')) modelSelect.append(new Option(`${name} (from URL)`, 'url'));
    modelSelect.value = 'url';
    showChosen();
    await loadModelFrom(settings.modelUrl, name);
    return;
  }
  const bundled = BUNDLED_FORMS.find((b) => b.id === settings.model);
  if (bundled) {
    modelSelect.value = bundled.id;
    showChosen();
    await loadModelFrom(new URL(bundled.path, location.href).href, bundled.id);
    return;
  }
  if (settings.model !== BUNDLED.id) {
    // A downloaded catalogue model: the engine reads it from web-llm's cache.
    const m = listed.find((x) => x.id === settings.model);
    if (m?.cached?.state === 'complete') {
      modelSelect.value = m.id;
      showChosen();
      await loadModelFrom(m.url, m.id);
      return;
    }
    $('download-status').textContent = `${settings.model} is not downloaded (any more); the bundled model is loaded instead.`;
    settings = { ...settings, model: BUNDLED.id };
    writeSettings(settings, localStorage);
  }
  modelSelect.value = BUNDLED.id;
  showChosen();
  await loadModelFrom(new URL(BUNDLED.path, location.href).href, BUNDLED.id);
}

function chooseModel(next: Partial<Settings>) {
  const previous = settings;
  settings = { ...settings, ...next };
  writeSettings(settings, localStorage);
  errors.hide();
  loadChosen().catch((e) => {
    $('model-status').textContent = 'The model could not be loaded; the previous one stays.';
    showError(e);
    settings = previous; // a reload must not retry a model that failed
    writeSettings(settings, localStorage);
    modelSelect.value = settings.model;
    if (modelSelect.value !== settings.model) modelSelect.value = BUNDLED.id;
    showChosen();
    setStartable(model !== null);
    document.body.dataset.modelReady = String(model !== null);
  });
}

$<HTMLInputElement>('model-url').value = settings.modelUrl;
$('load-url').addEventListener('click', () => {
  const url = $<HTMLInputElement>('model-url').value.trim();
  const checked = readSettings(new URL(`?modelUrl=${encodeURIComponent(url)}`, location.href), null).modelUrl;
  if (!url || checked !== url) return showError(new Error(`"${url}" is not an http(s) URL of a model folder.`));
  chooseModel({ model: 'url', modelUrl: url });
});
promptBox.addEventListener('change', () => void showNeeds());
modelSelect.addEventListener('change', () => {
  const m = chosenListed();
  // A model not (fully) downloaded waits for its Download button: no gigabytes on a mere selection.
  if (m && m.cached?.state !== 'complete') return showChosen();
  chooseModel({ model: modelSelect.value });
});

/** What every generation takes from the settings: length, sampling, cache and the telemetry the views draw. */
function settingsRequest(s: Settings, budget: number, policy: string): Omit<GenerateRequest, 'prompt' | 'messages'> {
  return {
    maxNewTokens: s.maxTokens,
    sampling: { temperature: s.temperature, topP: s.topP, seed: s.seed },
    cache: policy === 'full' ? undefined : { policy, budget, mode: s.mode },
    telemetry: { watchLayer: s.watchLayer },
  };
}

function request(s: Settings, budget: number, policy: string): GenerateRequest {
  return { prompt: promptBox.value, ...settingsRequest(s, budget, policy) };
}

const liveViews = { occupancy, heatmap, status: genStatus };

function showStats(r: GenerationResult, peakBytes: number) {
  const stats = $('stats');
  stats.textContent = '';
  const rows: [string, string][] = [
    ['tokens/s', r.tokensPerSecond.toFixed(1)],
    ['first token', `${r.timeToFirstTokenMs.toFixed(0)} ms`],
    ['think length', `${r.thinkTokens} tokens`],
    ['</think> reached', r.closedThink ? 'yes' : 'no'],
    ['peak KV held', `${(peakBytes / 2 ** 20).toFixed(3)} MiB`],
    ['stopped', r.stopReason],
  ];
  for (const [term, value] of rows) stats.append(Object.assign(document.createElement('dt'), { textContent: term }), Object.assign(document.createElement('dd'), { textContent: value }));
}

/** One generation drawn into the live views; resolves with what the compare cards show. */
async function runOnce(req: GenerateRequest, label: string): Promise<RunSummary> {
  transcript.clear();
  $('prompt-echo').textContent = req.prompt ?? ''; // as text: a prompt may hold markup
  $('stats').textContent = '';
  $('crystal-map').textContent = '';
  const { result: r, peakBytes, kept } = await streamRun(engine, liveViews, model!, req, transcript, { label, watchHead: settings.watchHead });
  $('think-count').textContent = `(${r.thinkTokens} tokens)`;
  showStats(r, peakBytes);
  genStatus.textContent = `${label}: ${r.generatedIds.length} tokens${r.closedThink ? '' : ', </think> not reached'}, stopped: ${r.stopReason}`;
  document.body.dataset.lastStop = r.stopReason;
  if (r.closedThink && r.stopReason === 'eos') {
    showCrystalMap($('crystal-map'), await engine.analyzeAnswer(req, r.generatedIds), kept, label);
  }
  const expected = examples.find((e) => e.prompt === req.prompt)?.answer;
  return { label, result: r, peakBytes, correct: expected === undefined ? null : r.answer === expected };
}

function describeRun(s: Settings, policy: string, budget: number): string {
  return policy === 'full' ? 'full cache' : `${policy}, budget ${budget} (${s.mode})`;
}

/**
 * Runs one generation's work with the page locked to it. An error is shown as text and leaves
 * the page usable; a lost device also drops the model (the engine did), until Reload model.
 */
async function guarded(work: () => Promise<void>) {
  errors.hide();
  setStartable(false);
  stopButtons.forEach((b) => (b.disabled = false));
  document.body.dataset.generating = 'true';
  try {
    await work();
  } catch (e) {
    showError(e);
    genStatus.textContent = 'Generation failed.';
    if (errors.deviceLost) {
      model = null;
      document.body.dataset.modelReady = 'false';
      $('model-status').textContent = 'The GPU device was lost: press Reload model to load the model on a new device.';
      genStatus.textContent = 'Generation failed: the GPU device was lost. The transcript so far is kept.';
    }
  } finally {
    setStartable(model !== null);
    stopButtons.forEach((b) => (b.disabled = true));
    document.body.dataset.generating = 'false';
    updateStorage();
  }
}

/** The checks before a single-prompt run: its fields and its prompt, each refused with a message. */
const runnable = () => fieldsReady() && promptReady();

runButton.addEventListener('click', () =>
  runnable() &&
  guarded(async () => {
    $('compare-view').hidden = true;
    await runOnce(request(settings, settings.budget, settings.policy), describeRun(settings, settings.policy, settings.budget));
  }),
);

compareButton.addEventListener('click', () =>
  runnable() &&
  guarded(async () => {
    const view = $('compare-view');
    view.hidden = false;
    view.dataset.done = 'false';
    const s = { ...settings };
    const a = $('compare-a');
    const b = $('compare-b');
    a.textContent = b.textContent = '';
    createCompareCard(a, await runOnce(request(s, s.budget, s.policy), describeRun(s, s.policy, s.budget)));
    if (document.body.dataset.lastStop === 'aborted') return;
    createCompareCard(b, await runOnce(request(s, s.compareBudget, s.comparePolicy), describeRun(s, s.comparePolicy, s.compareBudget)));
    view.dataset.done = 'true';
  }),
);

stopButtons.forEach((b) => b.addEventListener('click', () => void engine.abort()));

createChat(
  {
    conversation: $('conversation'),
    system: $<HTMLTextAreaElement>('chat-system'),
    thinking: $<HTMLInputElement>('chat-thinking'),
    message: $<HTMLTextAreaElement>('chat-message'),
    send: sendButton,
    newChat: newChatButton,
    status: genStatus,
  },
  {
    engine,
    fieldErrors,
    settingsRequest: () => (fieldsReady() ? settingsRequest(settings, settings.budget, settings.policy) : null),
    stream: (req, turn, label) => streamRun(engine, liveViews, model!, req, turn, { label, watchHead: settings.watchHead }),
    guarded,
  },
);

/** The runner or the chat, one at a time (style.css hides the other by body[data-view]). */
function showView() {
  document.body.dataset.view = settings.view;
  $<HTMLInputElement>(`view-${settings.view}`).checked = true;
}
for (const view of ['prompt', 'chat'] as const) {
  $(`view-${view}`).addEventListener('change', () => {
    applySetting('view', view);
    showView();
  });
}
showView();
const thinkingSwitch = $<HTMLInputElement>('chat-thinking');
thinkingSwitch.checked = settings.thinking === 'on';
thinkingSwitch.addEventListener('change', () => applySetting('thinking', thinkingSwitch.checked ? 'on' : 'off'));

loadExamples().catch(showError);
enableOffline($('offline'))
  .then(updateStorage)
  .catch((e) => ($('offline').textContent = `Offline use unavailable: ${e instanceof Error ? e.message : String(e)}`));
refreshModels(settings.model)
  .then(loadChosen)
  .catch((e) => {
    $('model-status').textContent = 'The model could not be loaded.';
    showError(e);
  });
$('catalog-status').textContent = 'Loading the model catalogue…';
loadCatalog()
  .then((c) => {
    catalog = c.entries;
    $('catalog-status').textContent = `Catalogue: ${c.entries.length} models from web-llm's list that Crystal runs, and ours.`;
    document.body.dataset.catalog = String(c.entries.length);
    return refreshModels();
  })
  .catch((e) => {
    // Offline before web-llm's chunk was ever cached: downloaded models are listed all the same.
    $('catalog-status').textContent = `The catalogue could not be loaded (${e instanceof Error ? e.message : String(e)}); downloaded models are listed.`;
    document.body.dataset.catalog = '0';
  });
