// The web-llm adapter's request checks and stream shaping, in Node on the CPU reference.
import { pathToFileURL, fileURLToPath } from 'node:url';
import type { ChatCompletionChunk, ChatCompletionRequest } from '@mlc-ai/web-llm';
import { describe, expect, test } from 'vitest';
import { dirModelSource } from '../../scripts/lib/dir-model-source.ts';
import { nodeWebTokenizers } from '../../scripts/lib/node-web-tokenizers.ts';
import { createEngineCore } from '../../src/engine/engine-core.ts';
import { engineFromCore } from '../../src/engine/engine.ts';
import { CrystalEngine, type CrystalChunk } from '../../src/webllm/crystal-engine.ts';
import { toGenerateRequest } from '../../src/webllm/chat-request.ts';
import { BUNDLED_MODEL_DIR, readGolden } from '../helpers/golden.ts';

const defaults = { maxTokens: 100, temperature: 0, topP: 1 };
const user = [{ role: 'user' as const, content: 'hi' }];
const request = (extra: Record<string, unknown>) => ({ messages: user, ...extra }) as unknown as ChatCompletionRequest;

describe('toGenerateRequest', () => {
  test('maps the OpenAI fields', () => {
    const r = toGenerateRequest(request({ max_tokens: 7, temperature: 0.5, top_p: 0.9, seed: 3, stop: 'x', extra_body: { enable_thinking: false } }), {
      ...defaults,
      cache: { policy: 'h2o', budget: 64 },
    });
    expect(r).toMatchObject({ messages: user, maxNewTokens: 7, sampling: { temperature: 0.5, topP: 0.9, seed: 3 }, stop: ['x'], enableThinking: false, reusePrefix: true, cache: { policy: 'h2o', budget: 64 } });
  });

  test.each([
    [{ tools: [{ type: 'function', function: { name: 'f' } }] }, 'UnsupportedFieldError', 'tools'],
    [{ n: 2 }, 'UnsupportedFieldError', 'n'],
    [{ logprobs: true }, 'UnsupportedFieldError', 'logprobs'],
    [{ response_format: { type: 'json_object' } }, 'UnsupportedFieldError', 'response_format'],
    [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 'UnsupportedFieldError', 'image_url'],
    [{ max_tokens: -5 }, 'InvalidRequestError', 'max_tokens must be a positive integer'],
    [{ max_tokens: 2.5 }, 'InvalidRequestError', 'max_tokens must be a positive integer'],
    [{ temperature: Number.NaN }, 'InvalidRequestError', 'temperature must be a finite number >= 0'],
    [{ temperature: -1 }, 'InvalidRequestError', 'temperature must be'],
    [{ top_p: 5 }, 'InvalidRequestError', 'top_p must be a number in (0, 1]'],
    [{ seed: 1.5 }, 'InvalidRequestError', 'seed must be an integer'],
    [{ messages: [] }, 'InvalidRequestError', 'messages must be a non-empty array'],
    [{ messages: [{ role: 'tool', content: 'x', tool_call_id: 'a' }] }, 'InvalidRequestError', 'messages[0].role must be system, user, assistant'],
    [{ stop: [''] }, 'InvalidRequestError', 'stop must be'],
    [{ extra_body: { enable_thinking: 'yes' } }, 'InvalidRequestError', 'extra_body.enable_thinking must be true or false'],
  ])('%j is refused: %s', (extra, name, message) => {
    let error: Error | undefined;
    try {
      toGenerateRequest(request(extra), defaults);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.name).toBe(name);
    expect(error?.message).toContain(message);
  });

  test('explicit defaults of unsupported fields are accepted (n: 1, logprobs: false, tool_choice: none)', () => {
    expect(() => toGenerateRequest(request({ n: 1, logprobs: false, tool_choice: 'none' }), defaults)).not.toThrow();
  });
});

describe('CrystalEngine on the CPU reference', async () => {
  const core = createEngineCore({ source: (url) => dirModelSource(fileURLToPath(url)), tokenizerLib: nodeWebTokenizers() });
  const engine = new CrystalEngine(engineFromCore(core), {
    appConfig: { model_list: [{ model: pathToFileURL(BUNDLED_MODEL_DIR + '/').href, model_id: 'tiny', model_lib: '' }] },
  });
  const golden = readGolden()[0];

  test('before reload: a named error', async () => {
    await expect(engine.chat.completions.create({ messages: user })).rejects.toMatchObject({ name: 'ModelNotLoadedError' });
  });

  test('reload: an unknown model id, a bad KV option are named errors', async () => {
    await expect(engine.reload('nope')).rejects.toMatchObject({ name: 'ModelNotFoundError' });
    await expect(engine.reload('tiny', { kv_cache: { policy: 'h2o', budget: -5 }, backend: 'cpu-reference' } as never)).rejects.toMatchObject({
      name: 'InvalidRequestError',
      message: expect.stringContaining('cache.budget must be a positive integer'),
    });
    await expect(engine.reload('tiny', { kv_cache: { policy: 'crystal', budget: 64, params: { lamda: 0.5 } }, backend: 'cpu-reference' } as never)).rejects.toMatchObject({
      name: 'PolicyParamError',
    });
  });

  test('streamed chunks never carry a stop string; finish_reason stop', async () => {
    await engine.reload('tiny', { backend: 'cpu-reference' } as never);
    const full = await engine.chat.completions.create({ messages: [{ role: 'user', content: golden.user }] });
    const think = (full.choices[0].message as { reasoning_content?: string }).reasoning_content!;
    expect(think.length).toBeGreaterThan(20);
    const stop = think.slice(12, 15);
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of await engine.chat.completions.create({ messages: [{ role: 'user', content: golden.user }], stream: true, stop })) chunks.push(c);
    const streamed = chunks.map((c) => (c as CrystalChunk).choices[0]?.delta.reasoning_content ?? '').join('');
    expect(streamed).toBe(think.slice(0, think.indexOf(stop)));
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('stop');
    expect(chunks.some((c) => c.usage)).toBe(false); // no include_usage: no usage chunk
  });

  test('a second turn counts only its new prompt tokens, as web-llm does', async () => {
    await engine.resetChat();
    const q = [{ role: 'user' as const, content: golden.user }];
    const first = await engine.chat.completions.create({ messages: q, max_tokens: 400 });
    const answer = first.choices[0].message.content!;
    const second = await engine.chat.completions.create({ messages: [...q, { role: 'assistant', content: answer }, ...q], max_tokens: 400 });
    const extra = second.usage!.extra as unknown as Record<string, number>;
    expect(extra.reused_prompt_tokens).toBe(first.usage!.prompt_tokens);
    expect(second.usage!.prompt_tokens).toBeLessThan(first.usage!.prompt_tokens + extra.reused_prompt_tokens);
  });

  test('setInitProgressCallback reports the reload; unload leaves no model', async () => {
    const reports: { progress: number; text: string }[] = [];
    engine.setInitProgressCallback((r) => reports.push(r));
    expect(engine.getInitProgressCallback()).toBeDefined();
    await engine.reload('tiny', { backend: 'cpu-reference' } as never);
    expect(reports.length).toBeGreaterThan(1);
    expect(reports.at(-1)).toMatchObject({ progress: 1, text: expect.stringMatching(/^Loaded tiny/) });
    expect(reports.every((r) => r.progress >= 0 && r.progress <= 1)).toBe(true);
    await engine.unload();
    await expect(engine.chat.completions.create({ messages: user })).rejects.toMatchObject({ name: 'ModelNotLoadedError' });
    await expect(engine.runtimeStatsText()).rejects.toMatchObject({ name: 'ModelNotLoadedError' });
    await engine.reload('tiny', { backend: 'cpu-reference' } as never);
  });

  test('operations Crystal does not do are named errors', async () => {
    await expect(engine.completions.create({ prompt: 'x' })).rejects.toMatchObject({ name: 'UnsupportedOperationError' });
    await expect(engine.embeddings.create({ input: 'x' })).rejects.toMatchObject({ name: 'UnsupportedOperationError' });
    await expect(engine.forwardTokensAndSample([1], true)).rejects.toMatchObject({ name: 'UnsupportedOperationError' });
    await expect(engine.chat.completions.create({ messages: user, model: 'other' })).rejects.toMatchObject({ name: 'InvalidRequestError' });
  });
});
