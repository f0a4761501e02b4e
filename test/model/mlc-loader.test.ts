/**
 * The MLC loader on the bundled model converted by our own converter in all four quantizations:
 * the same ModelWeights as the Hugging Face loader (exactly for raw q0f32, within the format's
 * rounding otherwise), greedy tokens on golden.json, the tvmjs shard layout, and a named error
 * for every kind of bad file, with the model loaded before still usable.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { convertToMlc } from '../../scripts/convert-mlc.ts';
import { nodeWebTokenizers } from '../../scripts/lib/node-web-tokenizers.ts';
import { createEngineCore } from '../../src/engine/engine-core.ts';
import { GREEDY } from '../../src/engine/types.ts';
import {
  MissingModelFileError,
  ShardChecksumError,
  ShardSizeError,
  TensorCacheFormatError,
  TensorRecordError,
  UnsupportedArchitectureError,
  UnsupportedQuantizationError,
} from '../../src/errors.ts';
import { halfToFloat } from '../../src/gpu/half.ts';
import { dequantizeRows, linearValues } from '../../src/model/linear.ts';
import { loadModel, type LoadedModel } from '../../src/model/load-model.ts';
import type { ModelSource } from '../../src/model/model-source.ts';
import { createReferenceBackend } from '../../src/model/reference.ts';
import { BUNDLED_MODEL_DIR, readGolden } from '../helpers/golden.ts';
import { loadModelFromDir } from '../helpers/node-model.ts';

const out = mkdtempSync(join(tmpdir(), 'crystal-mlc-'));
for (const q of ['q4f16_1', 'q4f32_1', 'q0f16', 'q0f32'] as const) convertToMlc(BUNDLED_MODEL_DIR, join(out, q), q);
convertToMlc(BUNDLED_MODEL_DIR, join(out, 'q0f32-raw'), 'q0f32', 'raw');
const buf = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** A folder on disk with some files replaced (null: removed). */
function patched(dir: string, overrides: Record<string, ArrayBuffer | null>): ModelSource {
  return {
    location: dir,
    async read(file) {
      if (file in overrides) return overrides[file];
      try {
        return buf(readFileSync(join(dir, file)));
      } catch {
        return null;
      }
    },
  };
}
const load = (source: ModelSource) => loadModel(source, { tokenizerLib: nodeWebTokenizers() });
const json = (o: unknown) => new TextEncoder().encode(JSON.stringify(o)).buffer as ArrayBuffer;
const readJson = (dir: string, f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));

async function greedyIds(model: LoadedModel, promptIds: number[], n: number): Promise<number[]> {
  const backend = createReferenceBackend(model, { maxStepTokens: 256 });
  backend.reset();
  const ids: number[] = [];
  let r = await backend.forward(promptIds, 0, { temperature: 0, topP: 1, u: 0 });
  for (let i = 0; i < n; i++) {
    ids.push(r.token);
    r = await backend.forward([r.token], promptIds.length + i, { temperature: 0, topP: 1, u: 0 });
  }
  return ids;
}

describe('MLC loader on the converted bundled model', async () => {
  const hf = await loadModelFromDir(BUNDLED_MODEL_DIR);
  const golden = readGolden();

  test('raw q0f32 holds the Hugging Face weights bit for bit and reproduces golden.json tokens', async () => {
    const m = await loadModelFromDir(join(out, 'q0f32-raw'));
    expect(m.format).toEqual({ kind: 'mlc', quantization: 'q0f32' });
    expect(m.config).toEqual(hf.config);
    expect(m.weights.layers[0].qkv.storage).toBe('f32');
    for (const [a, b] of [[m.weights.embed, hf.weights.embed], [m.weights.layers[3].qkv, hf.weights.layers[3].qkv], [m.weights.layers[1].gateUp, hf.weights.layers[1].gateUp]] as const) {
      expect(linearValues(a)).toEqual(linearValues(b));
    }
    expect(m.stopTokenIds.sort()).toEqual(hf.stopTokenIds.sort());
    for (const c of golden.slice(0, 2)) expect(await greedyIds(m, c.prompt_ids, 24)).toEqual(c.generated_ids.slice(0, 24));
  });

  test('each quantization stores what it says and dequantizes to within its rounding', async () => {
    const want = linearValues(hf.weights.layers[2].down);
    const cases = [
      { dir: 'q0f32', storage: 'bf16', rel: 2 ** -8 },
      { dir: 'q0f16', storage: 'f16', rel: 2 ** -11 },
      { dir: 'q4f16_1', storage: 'q4', rel: 0 },
      { dir: 'q4f32_1', storage: 'q4', rel: 0 },
    ] as const;
    for (const c of cases) {
      const m = await loadModelFromDir(join(out, c.dir));
      const down = m.weights.layers[2].down;
      expect(down.storage).toBe(c.storage);
      const got = dequantizeRows(down, 0, down.rows);
      for (let i = 0; i < want.length; i++) {
        const err = Math.abs(got[i] - want[i]);
        if (down.storage !== 'q4') {
          expect(err).toBeLessThanOrEqual(Math.abs(want[i]) * c.rel + 2 ** -25); // + half an f16 subnormal step
        } else {
          // At most half a step of the group's scale (which is itself rounded to f16 or bf16).
          const r = Math.floor(i / down.cols);
          const g = r * Math.ceil(down.cols / 32) + Math.floor((i % down.cols) / 32);
          const scale = down.scales instanceof Uint16Array ? halfToFloat(down.scales[g]) : down.scales[g];
          expect(err).toBeLessThanOrEqual(scale * 0.5 + Math.abs(want[i]) * 2 ** -7);
        }
      }
      if (down.storage === 'q4') expect(got.some((v, i) => v !== want[i])).toBe(true); // really 4-bit
    }
  });

  test('every form generates the golden answers on the CPU reference', async () => {
    for (const dir of ['q4f16_1', 'q4f32_1', 'q0f16', 'q0f32']) {
      const m = await loadModelFromDir(join(out, dir));
      const c = golden[0];
      const ids = await greedyIds(m, c.prompt_ids, c.generated_ids.length);
      const stop = ids.findIndex((id) => m.stopTokenIds.includes(id));
      expect(m.tokenizer.decode(ids.slice(0, stop)), dir).toContain('</think>');
      expect(m.tokenizer.decode(ids.slice(0, stop)).split('</think>')[1]?.trim(), dir).toBe(c.answer);
    }
  });

  test('shards follow tvmjs: a 64 KiB cap splits records in order, a large record gets a shard of its own', async () => {
    const dir = join(out, 'small-shards');
    const r = convertToMlc(BUNDLED_MODEL_DIR, dir, 'q0f32', 'raw', 1 / 16);
    const cache = readJson(dir, 'tensor-cache.json');
    expect(r.shards).toBeGreaterThan(5);
    expect(readdirSync(dir).filter((f) => f.startsWith('params_shard_')).length).toBe(r.shards);
    for (const shard of cache.records) {
      expect(readFileSync(join(dir, shard.dataPath)).length).toBe(shard.nbytes);
      let at = 0;
      for (const rec of shard.records) {
        expect(rec.byteOffset).toBe(at);
        at += rec.nbytes;
      }
      expect(at).toBe(shard.nbytes);
      // Only a lone record may reach the cap.
      if (shard.records.length > 1) expect(shard.nbytes).toBeLessThan(65536);
    }
    const m = await loadModelFromDir(dir);
    expect(linearValues(m.weights.lmHead)).toEqual(linearValues(hf.weights.lmHead));
  });

  describe('bad files give their named error', () => {
    const dir = join(out, 'q4f16_1');
    const shard = buf(readFileSync(join(dir, 'params_shard_0.bin')));
    const cache = readJson(dir, 'tensor-cache.json');
    const chat = readJson(dir, 'mlc-chat-config.json');
    const flipped = shard.slice(0);
    new Uint8Array(flipped)[1000] ^= 0xff;
    // Records 2 and 3: layer 0's fused q/k/v, q_weight (uint32) and q_scale (float16).
    const withRecord = (edit: (r: Record<string, unknown>) => void, index = 3) => {
      const c = structuredClone(cache);
      edit(c.records[0].records[index]);
      return json(c);
    };
    const cases: [string, Record<string, ArrayBuffer | null>, new (...a: never[]) => Error, RegExp][] = [
      ['a corrupted shard', { 'params_shard_0.bin': flipped }, ShardChecksumError, /md5/],
      ['a truncated shard', { 'params_shard_0.bin': shard.slice(0, shard.byteLength - 100) }, ShardSizeError, /truncated/],
      ['an md5 that does not match', { 'tensor-cache.json': json({ ...cache, records: [{ ...cache.records[0], md5sum: '0'.repeat(32) }] }) }, ShardChecksumError, /corrupt/],
      ['a missing shard', { 'params_shard_0.bin': null }, MissingModelFileError, /params_shard_0/],
      ['no tensor-cache.json', { 'tensor-cache.json': null }, MissingModelFileError, /tensor-cache/],
      ['a manifest without shards', { 'tensor-cache.json': json({ metadata: {} }) }, TensorCacheFormatError, /records/],
      ['a record whose bytes do not fit its shape', { 'tensor-cache.json': withRecord((r) => (r.nbytes = (r.nbytes as number) - 4)) }, TensorRecordError, /needs/],
      ['a record of another shape', { 'tensor-cache.json': withRecord((r) => ((r.shape as number[])[0] = 2 * (r.shape as number[])[0], (r.nbytes = 2 * (r.nbytes as number)))) }, TensorRecordError, /past the end|implies/],
      ['a record of another dtype', { 'tensor-cache.json': withRecord((r) => (r.dtype = 'int32'), 2) }, TensorRecordError, /dtype/],
      ['a renamed record', { 'tensor-cache.json': withRecord((r) => (r.name = 'model.layers.0.mlp.extra.weight')) }, TensorRecordError, /missing/],
      ['an unsupported quantization', { 'mlc-chat-config.json': json({ ...chat, quantization: 'q3f16_1' }) }, UnsupportedQuantizationError, /q3f16_1/],
      ['an unsupported architecture', { 'mlc-chat-config.json': json({ ...chat, model_type: 'gemma2' }) }, UnsupportedArchitectureError, /gemma2/],
    ];
    for (const [what, overrides, ErrorClass, message] of cases) {
      test(what, async () => {
        const error = await load(patched(dir, overrides)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ErrorClass);
        expect((error as Error).message).toMatch(message);
      });
    }

    test('the model loaded before stays usable after a failed load', async () => {
      const engine = createEngineCore({
        tokenizerLib: nodeWebTokenizers(),
        source: (url) => (url === 'bad' ? patched(dir, { 'params_shard_0.bin': flipped }) : patched(dir, {})),
      });
      await engine.load({ url: 'good', backend: 'cpu-reference' });
      await expect(engine.load({ url: 'bad', backend: 'cpu-reference' })).rejects.toBeInstanceOf(ShardChecksumError);
      const r = await engine.generate({ prompt: golden[0].user, maxNewTokens: 300, sampling: GREEDY }, () => {});
      expect(r.answer).toBe(golden[0].answer);
    });
  });
});
