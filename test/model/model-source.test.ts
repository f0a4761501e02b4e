import { describe, expect, test } from 'vitest';
import { urlModelSource } from '../../src/model/model-source.ts';

describe('urlModelSource', () => {
  const serve = (files: Record<string, string>, spaFallback: boolean): typeof fetch =>
    (async (input: RequestInfo | URL) => {
      const name = String(input).split('/').pop()!;
      if (name in files) return new Response(files[name], { headers: { 'content-type': 'application/json' } });
      return spaFallback ? new Response('<!doctype html><title>app</title>', { headers: { 'content-type': 'text/html' } }) : new Response('', { status: 404 });
    }) as typeof fetch;

  for (const spaFallback of [false, true]) {
    test(`a missing file is null whether the server says 404 or serves its index page (${spaFallback ? 'index page' : '404'})`, async () => {
      const source = urlModelSource('https://example.test/model', serve({ 'config.json': '{"a":1}' }, spaFallback));
      expect(new TextDecoder().decode((await source.read('config.json'))!)).toBe('{"a":1}');
      expect(await source.read('mlc-chat-config.json')).toBeNull();
    });
  }
});
