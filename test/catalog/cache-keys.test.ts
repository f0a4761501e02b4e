// web-llm's key scheme, mirrored: folder URLs as cleanModelUrl makes them, scopes per file.
// (cache.gpu.test.ts checks the same keys against web-llm's own hasModelInCache.)
import { describe, expect, test } from 'vitest';
import { CONFIG_SCOPE, fileUrl, folderOf, idFromFolderUrl, MODEL_SCOPE, modelFolderUrl, scopeOf } from '../../src/catalog/cache-keys.ts';

describe('cache keys', () => {
  test('folders resolve under resolve/main/ unless a revision is named', () => {
    expect(modelFolderUrl('https://huggingface.co/mlc-ai/Qwen3-0.6B-q4f16_1-MLC')).toBe('https://huggingface.co/mlc-ai/Qwen3-0.6B-q4f16_1-MLC/resolve/main/');
    expect(modelFolderUrl('https://huggingface.co/mlc-ai/Qwen3-0.6B-q4f16_1-MLC/')).toBe('https://huggingface.co/mlc-ai/Qwen3-0.6B-q4f16_1-MLC/resolve/main/');
    expect(modelFolderUrl('https://huggingface.co/a/b/resolve/v2/')).toBe('https://huggingface.co/a/b/resolve/v2/');
    expect(modelFolderUrl('https://huggingface.co/a/b/resolve/main')).toBe('https://huggingface.co/a/b/resolve/main/');
  });

  test('files, scopes, folders and names', () => {
    const folder = 'https://huggingface.co/mlc-ai/X-MLC/resolve/main/';
    expect(fileUrl(folder, 'params_shard_0.bin')).toBe(folder + 'params_shard_0.bin');
    expect(scopeOf('mlc-chat-config.json')).toBe(CONFIG_SCOPE);
    expect(scopeOf('tensor-cache.json')).toBe(MODEL_SCOPE);
    expect(scopeOf('tokenizer.json')).toBe(MODEL_SCOPE);
    expect(folderOf(folder + 'tokenizer.json')).toBe(folder);
    expect(idFromFolderUrl(folder)).toBe('X-MLC');
    expect(idFromFolderUrl('https://example.org/models/Y/')).toBe('Y');
  });
});
