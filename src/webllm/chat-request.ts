/**
 * An OpenAI chat request (web-llm's ChatCompletionRequest) as the engine's GenerateRequest. Each
 * field is checked under its OpenAI name (InvalidRequestError names it); what Crystal does not do
 * (tools, n > 1, logprobs, images, penalties, structured output) is an UnsupportedFieldError,
 * never a silent drop. The KV policy, budget and mode come from the engine's chat options.
 */
import type { ChatCompletionRequest } from '@mlc-ai/web-llm';
import { InvalidRequestError, UnsupportedFieldError } from '../errors.ts';
import { checkField, validateRequest } from '../engine/validate-request.ts';
import type { ChatMessage, GenerateRequest } from '../engine/types.ts';

/** Request fields Crystal refuses, with why. */
const UNSUPPORTED: Record<string, string> = {
  tools: 'tool calling is not implemented',
  tool_choice: 'tool calling is not implemented',
  logprobs: 'log-probabilities are not read back',
  top_logprobs: 'log-probabilities are not read back',
  logit_bias: 'the sampler takes no logit bias',
  frequency_penalty: 'the sampler applies no penalties',
  presence_penalty: 'the sampler applies no penalties',
  repetition_penalty: 'the sampler applies no penalties',
  response_format: 'structured output (grammars, JSON mode) is not implemented',
  ignore_eos: 'generation always stops at the end-of-turn token',
};

/** Where a request's numbers fall back to: the chat options' sampling, the context's length. */
export interface RequestDefaults {
  maxTokens: number;
  temperature: number;
  topP: number;
  cache?: GenerateRequest['cache'];
}

export function toGenerateRequest(request: ChatCompletionRequest, defaults: RequestDefaults): GenerateRequest {
  const r = request as unknown as Record<string, unknown>;
  for (const [field, why] of Object.entries(UNSUPPORTED)) {
    const v = r[field];
    // An explicit "off" (false, null, 0, "none") is what the field's default means: accepted.
    if (v !== undefined && v !== null && v !== false && v !== 0 && v !== 'none') throw new UnsupportedFieldError(field, why);
  }
  if (request.n !== undefined && request.n !== null && request.n !== 1) {
    if (!Number.isInteger(request.n) || request.n < 1) throw new InvalidRequestError('n', 'a positive integer', request.n);
    throw new UnsupportedFieldError('n', 'one choice is generated per request (n: 1)');
  }
  const maxTokens = request.max_tokens ?? defaults.maxTokens;
  checkField.positiveInteger('max_tokens', maxTokens);
  const temperature = request.temperature ?? defaults.temperature;
  checkField.temperature('temperature', temperature);
  const topP = request.top_p ?? defaults.topP;
  checkField.topP('top_p', topP);
  const seed = request.seed ?? 0;
  checkField.seed('seed', seed);
  const stop = request.stop === undefined || request.stop === null ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string' && s !== '')) throw new InvalidRequestError('stop', 'a non-empty string or an array of them', request.stop);
  const thinking = request.extra_body?.enable_thinking;
  if (thinking !== undefined && thinking !== null && typeof thinking !== 'boolean') {
    throw new InvalidRequestError('extra_body.enable_thinking', 'true or false', thinking);
  }
  const generate: GenerateRequest = {
    messages: toMessages(request.messages),
    maxNewTokens: maxTokens,
    sampling: { temperature, topP, seed },
    stop,
    enableThinking: thinking ?? undefined,
    reusePrefix: true, // as web-llm does: a conversation that goes on prefills only its new turn
    cache: defaults.cache,
  };
  validateRequest(generate); // the engine's own check (messages and their roles, the cache), so create() rejects before anything streams
  return generate;
}

/** Text parts joined into one string; the roles and the list itself are the engine's check (validateRequest). */
function toMessages(messages: ChatCompletionRequest['messages']): ChatMessage[] {
  if (!Array.isArray(messages)) return messages;
  return messages.map((m, i) => {
    if (m?.role === 'assistant' && m.tool_calls !== undefined) throw new UnsupportedFieldError(`messages[${i}].tool_calls`, 'tool calling is not implemented');
    const content = m?.content ?? '';
    if (Array.isArray(content)) {
      // Text parts are joined; an image or audio part is not something this engine reads.
      const parts = content as { type: string; text?: string }[];
      const other = parts.find((p) => p.type !== 'text');
      if (other) throw new UnsupportedFieldError(`messages[${i}].content (${other.type})`, 'only text is read (no images or audio)');
      return { role: m.role as ChatMessage['role'], content: parts.map((p) => p.text ?? '').join('') };
    }
    if (typeof content !== 'string') throw new InvalidRequestError(`messages[${i}].content`, 'a string or text parts', content);
    return { role: m.role as ChatMessage['role'], content };
  });
}
