import * as Comlink from 'comlink';
import { describe, expect, test } from 'vitest';
import { dirModelSource } from '../../scripts/lib/dir-model-source.ts';
import { nodeWebTokenizers } from '../../scripts/lib/node-web-tokenizers.ts';
import { withDeliveredCallbacks } from '../../src/engine/delivered-callbacks.ts';
import { engineOverEndpoint } from '../../src/engine/client.ts';
import { createEngineCore } from '../../src/engine/engine-core.ts';
import type { EngineCore } from '../../src/engine/engine.ts';
import { GREEDY, type ModelInfo, type Step } from '../../src/engine/types.ts';
import { BUNDLED_MODEL_DIR, readGolden } from '../helpers/golden.ts';

// Across the worker boundary a callback is a Comlink proxy whose calls travel on their own port:
// the worker's core must not settle a call before the page has run that call's callbacks.

/** A page-side callback as a proxy is to the worker: each call is answered later (here after 5 ms), once the page ran it. */
function slowPage(log: string[]) {
  let n = 0;
  return () => {
    const i = n++;
    return new Promise<void>((r) => setTimeout(() => (log.push(`event ${i}`), r()), 5));
  };
}

const unused = () => Promise.reject(new Error('not used here'));
/** A core whose load reports three progress events and whose generate streams two steps, then fails. */
const fakeCore: EngineCore = {
  estimate: unused,
  analyzeAnswer: unused,
  abort: () => {},
  resetChat: () => {},
  unload: unused,
  async load(_request, onProgress) {
    for (let i = 0; i < 3; i++) onProgress?.({ stage: 'gpu', loaded: i, total: 3 });
    return { name: 'fake' } as ModelInfo;
  },
  async generate(_request, onSteps) {
    onSteps([{ index: 0 } as Step]);
    onSteps([{ index: 1 } as Step]);
    throw new Error('engine failed');
  },
};

describe('the worker core settles a call only after its callbacks were delivered', () => {
  test('load: every progress event, then the result (and without the wrapper the result comes first)', async () => {
    const log: string[] = [];
    await withDeliveredCallbacks(fakeCore).load({ url: 'x' }, slowPage(log)).then(() => log.push('result'));
    expect(log).toEqual(['event 0', 'event 1', 'event 2', 'result']);

    const bare: string[] = [];
    await fakeCore.load({ url: 'x' }, slowPage(bare)).then(() => bare.push('result'));
    expect(bare[0]).toBe('result'); // the hazard this wrapper exists for
  });

  test('generate: every step before the error', async () => {
    const log: string[] = [];
    await withDeliveredCallbacks(fakeCore)
      .generate({ prompt: 'x', maxNewTokens: 1, sampling: GREEDY }, slowPage(log))
      .catch((e: Error) => log.push(e.message));
    expect(log).toEqual(['event 0', 'event 1', 'engine failed']);
  });

  test('through Comlink over a MessageChannel: the stream holds every token of golden.json', async () => {
    const { port1, port2 } = new MessageChannel();
    Comlink.expose(withDeliveredCallbacks(createEngineCore({ source: dirModelSource, tokenizerLib: nodeWebTokenizers() })), port1);
    const engine = engineOverEndpoint(port2); // the page's side, as createWorkerEngine wires a worker
    const stages: string[] = [];
    await engine.load({ url: BUNDLED_MODEL_DIR, backend: 'cpu-reference' }, (p) => stages.push(p.stage)).then(() => stages.push('loaded'));
    expect(stages.at(-1)).toBe('loaded');
    const golden = readGolden()[0];
    const generation = engine.generate({ prompt: golden.user, maxNewTokens: 500, sampling: GREEDY });
    const tokens: number[] = [];
    for await (const step of generation) tokens.push(step.token);
    expect(tokens).toEqual(golden.generated_ids);
    port1.close();
    port2.close();
  });
});
