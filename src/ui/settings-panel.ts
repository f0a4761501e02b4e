/**
 * The settings panel: every control bound to a setting (policy, budget, sampling, compare, the
 * watched layer and head, the chat's thinking switch), the typed fields and their errors, the
 * policy's info line, the prompt with its examples and checks, and Share. It holds the settings:
 * read from the URL and local storage, written back on every change (settings.ts).
 */
import { POLICY_CATALOG, type ModelInfo } from '../engine/interface.ts';
import type { FieldErrors } from './field-errors.ts';
import { FIELD_RULES, parseField, type RuledField } from './field-rules.ts';
import { readSettings, settingsUrl, writeSettings, type Settings } from './settings.ts';

type ListField = 'policy' | 'mode' | 'comparePolicy' | 'watchLayer' | 'watchHead';
/** A typed field for each ruled setting, a list for the others. */
export type SettingControls = Record<RuledField, HTMLInputElement> & Record<ListField, HTMLSelectElement>;
type BoundField = keyof SettingControls;

/** The bound settings in the page's order: the order fieldsReady() checks and reports them in. */
const BOUND: BoundField[] = ['policy', 'budget', 'mode', 'temperature', 'topP', 'seed', 'maxTokens', 'comparePolicy', 'compareBudget', 'watchLayer', 'watchHead'];
const isRuled = (key: keyof Settings): key is RuledField => key in FIELD_RULES;

export interface SettingsElements {
  controls: SettingControls;
  policySummary: HTMLElement;
  policyPaper: HTMLAnchorElement;
  prompt: HTMLTextAreaElement;
  example: HTMLButtonElement;
  share: HTMLButtonElement;
  thinking: HTMLInputElement;
  /** The page's status line: why a run did not start, what Share did. */
  status: HTMLElement;
}

export interface SettingsDeps {
  fieldErrors: FieldErrors;
  /** The eval prompts with their answers (JSON lines): the examples, and the check of a finished answer. */
  examplesUrl: URL;
  /** The policy, budget, mode or prompt changed: what the memory estimate depends on. */
  estimateChanged(): void;
  /** The watched KV head changed. */
  headChanged(head: number): void;
}

export interface SettingsPanel {
  /** The settings now: the object itself, which fitModel() narrows in place. */
  current(): Settings;
  /** Replaces the settings and stores them; no control is redrawn (the model list's choice). */
  store(next: Settings): void;
  /** One setting from a control: stored, and what shows it follows. */
  apply<K extends keyof Settings>(key: K, value: Settings[K]): void;
  prompt(): string;
  /** Every typed field checked again; false, said in the status line: nothing runs. */
  fieldsReady(): boolean;
  /** False for an empty prompt, said in the status line. */
  promptReady(): boolean;
  /** The example's answer to this prompt, when it is one. */
  expectedAnswer(prompt: string | undefined): string | undefined;
  /** The watch lists follow a loaded model's layers and KV heads. */
  fitModel(info: ModelInfo): void;
  /** Fetches the examples and fills the prompt (a shared link's prompt first). */
  loadExamples(): Promise<void>;
}

function fillSelect(select: HTMLSelectElement, options: { value: string; label: string }[], selected: string) {
  select.textContent = '';
  for (const o of options) select.append(new Option(o.label, o.value, false, o.value === selected));
}

/** The field's name as its label writes it (without the error line inside the label). */
const fieldName = (control: HTMLElement) => (control as HTMLInputElement).labels?.[0]?.firstChild?.textContent?.trim() || control.id;

export function createSettingsPanel(ui: SettingsElements, deps: SettingsDeps): SettingsPanel {
  const { fieldErrors } = deps;
  let settings: Settings = readSettings(new URL(location.href), localStorage);
  let examples: { prompt: string; answer: string }[] = [];
  let exampleIndex = 0;

  const policyOptions = POLICY_CATALOG.map((p) => ({ value: p.id, label: p.id }));
  fillSelect(ui.controls.policy, policyOptions, settings.policy);
  fillSelect(ui.controls.comparePolicy, policyOptions, settings.comparePolicy);

  function showPolicyInfo() {
    const info = POLICY_CATALOG.find((p) => p.id === settings.policy);
    ui.policySummary.textContent = info?.summary ?? '';
    ui.policyPaper.textContent = info?.paper ?? '';
    if (info?.url) ui.policyPaper.href = info.url;
    else ui.policyPaper.removeAttribute('href');
  }

  function apply<K extends keyof Settings>(key: K, value: Settings[K]) {
    if (settings[key] === value) return;
    settings = { ...settings, [key]: value };
    writeSettings(settings, localStorage);
    if (key === 'policy') showPolicyInfo();
    if (key === 'policy' || key === 'budget' || key === 'mode') deps.estimateChanged();
    if (key === 'watchHead') deps.headChanged(settings.watchHead);
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
    apply(key, value);
    return true;
  }

  // Every control mirrors one setting; a change is stored and put in the URL at once.
  for (const key of BOUND) {
    const control = ui.controls[key];
    control.value = String(settings[key]);
    if (isRuled(key)) {
      const input = ui.controls[key];
      input.addEventListener('change', () => checkRuled(input, key));
      // Once marked, the mark goes as soon as the text is fixed (not while a first value is typed).
      input.addEventListener('input', () => input.hasAttribute('aria-invalid') && checkRuled(input, key));
      continue;
    }
    control.addEventListener('change', () => {
      const next = readSettings(new URL(`?${key}=${encodeURIComponent(control.value)}`, location.href), null);
      apply(key, next[key]);
      control.value = String(settings[key]); // a list holds only good values: this never moves
    });
  }
  showPolicyInfo();
  writeSettings(settings, localStorage);
  ui.thinking.checked = settings.thinking === 'on';
  ui.thinking.addEventListener('change', () => apply('thinking', ui.thinking.checked ? 'on' : 'off'));

  /**
   * Before a run: every typed field is checked again (a value typed without a change event counts
   * too). False, with the reason in the status line and focus on the first bad field: nothing runs.
   */
  function fieldsReady(): boolean {
    for (const key of BOUND) if (isRuled(key)) checkRuled(ui.controls[key], key);
    const bad = fieldErrors.current().filter(({ control }) => control.tagName === 'INPUT');
    if (bad.length === 0) return true;
    ui.status.textContent = `Not started: ${bad.map(({ control, message }) => `${fieldName(control)}: ${message}`).join(' ')}`;
    bad[0].control.focus();
    return false;
  }

  /** An empty prompt is refused here, before the engine is asked (which would refuse it too). */
  function promptReady(): boolean {
    if (ui.prompt.value.trim() !== '') return true;
    fieldErrors.set(ui.prompt, 'Must be a non-empty string: write a prompt.');
    ui.status.textContent = 'Not started: the prompt is empty.';
    ui.prompt.focus();
    return false;
  }
  ui.prompt.addEventListener('input', () => ui.prompt.value.trim() !== '' && fieldErrors.set(ui.prompt, null));
  ui.prompt.addEventListener('change', () => deps.estimateChanged());

  ui.example.addEventListener('click', () => {
    if (examples.length === 0) return;
    exampleIndex = (exampleIndex + 1) % examples.length;
    ui.prompt.value = examples[exampleIndex].prompt;
    fieldErrors.set(ui.prompt, null);
    deps.estimateChanged();
  });
  ui.share.addEventListener('click', async () => {
    const url = settingsUrl(new URL(location.href), settings, ui.prompt.value).href;
    history.replaceState(null, '', url);
    await navigator.clipboard?.writeText(url).catch(() => {});
    ui.status.textContent = 'Link to these settings and this prompt copied (and in the address bar).';
  });

  return {
    current: () => settings,
    store(next) {
      settings = next;
      writeSettings(settings, localStorage);
    },
    apply,
    prompt: () => ui.prompt.value,
    fieldsReady,
    promptReady,
    expectedAnswer: (prompt) => examples.find((e) => e.prompt === prompt)?.answer,
    fitModel(info) {
      const count = (n: number, label: string) => Array.from({ length: n }, (_, i) => ({ value: String(i), label: `${label} ${i}` }));
      settings.watchLayer = Math.min(settings.watchLayer, info.numLayers - 1);
      settings.watchHead = Math.min(settings.watchHead, info.numKvHeads - 1);
      fillSelect(ui.controls.watchLayer, count(info.numLayers, 'layer'), String(settings.watchLayer));
      fillSelect(ui.controls.watchHead, count(info.numKvHeads, 'KV head'), String(settings.watchHead));
    },
    async loadExamples() {
      const response = await fetch(deps.examplesUrl);
      examples = (await response.text())
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as { prompt: string; answer: string });
      const shared = new URL(location.href).searchParams.get('prompt');
      ui.prompt.value = shared ?? examples[0]?.prompt ?? '';
      deps.estimateChanged();
    },
  };
}
