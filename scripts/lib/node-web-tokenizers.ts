/**
 * Loads @mlc-ai/web-tokenizers under plain Node. The package is a UMD bundle inside a
 * "type": "module" package, so Node's ESM loader sees no named exports. Requiring a copy of the
 * bundle with a .cjs name loads it as CommonJS, with a real module loader behind its own
 * dynamic imports (which evaluating the source with `new Function` would lack).
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WebTokenizersModule } from '../../src/tokenizer/tokenizer.ts';

let cached: WebTokenizersModule | undefined;

export function nodeWebTokenizers(): WebTokenizersModule {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const source = require.resolve('@mlc-ai/web-tokenizers/lib/index.js');
  const version = JSON.parse(readFileSync(require.resolve('@mlc-ai/web-tokenizers/package.json'), 'utf8')).version;
  const copy = join(tmpdir(), `crystal-web-tokenizers-${version}.cjs`);
  if (!existsSync(copy)) copyFileSync(source, copy);
  cached = require(copy) as WebTokenizersModule;
  return cached;
}
