/**
 * The page's choices: read from the URL first (a shared link reproduces a run), then from local
 * storage (a reload keeps them), then the defaults; every value is checked, a bad one falls back.
 * Written back to both on every change. The prompt itself stays out of the URL unless shared.
 * (A bad value typed into a field is not read here: the field says what is allowed, field-errors.ts.)
 */
import { evictionSpec, type CacheConfig } from '../engine/interface.ts';
import { parseField, type RuledField } from './field-rules.ts';

export type BudgetMode = 'all' | 'think';

export interface Settings {
  /** The bundled model's id, or 'url' for modelUrl. */
  model: string;
  /** A Hugging Face model folder the engine loads (model 'url'). */
  modelUrl: string;
  policy: string;
  budget: number;
  mode: BudgetMode;
  /** 0: greedy. */
  temperature: number;
  topP: number;
  seed: number;
  maxTokens: number;
  watchLayer: number;
  watchHead: number;
  /** The second run of compare mode. */
  comparePolicy: string;
  compareBudget: number;
  /** The single-prompt runner or the chat. */
  view: 'prompt' | 'chat';
  /** Chat turns think first (the template's enable_thinking). */
  thinking: 'on' | 'off';
}

export const DEFAULT_SETTINGS: Settings = {
  model: 'tiny-reasoner-qwen3',
  modelUrl: '',
  policy: 'crystal',
  budget: 64,
  mode: 'think',
  temperature: 0,
  topP: 1,
  seed: 0,
  maxTokens: 512,
  watchLayer: 0,
  watchHead: 0,
  comparePolicy: 'h2o',
  compareBudget: 64,
  view: 'prompt',
  thinking: 'on',
};

const STORAGE_KEY = 'crystal.settings';

type Check = (v: string) => string | number | null;
const int = (lo: number, hi: number): Check => (v) => (/^\d+$/.test(v) && +v >= lo && +v <= hi ? +v : null);
/** A typed number field: what the engine accepts (field-rules.ts). */
const ruled = (key: RuledField): Check => (v) => parseField(key, v);
const word: Check = (v) => (/^[\w.-]{1,64}$/.test(v) ? v : null);

const httpUrl: Check = (v) => {
  try {
    return v === '' || ['http:', 'https:'].includes(new URL(v).protocol) ? v : null;
  } catch {
    return null;
  }
};

const CHECKS: Record<keyof Settings, Check> = {
  model: word,
  modelUrl: httpUrl,
  policy: word,
  budget: ruled('budget'),
  mode: (v) => (v === 'all' || v === 'think' ? v : null),
  temperature: ruled('temperature'),
  topP: ruled('topP'),
  seed: ruled('seed'),
  maxTokens: ruled('maxTokens'),
  watchLayer: int(0, 1024),
  watchHead: int(0, 1024),
  comparePolicy: word,
  compareBudget: ruled('compareBudget'),
  view: (v) => (v === 'prompt' || v === 'chat' ? v : null),
  thinking: (v) => (v === 'on' || v === 'off' ? v : null),
};

function merge(into: Settings, source: (key: string) => string | null | undefined): void {
  for (const key of Object.keys(CHECKS) as (keyof Settings)[]) {
    const raw = source(key);
    if (raw === null || raw === undefined) continue;
    const value = CHECKS[key](String(raw));
    if (value !== null) (into as unknown as Record<string, string | number>)[key] = value;
  }
}

/** Defaults, then local storage, then the URL's query. */
export function readSettings(url: URL, storage: Storage | null): Settings {
  const s = { ...DEFAULT_SETTINGS };
  try {
    const stored = JSON.parse(storage?.getItem(STORAGE_KEY) ?? '{}') as Record<string, unknown>;
    merge(s, (k) => (stored[k] === undefined ? null : String(stored[k])));
  } catch {
    // unreadable storage: keep the defaults
  }
  merge(s, (k) => url.searchParams.get(k));
  return s;
}

/** The URL that reproduces these settings (and the prompt, when given). */
export function settingsUrl(base: URL, s: Settings, prompt?: string): URL {
  const url = new URL(base.href);
  url.search = '';
  for (const [k, v] of Object.entries(s)) url.searchParams.set(k, String(v));
  if (prompt !== undefined) url.searchParams.set('prompt', prompt);
  return url;
}

export function writeSettings(s: Settings, storage: Storage | null): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(s));
  } catch {
    // storage full or blocked: the URL still carries the choice
  }
  history.replaceState(null, '', settingsUrl(new URL(location.href), s, new URL(location.href).searchParams.get('prompt') ?? undefined));
}

/** The cache config these settings ask for with `policy` at `budget`; none for the full cache (the engine's evictionSpec decides). */
export function cacheOf(s: Settings, policy = s.policy, budget = s.budget): CacheConfig | undefined {
  const cache = { policy, budget, mode: s.mode };
  return evictionSpec(cache) ? cache : undefined;
}
