/** The page's handle on the worker engine (Comlink.wrap); callbacks cross as Comlink proxies. */
import * as Comlink from 'comlink';
import { callMethod, CORE_METHODS, engineFromCore, type Engine, type EngineCore, type Promised } from './engine.ts';

/** `worker`: one running the engine's worker entry (worker.ts); default: a new one. */
export function createWorkerEngine(worker: Worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })): Engine {
  return engineOverEndpoint(worker);
}

/** The engine behind any Comlink endpoint that exposes an EngineCore (a worker, a MessagePort in tests). */
export function engineOverEndpoint(endpoint: Comlink.Endpoint): Engine {
  const remote = Comlink.wrap<EngineCore>(endpoint) as unknown as Promised<EngineCore>;
  // A function argument (load's progress, generate's steps) crosses as a proxy the worker calls back.
  const forward = (m: keyof EngineCore) => (...args: unknown[]) => callMethod(remote, m, args.map((a) => (typeof a === 'function' ? Comlink.proxy(a) : a)));
  return engineFromCore(Object.fromEntries(CORE_METHODS.map((m) => [m, forward(m)])) as Promised<EngineCore>);
}
