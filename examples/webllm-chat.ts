/**
 * An example app written only against web-llm's types: it creates an engine, streams a reasoning
 * chat, reads the usage, interrupts a second answer, resets and asks again. It runs unchanged on
 * web-llm's CreateMLCEngine or Crystal's CreateCrystalEngine: the factory is the only difference.
 * (`reasoning_content` is the field OpenAI-compatible reasoning servers stream the think text in.)
 */
import type { ChatCompletionChunk, ChatOptions, CompletionUsage, MLCEngineConfig, MLCEngineInterface } from '@mlc-ai/web-llm';

export type CreateEngine = (modelId: string, engineConfig?: MLCEngineConfig, chatOptions?: ChatOptions) => Promise<MLCEngineInterface>;

export interface ExampleRun {
  progress: string[];
  reasoning: string;
  answer: string;
  finish: string | null;
  usage: CompletionUsage | undefined;
  interruptedFinish: string | null;
  interruptedChunks: number;
  afterReset: string;
  message: string;
  stats: string;
}

type ReasoningDelta = ChatCompletionChunk.Choice.Delta & { reasoning_content?: string | null };

export async function runExampleChat(create: CreateEngine, modelId: string, engineConfig: MLCEngineConfig, question: string): Promise<ExampleRun> {
  const progress: string[] = [];
  const engine = await create(modelId, { ...engineConfig, initProgressCallback: (p) => progress.push(p.text) });

  // 1. Stream a chat, the think text and the answer apart, and read the usage from the last chunk.
  let reasoning = '';
  let answer = '';
  let finish: string | null = null;
  let usage: CompletionUsage | undefined;
  const stream = await engine.chat.completions.create({
    messages: [{ role: 'user', content: question }],
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 400,
    temperature: 0,
  });
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta as ReasoningDelta | undefined;
    reasoning += delta?.reasoning_content ?? '';
    answer += delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }

  // 2. A follow-up, interrupted after a few chunks.
  let interruptedFinish: string | null = null;
  let interruptedChunks = 0;
  const followUp = await engine.chat.completions.create({
    messages: [
      { role: 'user', content: question },
      { role: 'assistant', content: answer },
      { role: 'user', content: question },
    ],
    stream: true,
    max_tokens: 400,
  });
  for await (const chunk of followUp) {
    if (++interruptedChunks === 3) engine.interruptGenerate();
    interruptedFinish = chunk.choices[0]?.finish_reason ?? interruptedFinish;
  }

  // 3. A new conversation, not streamed.
  await engine.resetChat();
  const reply = await engine.chat.completions.create({ messages: [{ role: 'user', content: question }], max_tokens: 400 });
  const run: ExampleRun = {
    progress,
    reasoning,
    answer,
    finish,
    usage,
    interruptedFinish,
    interruptedChunks,
    afterReset: reply.choices[0].message.content ?? '',
    message: await engine.getMessage(),
    stats: await engine.runtimeStatsText(),
  };
  await engine.unload();
  return run;
}
