/**
 * The layers point down, checked over every import in the tree (static, re-export and dynamic):
 * - the tree: test/ and e2e/ -> bench/ -> scripts/ -> src/ -> shaders/ (bench uses the tools in
 *   scripts/lib; nothing in src/ reaches scripts/, bench/ or test/);
 * - inside src/: the library entry index.ts -> ui / webllm -> engine -> catalog -> model ->
 *   policies -> kv -> kernels / tokenizer -> gpu -> the shared files (errors.ts, assert.ts);
 * - the page (src/ui) imports the engine only through its interface (engine/interface.ts), the
 *   catalogue, the web-llm adapter and the named errors;
 * - a kernel's CPU reference (X.ref.ts) never imports a GPU host (a kernels/Y.ts with a shaders/Y.wgsl);
 * - WebGPU's globals are named in one platform module.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

/** Top folders of the tree, highest first: a file may import its own folder or a lower one. */
const TREE: Record<string, number> = { test: 4, e2e: 4, examples: 3, bench: 2, scripts: 1, src: 0, shaders: -1 };
/**
 * Layers inside src/, by folder (a file directly in src/ is '.', index.ts the entry). The order
 * among model, policies and kv is the one the code follows: the forward runs the eviction
 * driver, and the driver works over the cache.
 */
const RANK: Record<string, number> = { entry: 9, ui: 8, webllm: 8, engine: 7, catalog: 6, model: 5, policies: 4, kv: 3, kernels: 2, tokenizer: 2, gpu: 1, '.': 0 };
/** What the page may import from outside src/ui. */
const UI_MAY_IMPORT = [/^engine\/interface\.ts$/, /^catalog\//, /^webllm\//, /^errors\.ts$/];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name === 'fixtures' || e.name.startsWith('.')) return [];
    return e.isDirectory() ? files(join(dir, e.name)) : /\.(ts|mts|mjs)$/.test(e.name) ? [join(dir, e.name)] : [];
  });
}

/** Every relative import of `file`, resolved to a path (the ?raw of shaders dropped). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+'(\.[^']+)'/gm),
    ...text.matchAll(/^\s*import\s+'(\.[^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g),
  ].map((m) => m[1].replace(/\?raw$/, ''));
  return specs.map((s) => resolve(dirname(file), s));
}

const topOf = (path: string) => relative(ROOT, path).split('/')[0];
const layerOf = (file: string) => {
  const parts = relative(SRC, file).split('/');
  if (parts.length === 1) return parts[0] === 'index.ts' ? 'entry' : '.';
  return parts[0];
};

const tree = Object.keys(TREE).flatMap((top) => {
  try {
    return files(join(ROOT, top));
  } catch {
    return []; // a folder the tree does not have
  }
});
const sources = tree.filter((f) => f.startsWith(SRC + '/'));

test('every import in the tree points to its own top folder or a lower one', () => {
  const upward: string[] = [];
  let seen = 0;
  for (const file of tree) {
    for (const target of importsOf(file)) {
      const [from, to] = [topOf(file), topOf(target)];
      seen++;
      if (!(to in TREE) || TREE[to] > TREE[from]) upward.push(`${relative(ROOT, file)} -> ${relative(ROOT, target)}`);
    }
  }
  expect(seen).toBeGreaterThan(1000); // the scan read the imports
  expect(upward).toEqual([]);
});

test('every import in src/ points to its own layer or a lower one', () => {
  const upward: string[] = [];
  let seen = 0;
  for (const file of sources) {
    for (const target of importsOf(file)) {
      if (!target.startsWith(SRC + '/')) continue; // shaders (the tree test keeps src/ from reaching higher)
      const [from, to] = [layerOf(file), layerOf(target)];
      seen++;
      expect(RANK[from], `layer of ${relative(SRC, file)}`).toBeDefined();
      expect(RANK[to], `layer of ${relative(SRC, target)}`).toBeDefined();
      if (RANK[to] > RANK[from]) upward.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
    }
  }
  expect(seen).toBeGreaterThan(300);
  expect(upward).toEqual([]);
});

test('the page imports only the engine interface, the catalogue, the web-llm adapter and the errors', () => {
  const ui = sources.filter((f) => layerOf(f) === 'ui');
  const outside: string[] = [];
  for (const file of ui) {
    for (const target of importsOf(file)) {
      const path = relative(SRC, target);
      if (layerOf(target) === 'ui' || !target.startsWith(SRC + '/')) continue;
      if (!UI_MAY_IMPORT.some((allowed) => allowed.test(path))) outside.push(`${relative(SRC, file)} -> ${path}`);
    }
  }
  expect(ui.length).toBeGreaterThan(10);
  expect(outside).toEqual([]);
});

test('no CPU reference imports a GPU host file', () => {
  const refs = sources.filter((f) => f.endsWith('.ref.ts'));
  const hosts = (target: string) => layerOf(target) === 'kernels' && existsSync(join(ROOT, 'shaders', basename(target).replace(/\.ts$/, '.wgsl')));
  const wrong = refs.flatMap((f) => importsOf(f).filter(hosts).map((t) => `${relative(SRC, f)} -> ${relative(SRC, t)}`));
  expect(refs.length).toBeGreaterThan(10);
  expect(wrong).toEqual([]);
});

test("WebGPU's globals appear only in gpu/platform.ts", () => {
  const globals = /navigator\.gpu|GPUBufferUsage\.|GPUMapMode\.|GPUShaderStage\.|instanceof GPU[A-Z]/;
  const named = sources.filter((f) => !f.endsWith('gpu/platform.ts') && readFileSync(f, 'utf8').split('\n').some((line) => !/^\s*(\/\/|\*|\/\*)/.test(line) && globals.test(line)));
  expect(named.map((f) => relative(SRC, f))).toEqual([]);
});
