/**
 * The engine as its callers see it, in one module: the Engine interface and its worker client,
 * the request and result types, the policy catalogue, the request rules the engine checks and
 * whether a cache config evicts at all (evictionSpec: null for the full cache).
 * The page (src/ui) imports the engine only from here (test/layers.test.ts).
 */
export { createWorkerEngine } from './client.ts';
export type { Engine, EstimateRequest, Generation, LoadRequest } from './engine.ts';
export type { MemoryEstimate } from './memory-estimate.ts';
export { POLICY_CATALOG, type PolicyInfo } from './policy-catalog.ts';
export { ALLOWED, checkField } from './validate-request.ts';
export { evictionSpec } from '../kv/budget.ts';
export * from './types.ts';
