/** The page's handle on the worker engine (Comlink.wrap); callbacks cross as Comlink proxies. */
import * as Comlink from 'comlink';
import type { Engine } from './engine.ts';
import { engineFromCore } from './engine.ts';
import type { EngineCore } from './engine-core.ts';

/** `worker`: one running the engine's worker entry (worker.ts); default: a new one. */
export function createWorkerEngine(worker: Worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })): Engine {
  return engineOverEndpoint(worker);
}

/** The engine behind any Comlink endpoint that exposes an EngineCore (a worker, a MessagePort in tests). */
export function engineOverEndpoint(endpoint: Comlink.Endpoint): Engine {
  const remote = Comlink.wrap<EngineCore>(endpoint);
  return engineFromCore({
    load: (request, onProgress) => remote.load(request, onProgress ? Comlink.proxy(onProgress) : undefined),
    generate: (request, onSteps) => remote.generate(request, Comlink.proxy(onSteps)),
    analyzeAnswer: (prompt, ids) => remote.analyzeAnswer(prompt, ids),
    estimate: (request) => remote.estimate(request),
    abort: () => remote.abort(),
    resetChat: () => remote.resetChat(),
    unload: () => remote.unload(),
  });
}
