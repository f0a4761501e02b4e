/** The module worker that owns the GPU: it only exposes the engine core with Comlink. */
import * as Comlink from 'comlink';
import { modelSourceFor } from '../catalog/cached-source.ts';
import { createEngineCore } from './engine-core.ts';

// Model folders other than the app's own are read through web-llm's Cache API scopes, so a model
// downloaded once (by Crystal or by web-llm) loads offline.
Comlink.expose(createEngineCore({ source: modelSourceFor, peek: (url) => modelSourceFor(url, { store: false }) }));
