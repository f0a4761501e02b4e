/**
 * The engine behind the worker boundary: load a model, generate with per-step callbacks,
 * abort. The worker exposes exactly this object with Comlink; tests and Node use it directly.
 */
import { validateRequest } from './validate-request.ts';
import { ModelNotLoadedError } from '../errors.ts';
import { requestGpu, type Gpu, type GpuOptions } from '../gpu/device.ts';
import { createReferenceBackend } from '../model/reference.ts';
import { loadModel, probeModel } from '../model/load-model.ts';
import { estimateMemory } from './memory-estimate.ts';
import { parameterCount } from '../model/weights.ts';
import { urlModelSource, type ModelSource } from '../model/model-source.ts';
import type { WebTokenizersModule } from '../tokenizer/tokenizer.ts';
import type { ForwardBackend } from '../model/forward-backend.ts';
import { generate, type CachedSequence } from './decode-loop.ts';
import { createGpuBackend } from './gpu-backend.ts';
import { analyzeAnswer } from './answer-first.ts';
import type { EngineCore, LoadRequest } from './engine.ts';
import type { LoadProgressEvent, ModelInfo } from './types.ts';

export function createEngineCore(
  deps: {
    source?: (url: string) => ModelSource;
    /** Where estimate() reads a folder's config files: like source, but storing nothing. */
    peek?: (url: string) => ModelSource;
    tokenizerLib?: WebTokenizersModule;
    gpu?: () => Promise<Gpu>;
    /** The kernels' code paths when the core asks for its own device: the adapter's (default), or a discrete GPU's on any adapter. */
    codePaths?: GpuOptions['codePaths'];
  } = {},
): EngineCore {
  let backend: ForwardBackend | undefined;
  /** The loaded backend, or ModelNotLoadedError naming the call that needed it. */
  const loaded = (what: string): ForwardBackend => {
    if (!backend) throw new ModelNotLoadedError(what, 'load()');
    return backend;
  };
  let gpu: Gpu | undefined;
  // The abort flags of the generations asked for and not yet ended, oldest (the running one) first.
  const asked: { aborted: boolean }[] = [];
  let running: Promise<unknown> = Promise.resolve();
  let loading: Promise<unknown> = Promise.resolve();
  // What the cache holds after the last generation, for a chat's next turn (decode-loop.ts).
  const sequence: { current: CachedSequence | null } = { current: null };

  /**
   * After a GPU error: when the device is gone, the backend and device are dropped (the next
   * load asks for a new device) and the caller gets the DeviceLostError instead of whatever the
   * dead device's calls threw.
   */
  async function deviceLostOr(error: unknown): Promise<never> {
    const lost = gpu && (await Promise.race([gpu.lost, new Promise<null>((r) => setTimeout(() => r(null), 100))]));
    if (!lost) throw error;
    backend = undefined;
    gpu = undefined;
    sequence.current = null;
    throw lost;
  }

  /**
   * Runs `task` once every generation and analysis asked for before it has ended: one at a time,
   * in the order asked. `running` is replaced before anything is awaited, so two calls made back
   * to back cannot both see the same settled `running` and run at once.
   */
  function exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = running.then(task);
    running = run.catch(() => {});
    return run;
  }

  async function loadNow(request: LoadRequest, onProgress?: (p: LoadProgressEvent) => void): Promise<ModelInfo> {
    const source = (deps.source ?? urlModelSource)(request.url);
    const model = await loadModel(source, {
      name: request.name,
      tokenizerLib: deps.tokenizerLib,
      onProgress: (p) => onProgress?.({ stage: p.stage, loaded: p.loaded, total: p.total }),
    });
    backend?.dispose();
    backend = undefined;
    sequence.current = null;
    if (request.backend === 'cpu-reference') {
      backend = createReferenceBackend(model, { contextLength: request.contextLength });
    } else {
      gpu ??= await (deps.gpu ? deps.gpu() : requestGpu(undefined, { codePaths: deps.codePaths }));
      onProgress?.({ stage: 'gpu', loaded: 0, total: 1 });
      backend = await createGpuBackend(gpu, model, { contextLength: request.contextLength });
      onProgress?.({ stage: 'gpu', loaded: 1, total: 1 });
    }
    const c = model.config;
    const w = model.weights;
    const parameters = parameterCount(w);
    return {
      name: model.name,
      architecture: c.architecture,
      numLayers: c.numLayers,
      numHeads: c.numHeads,
      numKvHeads: c.numKvHeads,
      headDim: c.headDim,
      vocabSize: c.vocabSize,
      contextLength: backend.contextLength,
      parameters,
      backend: backend.kind,
      adapter: backend.adapter,
    };
  }

  return {
    load(request, onProgress) {
      // Loads run one after another, in the order asked: the last one asked is the one that stays
      // (a page that switches models while one is loading must not end with the earlier one).
      const next = loading.then(() => loadNow(request, onProgress));
      loading = next.catch(() => {});
      return next;
    },

    async estimate({ url, cache, contextLength, promptLength }) {
      const { config, storage } = await probeModel((deps.peek ?? deps.source ?? urlModelSource)(url));
      return estimateMemory(config, storage, { cache, contextLength, promptLength });
    },

    async generate(request, onSteps) {
      validateRequest(request); // before the model or the running generation is touched
      loaded('generate');
      const signal = { aborted: false };
      asked.push(signal); // from now on abort() reaches it, even before it starts
      try {
        return await exclusive(() => {
          // loaded again: the generation before may have lost the device
          return generate(loaded('generate'), request, { signal, sequence, onStep: (s) => onSteps([s]) }).catch(deviceLostOr);
        });
      } finally {
        asked.splice(asked.indexOf(signal), 1);
      }
    },

    async analyzeAnswer(prompt, generatedIds) {
      loaded('analyzeAnswer');
      return exclusive(() => {
        const current = loaded('analyzeAnswer');
        sequence.current = null; // the replay overwrites the cache
        return analyzeAnswer(current, prompt, generatedIds).catch(deviceLostOr);
      });
    },

    /** Stops the running generation or, when none has started yet, the next one asked for. */
    abort() {
      if (asked.length > 0) asked[0].aborted = true;
    },

    resetChat() {
      sequence.current = null;
    },

    async unload() {
      const unloading = Promise.all([loading, running]).then(() => {
        backend?.dispose();
        backend = undefined;
        sequence.current = null;
      });
      loading = unloading; // a load asked later runs after it
      await unloading;
    },
  };
}
