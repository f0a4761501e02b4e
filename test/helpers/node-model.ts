/** Loads a model folder from disk in Node (tests of the CPU reference and the loaders). */
import { dirModelSource } from '../../scripts/lib/dir-model-source.ts';
import { nodeWebTokenizers } from '../../scripts/lib/node-web-tokenizers.ts';
import { loadModel, type LoadedModel } from '../../src/model/load-model.ts';

export function loadModelFromDir(dir: string): Promise<LoadedModel> {
  return loadModel(dirModelSource(dir), { name: dir, tokenizerLib: nodeWebTokenizers() });
}
