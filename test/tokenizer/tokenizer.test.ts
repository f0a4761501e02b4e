import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { nodeWebTokenizers } from '../../scripts/lib/node-web-tokenizers.ts';
import { createChatTemplate } from '../../src/tokenizer/chat-template.ts';
import { createStreamDecoder, loadTokenizer } from '../../src/tokenizer/tokenizer.ts';
import { BUNDLED_MODEL_DIR, readGolden } from '../helpers/golden.ts';

const bytes = (f: string) => {
  const b = readFileSync(`${BUNDLED_MODEL_DIR}/${f}`);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
};

describe('tokenizer and chat template', async () => {
  const tokenizer = await loadTokenizer(bytes('tokenizer.json'), nodeWebTokenizers());
  const template = createChatTemplate(JSON.parse(readFileSync(`${BUNDLED_MODEL_DIR}/tokenizer_config.json`, 'utf8')));

  test('renders and tokenizes every golden prompt exactly', () => {
    for (const c of readGolden()) {
      const text = template.render([{ role: 'user', content: c.user }]);
      expect(text).toBe(`<|im_start|>user\n${c.user}<|im_end|>\n<|im_start|>assistant\n`);
      expect(tokenizer.encode(text)).toEqual(c.prompt_ids);
    }
  });

  test('streams the golden generations piece by piece to the same text', () => {
    for (const c of readGolden()) {
      const decoder = createStreamDecoder(tokenizer);
      const pieces = c.generated_ids.map((id) => decoder.push(id));
      expect(pieces.join('')).toBe(c.generated_text);
      expect(decoder.text()).toBe(c.generated_text);
    }
  });

  test('a multi-byte character split over tokens is held back until whole', () => {
    // A fake byte-level tokenizer: ids are bytes of UTF-8.
    const fake = {
      encode: (t: string) => Array.from(new TextEncoder().encode(t)),
      decode: (ids: readonly number[]) => new TextDecoder().decode(Uint8Array.from(ids)),
      vocabSize: 256,
    };
    const decoder = createStreamDecoder(fake);
    const pieces = fake.encode('aé€b').map((id) => decoder.push(id));
    expect(pieces).toEqual(['a', '', 'é', '', '', '€', 'b']);
  });
});
