/** Scoring of one eval prompt: exact match of the text after </think> with the expected answer. */
export interface EvalItem {
  prompt: string;
  answer: string;
}

export interface EvalOutcome {
  index: number;
  correct: boolean;
  answer: string;
  thinkTokens: number;
  closedThink: boolean;
  generatedTokens: number;
}

export function parseEvalJsonl(text: string): EvalItem[] {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line, i) => {
      const row = JSON.parse(line);
      if (typeof row.prompt !== 'string' || typeof row.answer !== 'string') {
        throw new Error(`eval.jsonl line ${i + 1} needs string fields "prompt" and "answer"`);
      }
      return { prompt: row.prompt, answer: row.answer };
    });
}
