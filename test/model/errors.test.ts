import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { generate } from '../../src/engine/decode-loop.ts';
import { GREEDY } from '../../src/engine/types.ts';
import {
  InvalidConfigError,
  MissingModelFileError,
  PromptTooLongError,
  UnsupportedArchitectureError,
  WeightsFormatError,
} from '../../src/errors.ts';
import { parseConfig } from '../../src/model/config.ts';
import { loadModel } from '../../src/model/load-model.ts';
import type { ModelSource } from '../../src/model/model-source.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { parseSafetensors, writeSafetensors } from '../../src/model/safetensors.ts';
import { loadWeights } from '../../src/model/weights.ts';
import { nodeWebTokenizers } from '../../scripts/lib/node-web-tokenizers.ts';
import { BUNDLED_MODEL_DIR } from '../helpers/golden.ts';

const dir = BUNDLED_MODEL_DIR;
const rawConfig = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8'));
const config = parseConfig(rawConfig);
const weightBytes = (() => {
  const b = readFileSync(`${dir}/model.safetensors`);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
})();

/** A model folder in memory, with some files replaced or removed. */
function memorySource(overrides: Record<string, ArrayBuffer | null>): ModelSource {
  return {
    location: 'memory://model',
    async read(file) {
      if (file in overrides) return overrides[file];
      if (!existsSync(`${dir}/${file}`)) return null; // the ModelSource contract: a missing file is null
      const b = readFileSync(`${dir}/${file}`);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}
const json = (o: unknown) => new TextEncoder().encode(JSON.stringify(o)).buffer as ArrayBuffer;
const load = (overrides: Record<string, ArrayBuffer | null>) =>
  loadModel(memorySource(overrides), { tokenizerLib: nodeWebTokenizers() });

describe('unsupported architecture', () => {
  test('an unknown model_type names the supported families', async () => {
    await expect(load({ 'config.json': json({ ...rawConfig, model_type: 'mamba' }) })).rejects.toThrow(
      UnsupportedArchitectureError,
    );
    expect(() => parseConfig({ ...rawConfig, model_type: 'gpt2' })).toThrow(/qwen3, qwen2, llama/);
  });
  test('inconsistent head counts are rejected', () => {
    expect(() => parseConfig({ ...rawConfig, num_key_value_heads: 3 })).toThrow(InvalidConfigError);
  });
});

describe('weights are checked before anything is uploaded', () => {
  test('missing model.safetensors', async () => {
    await expect(load({ 'model.safetensors': null })).rejects.toThrow(MissingModelFileError);
  });
  test('truncated file', () => {
    const cut = weightBytes.slice(0, weightBytes.byteLength - 1000);
    expect(() => loadWeights(cut, config)).toThrow(WeightsFormatError);
    expect(() => loadWeights(cut, config)).toThrow(/truncated/);
    expect(() => loadWeights(weightBytes.slice(0, 4), config)).toThrow(WeightsFormatError);
  });
  test('weights of another shape (config says a wider model)', () => {
    const wider = parseConfig({ ...rawConfig, hidden_size: 256 });
    expect(() => loadWeights(weightBytes, wider)).toThrow(/has shape \[104,128\] but config.json implies \[104,256\]/);
  });
  test('missing and unexpected tensor names', () => {
    const deeper = parseConfig({ ...rawConfig, num_hidden_layers: 5 });
    expect(() => loadWeights(weightBytes, deeper)).toThrow(/model\.layers\.4\..* is missing/);
    const file = parseSafetensors(weightBytes);
    const renamed = [...file.tensors.values()].map((t) => ({
      name: t.name === 'model.norm.weight' ? 'model.final_norm.weight' : t.name,
      shape: t.shape,
      data: new Float32Array(weightBytes.slice(t.begin, t.end)),
    }));
    expect(() => loadWeights(writeSafetensors(renamed).buffer as ArrayBuffer, config)).toThrow(/model\.norm\.weight is missing/);
  });
  test('unsupported dtype', () => {
    const file = parseSafetensors(weightBytes);
    const headerLength = Number(new DataView(weightBytes).getBigUint64(0, true));
    const header = new TextDecoder().decode(new Uint8Array(weightBytes, 8, headerLength));
    const patched = header.replace('"F32"', '"I8"');
    const bytes = new Uint8Array(weightBytes.byteLength);
    bytes.set(new Uint8Array(weightBytes));
    bytes.set(new TextEncoder().encode(patched), 8);
    expect(file.tensors.size).toBe(46);
    expect(() => parseSafetensors(bytes.buffer)).toThrow(/dtype I8/);
  });
  test('a tensor whose byte span does not match its shape', () => {
    const t = [{ name: 'x', shape: [4], data: new Float32Array(4) }];
    const bytes = writeSafetensors(t);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))));
    const bad = new Uint8Array(bytes);
    bad.set(new TextEncoder().encode(text.replace('[4]', '[5]')), 8);
    expect(() => parseSafetensors(bad.buffer)).toThrow(/spans 16 bytes but shape \[5\] F32 needs 20/);
  });
});

describe('prompt longer than the context', () => {
  test('is refused with the numbers', async () => {
    const model = await load({});
    const backend = createReferenceBackend(model, { contextLength: 64 });
    const prompt = 'a=1\n'.repeat(30);
    await expect(generate(backend, { prompt, maxNewTokens: 5, sampling: GREEDY })).rejects.toThrow(PromptTooLongError);
    await expect(generate(backend, { prompt, maxNewTokens: 5, sampling: GREEDY })).rejects.toThrow(/context holds 64/);
  });
});
