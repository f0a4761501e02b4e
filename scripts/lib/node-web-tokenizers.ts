/**
 * Loads @mlc-ai/web-tokenizers under plain Node. The package is a UMD bundle inside a
 * "type": "module" package, so Node's ESM loader sees no named exports; evaluating the bundle
 * as CommonJS works.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { WebTokenizersModule } from '../../src/tokenizer/tokenizer.ts';

let cached: WebTokenizersModule | undefined;

export function nodeWebTokenizers(): WebTokenizersModule {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const path = require.resolve('@mlc-ai/web-tokenizers/lib/index.js');
  const module = { exports: {} as Record<string, unknown> };
  new Function('module', 'exports', 'require', '__filename', '__dirname', readFileSync(path, 'utf8'))(
    module,
    module.exports,
    require,
    path,
    path.replace(/\/[^/]*$/, ''),
  );
  cached = module.exports as unknown as WebTokenizersModule;
  return cached;
}
