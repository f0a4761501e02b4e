import { describe, expect, test } from 'vitest';
import { dirModelSource } from '../../scripts/lib/dir-model-source.ts';
import { nodeWebTokenizers } from '../../scripts/lib/node-web-tokenizers.ts';
import { createEngineCore } from '../../src/engine/engine-core.ts';
import type { ModelSource } from '../../src/model/model-source.ts';

// A page that switches models while one is still loading must end with the one asked last: loads
// run in the order asked, even when the earlier folder is the slower to read.
describe('engine loads run in the order asked', () => {
  test('a slow first load finishes before a fast second one, which stays', async () => {
    const slow = (dir: string): ModelSource => {
      const inner = dirModelSource(dir);
      return { location: dir, read: async (f, on) => (await new Promise((r) => setTimeout(r, 30)), inner.read(f, on)) };
    };
    const engine = createEngineCore({
      tokenizerLib: nodeWebTokenizers(),
      source: (url) => (url.endsWith('-MLC') ? dirModelSource(url) : slow(url)),
    });
    const done: string[] = [];
    const first = engine.load({ url: 'public/models/tiny-reasoner-qwen3', name: 'first', backend: 'cpu-reference' }).then((i) => done.push(i.name));
    const second = engine.load({ url: 'public/models/tiny-reasoner-qwen3-q4f32_1-MLC', name: 'second', backend: 'cpu-reference' }).then((i) => done.push(i.name));
    await Promise.all([first, second]);
    expect(done).toEqual(['first', 'second']);
  });
});
