// Node module hooks: `import code from '../../shaders/x.wgsl?raw'` gives the file's text, as Vite
// does for the browser, so the kernels load unchanged under tsx (npm run bench/eval --node).
import { readFile } from 'node:fs/promises';

export async function load(url, context, nextLoad) {
  if (!/\.wgsl\?raw$/.test(url)) return nextLoad(url, context);
  const text = await readFile(new URL(url.replace(/\?raw$/, '')), 'utf8');
  return { format: 'module', shortCircuit: true, source: `export default ${JSON.stringify(text)};` };
}
