/** mlc-chat-config.json for a converted or generated model (scripts only; no Node imports). */
import type { ModelConfig } from '../../src/model/config.ts';
import type { MlcQuantization } from '../../src/model/mlc-config.ts';

/** mlc-chat-config.json as mlc-llm's gen_config writes it, with the fields web-llm reads. */
export function mlcChatConfig(raw: Record<string, unknown>, c: ModelConfig, quantization: MlcQuantization, gen: Record<string, unknown>, tokenizerFiles: string[]): Record<string, unknown> {
  const eos = gen.eos_token_id ?? raw.eos_token_id;
  const eosIds = Array.isArray(eos) ? eos : eos === undefined ? [] : [eos];
  const chatml = c.architecture !== 'llama';
  return {
    version: '0.1.0',
    model_type: c.architecture,
    quantization,
    model_config: {
      ...raw,
      context_window_size: c.maxPositions,
      prefill_chunk_size: Math.min(2048, c.maxPositions),
      tensor_parallel_shards: 1,
      max_batch_size: 1,
    },
    vocab_size: c.vocabSize,
    context_window_size: c.maxPositions,
    sliding_window_size: -1,
    prefill_chunk_size: Math.min(2048, c.maxPositions),
    attention_sink_size: -1,
    tensor_parallel_shards: 1,
    pipeline_parallel_stages: 1,
    temperature: gen.temperature ?? 1.0,
    top_p: gen.top_p ?? 1.0,
    presence_penalty: 0.0,
    frequency_penalty: 0.0,
    repetition_penalty: 1.0,
    tokenizer_files: tokenizerFiles,
    tokenizer_info: { token_postproc_method: 'byte_level', prepend_space_in_encode: false, strip_space_in_decode: false },
    conv_template: chatml
      ? {
          name: 'chatml',
          system_template: '<|im_start|>system\n{system_message}<|im_end|>\n',
          system_message: '',
          roles: { user: '<|im_start|>user', assistant: '<|im_start|>assistant' },
          seps: ['<|im_end|>\n'],
          role_content_sep: '\n',
          role_empty_sep: '\n',
          stop_str: ['<|im_end|>'],
          stop_token_ids: eosIds,
          system_prefix_token_ids: null,
          add_role_after_system_message: true,
        }
      : {
          name: 'llama-3',
          system_template: '<|start_header_id|>system<|end_header_id|>\n\n{system_message}<|eot_id|>',
          system_message: '',
          roles: { user: '<|start_header_id|>user', assistant: '<|start_header_id|>assistant' },
          seps: ['<|eot_id|>'],
          role_content_sep: '<|end_header_id|>\n\n',
          role_empty_sep: '<|end_header_id|>\n\n',
          stop_str: [],
          stop_token_ids: eosIds,
          system_prefix_token_ids: raw.bos_token_id === undefined ? null : [raw.bos_token_id],
          add_role_after_system_message: true,
        },
    pad_token_id: raw.pad_token_id ?? 0,
    bos_token_id: raw.bos_token_id ?? null,
    eos_token_id: eos ?? null,
  };
}

