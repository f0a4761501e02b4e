/** A model folder on disk, for Node scripts and tests. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSource } from '../../src/model/model-source.ts';

export function dirModelSource(dir: string): ModelSource {
  return {
    location: dir,
    async read(file) {
      const path = join(dir, file);
      if (!existsSync(path)) return null;
      const b = readFileSync(path);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}
