// Criterion 2 of issue 13: an app written only against web-llm's types (examples/webllm-chat.ts)
// runs unchanged on Crystal's engine, on the GPU, with the bundled model served by the test page.
import { expect, test } from 'vitest';
import { runExampleChat, type CreateEngine } from '../../examples/webllm-chat.ts';
import { CreateCrystalEngine } from '../../src/webllm/crystal-engine.ts';

const MODEL = 'tiny-reasoner-qwen3';
const appConfig = { model_list: [{ model: new URL('/models/tiny-reasoner-qwen3/', location.href).href, model_id: MODEL, model_lib: '' }] };

test('the web-llm example app streams, reads usage, interrupts and resets on Crystal', async () => {
  const golden = (await (await fetch('/models/tiny-reasoner-qwen3/golden.json')).json()).cases[0];
  const create: CreateEngine = CreateCrystalEngine; // the one line an app changes
  const run = await runExampleChat(create, MODEL, { appConfig }, golden.user);

  expect(run.progress.at(-1)).toMatch(/^Loaded tiny-reasoner-qwen3/);
  // The think text and the answer, each without its markers: the golden generation split at </think>.
  const text: string = golden.generated_text;
  const endThink = text.indexOf('</think>');
  expect(run.reasoning).toBe(text.slice(0, endThink).replace('<think>', '').trimStart());
  expect(run.answer.trim()).toBe(golden.answer);
  expect(run.finish).toBe('stop');
  expect(run.usage).toMatchObject({ prompt_tokens: golden.prompt_ids.length, completion_tokens: golden.generated_ids.length });
  const extra = run.usage!.extra as unknown as Record<string, number>;
  expect(extra.decode_tokens_per_s).toBeGreaterThan(0);
  expect(extra.prefill_tokens_per_s).toBeGreaterThan(0);
  expect(extra.kv_held_bytes).toBe(extra.kv_full_bytes); // the full cache: nothing evicted
  expect(extra.kv_evictions).toBe(0);
  // The interrupted follow-up ends with web-llm's finish reason for it, a few chunks in.
  expect(run.interruptedFinish).toBe('abort');
  expect(run.interruptedChunks).toBeLessThan(40);
  // After resetChat the same question gets the same answer; getMessage returns it.
  expect(run.afterReset.trim()).toBe(golden.answer);
  expect(run.message).toBe(run.afterReset);
  expect(run.stats).toMatch(/^prefill: [\d.]+ tokens\/sec, decoding: [\d.]+ tokens\/sec, KV held: [\d.]+ of [\d.]+ MiB \(full cache\), evictions: 0$/);
});
