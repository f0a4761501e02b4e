/**
 * Crystal as a library (npm run build:lib): the engine behind web-llm's interface, the plain
 * engine, the request and result types, the named errors and the policy catalogue. No page code.
 * The worker side is the package's `./worker` entry (engine/worker.ts).
 */
export { CreateCrystalEngine, CreateWebWorkerCrystalEngine, CrystalEngine, type CrystalChatOptions, type CrystalChunk, type CrystalUsage } from './webllm/crystal-engine.ts';
export { createWorkerEngine } from './engine/client.ts';
export { engineFromCore, type Engine, type EngineCore, type EstimateRequest, type Generation, type LoadRequest } from './engine/engine.ts';
export { createEngineCore } from './engine/engine-core.ts';
export { POLICY_CATALOG, type PolicyInfo } from './engine/policy-catalog.ts';
export * from './engine/types.ts';
export * from './errors.ts';
