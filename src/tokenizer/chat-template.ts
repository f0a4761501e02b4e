/** The model's chat_template (tokenizer_config.json) rendered with @huggingface/jinja. */
import { Template } from '@huggingface/jinja';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A function the model may call, in the OpenAI `tools` shape; templates print it with `tojson`. */
export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export interface ChatTemplateOptions {
  /** Qwen3's `enable_thinking`: false makes the template open the answer with an empty think block. */
  enableThinking?: boolean;
  tools?: readonly ChatTool[];
  /** Llama 3.x's `date_string` (e.g. "26 Jul 2024"); without it those templates call `strftime_now`. */
  dateString?: string;
}

export interface ChatTemplate {
  render(messages: readonly ChatMessage[], addGenerationPrompt?: boolean, options?: ChatTemplateOptions): string;
}

export function createChatTemplate(tokenizerConfig: Record<string, unknown>): ChatTemplate {
  const source = tokenizerConfig.chat_template;
  const text = typeof source === 'string' ? source : undefined;
  // Models without a template get the ChatML format Qwen uses.
  const template = new Template(
    text ??
      "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
  );
  const special = (key: string): string => {
    const v = tokenizerConfig[key];
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && 'content' in v) return String((v as { content: unknown }).content);
    return '';
  };
  const tokens = { bos_token: special('bos_token'), eos_token: special('eos_token') };
  return {
    render: (messages, addGenerationPrompt = true, options = {}) => {
      // Templates test these with `is defined` (Qwen3: `enable_thinking is defined and enable_thinking
      // is false`; Llama 3.x: `if not date_string is defined`), so an option not given stays undefined
      // rather than becoming false or null.
      const vars: Record<string, unknown> = { ...tokens, messages, add_generation_prompt: addGenerationPrompt };
      if (options.enableThinking !== undefined) vars.enable_thinking = options.enableThinking;
      if (options.tools !== undefined) vars.tools = options.tools;
      if (options.dateString !== undefined) vars.date_string = options.dateString;
      return template.render(vars);
    },
  };
}
