/**
 * The layers point down (the library entry index.ts -> ui / webllm -> engine -> catalog -> model / kv / policies -> kernels -> gpu), and
 * WebGPU's globals are named in one platform module: checked over every import in src/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { expect, test } from 'vitest';

const SRC = resolve(import.meta.dirname, '../src');
// A module may import its own layer or any lower one. model, kv and policies share a layer.
// index.ts, the library's entry, re-exports from every layer: it sits above them all.
const RANK: Record<string, number> = { entry: 7, ui: 6, webllm: 6, engine: 5, catalog: 4, model: 3, kv: 3, policies: 3, tokenizer: 2, kernels: 2, gpu: 1, '.': 0 };

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}
const layerOf = (file: string) => {
  const top = relative(SRC, file).split('/');
  if (top.length === 1) return top[0] === 'index.ts' ? 'entry' : '.';
  return top[0];
};
const sources = files(SRC);

test('every import in src/ points to its own layer or a lower one', () => {
  const upward: string[] = [];
  let seen = 0;
  for (const file of sources) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const target = resolve(dirname(file), m[1].replace(/\?raw$/, ''));
      if (!target.startsWith(SRC)) continue; // shaders
      const [from, to] = [layerOf(file), layerOf(target)];
      seen++;
      expect(RANK[from], `layer of ${from}`).toBeDefined();
      if (RANK[to] > RANK[from]) upward.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
    }
  }
  expect(seen).toBeGreaterThan(300); // the scan read the imports
  expect(upward).toEqual([]);
});

test("WebGPU's globals appear only in gpu/platform.ts", () => {
  const globals = /navigator\.gpu|GPUBufferUsage\.|GPUMapMode\.|GPUShaderStage\.|instanceof GPU[A-Z]/;
  const named = sources.filter((f) => !f.endsWith('gpu/platform.ts') && readFileSync(f, 'utf8').split('\n').some((line) => !/^\s*(\/\/|\*|\/\*)/.test(line) && globals.test(line)));
  expect(named.map((f) => relative(SRC, f))).toEqual([]);
});
