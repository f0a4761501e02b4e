/** The module worker that owns the GPU: it only exposes the engine core with Comlink. */
import * as Comlink from 'comlink';
import { modelSourceFor } from '../catalog/cached-source.ts';
import { requestGpu, type Gpu } from '../gpu/device.ts';
import { withDeliveredCallbacks } from './delivered-callbacks.ts';
import { createEngineCore } from './engine-core.ts';

// The device the core asked for last: kept only for the test hook below.
let current: Gpu | undefined;
const gpu = async () => (current = await requestGpu());

// Model folders other than the app's own are read through web-llm's Cache API scopes, so a model
// downloaded once (by Crystal or by web-llm) loads offline. Its callbacks reach the page before
// the results they belong to (delivered-callbacks.ts).
Comlink.expose(withDeliveredCallbacks(createEngineCore({ source: modelSourceFor, peek: (url) => modelSourceFor(url, { store: false }), gpu })));

// A test hook (e2e/errors.spec.ts): loses the GPU device mid-generation, as a driver reset or an
// out-of-memory kill would, which nothing else can trigger on purpose.
(self as unknown as { crystalTestHooks: { loseDevice(): void } }).crystalTestHooks = { loseDevice: () => current?.device.destroy() };
