/** The model's chat_template (tokenizer_config.json) rendered with @huggingface/jinja. */
import { Template } from '@huggingface/jinja';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatTemplate {
  render(messages: ChatMessage[], addGenerationPrompt?: boolean): string;
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
  return {
    render: (messages, addGenerationPrompt = true) =>
      template.render({
        messages,
        add_generation_prompt: addGenerationPrompt,
        bos_token: special('bos_token'),
        eos_token: special('eos_token'),
      }),
  };
}
