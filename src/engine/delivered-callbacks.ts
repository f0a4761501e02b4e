/**
 * The worker's engine core, with every callback delivered before the call it belongs to settles.
 * Across the worker boundary a callback is a Comlink proxy: each call of it is a message on the
 * proxy's own port, while the call's result goes back on the worker's port, and the two ports are
 * not ordered. Without this, a load's result could reach the page before its last progress event
 * (which then put "Loading …: gpu…" back over the loaded model's line: catalog.spec.ts failed so
 * about one run in eight), and a generation's result before its last steps (which the stream
 * then never yielded). Calls of one proxy are answered in order, so waiting for the answer to the
 * last call is enough.
 */
import type { EngineCore } from './engine-core.ts';

/** A callback whose calls are counted in: `delivered` resolves once the last call so far has been answered. */
function tracked<A extends unknown[]>(callback: (...args: A) => unknown) {
  let last: Promise<unknown> = Promise.resolve();
  return {
    call: (...args: A): void => {
      last = Promise.resolve(callback(...args)).catch(() => {}); // a throwing page handler is the page's concern
    },
    delivered: () => last,
  };
}

async function settledAfter<T>(run: Promise<T>, delivered: () => Promise<unknown>): Promise<T> {
  try {
    return await run;
  } finally {
    await delivered();
  }
}

export function withDeliveredCallbacks(core: EngineCore): EngineCore {
  return {
    ...core,
    load(request, onProgress) {
      if (!onProgress) return core.load(request);
      const progress = tracked(onProgress);
      return settledAfter(core.load(request, progress.call), progress.delivered);
    },
    generate(request, onSteps) {
      const steps = tracked(onSteps);
      return settledAfter(core.generate(request, steps.call), steps.delivered);
    },
  };
}
