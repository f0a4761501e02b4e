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
import { callMethod, CORE_METHODS, type EngineCore } from './engine.ts';

/** A callback whose calls are counted in: `delivered` resolves once the last call so far has been answered. */
function tracked(callback: (...args: unknown[]) => unknown) {
  let last: Promise<unknown> = Promise.resolve();
  return {
    call: (...args: unknown[]): void => {
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

/** Every method of `core`; one given callbacks (load's progress, generate's steps) settles after their last call was answered. */
export function withDeliveredCallbacks(core: EngineCore): EngineCore {
  const wrap = (m: keyof EngineCore) => (...args: unknown[]) => {
    const callbacks = args.map((a) => (typeof a === 'function' ? tracked(a as (...a: unknown[]) => unknown) : null));
    const result = callMethod(core, m, args.map((a, i) => callbacks[i]?.call ?? a));
    if (callbacks.every((c) => c === null)) return result;
    return settledAfter(Promise.resolve(result), () => Promise.all(callbacks.map((c) => c?.delivered())));
  };
  return Object.fromEntries(CORE_METHODS.map((m) => [m, wrap(m)])) as unknown as EngineCore;
}
