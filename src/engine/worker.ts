/** The module worker that owns the GPU: it only exposes the engine core with Comlink. */
import * as Comlink from 'comlink';
import { createEngineCore } from './engine-core.ts';

Comlink.expose(createEngineCore());
