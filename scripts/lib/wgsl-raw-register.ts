// Imported before any kernel module (npm run bench -- --node, npm run eval -- --engine gpu): registers wgsl-raw-hooks.mjs.
import { register } from 'node:module';

register('./wgsl-raw-hooks.mjs', import.meta.url);
