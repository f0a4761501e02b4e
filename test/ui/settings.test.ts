import { expect, test } from 'vitest';
import { DEFAULT_SETTINGS, readSettings, settingsUrl } from '../../src/ui/settings.ts';

// The page's settings: the URL wins over local storage, which wins over the defaults, and a bad
// value (wrong type, out of range, markup) falls back instead of reaching the engine.
function storage(values: Record<string, unknown>): Storage {
  const text = JSON.stringify(values);
  return { getItem: () => text } as unknown as Storage;
}

test('URL over storage over defaults', () => {
  const s = readSettings(new URL('http://x/?policy=h2o&budget=80'), storage({ policy: 'tova', mode: 'all', budget: 40 }));
  expect(s).toEqual({ ...DEFAULT_SETTINGS, policy: 'h2o', budget: 80, mode: 'all' });
});

test('bad values fall back', () => {
  const url = new URL('http://x/');
  for (const [k, v] of [['budget', '-3'], ['budget', '1.5'], ['policy', '<img src=x>'], ['mode', 'most'], ['temperature', 'NaN'], ['topP', '0'], ['modelUrl', 'javascript:alert(1)']]) {
    url.searchParams.set(k, v);
  }
  expect(readSettings(url, storage({ budget: 'lots' }))).toEqual(DEFAULT_SETTINGS);
  expect(readSettings(new URL('http://x/'), { getItem: () => '{not json' } as unknown as Storage)).toEqual(DEFAULT_SETTINGS);
});

test('a shared URL reproduces the settings and carries the prompt', () => {
  const s = { ...DEFAULT_SETTINGS, policy: 'r-kv', temperature: 0.7, modelUrl: 'https://example.org/m/', model: 'url' };
  const url = settingsUrl(new URL('http://x/?stale=1'), s, 'a=1\n? a');
  expect(readSettings(url, null)).toEqual(s);
  expect(url.searchParams.get('prompt')).toBe('a=1\n? a');
  expect(url.searchParams.has('stale')).toBe(false);
});
