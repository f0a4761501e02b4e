/** The streaming transcript. Model text is only ever added as text nodes, never as HTML. */
import type { Step } from '../engine/interface.ts';

export interface Transcript {
  clear(): void;
  add(step: Step): void;
  thinkTokens(): number;
}

export function createTranscript(think: HTMLElement, answer: HTMLElement, thinkCount: HTMLElement): Transcript {
  let thinking = 0;
  return {
    clear() {
      think.textContent = '';
      answer.textContent = '';
      thinking = 0;
      thinkCount.textContent = '(0 tokens)';
    },
    add(step) {
      if (step.phase === 'think') {
        thinking++;
        thinkCount.textContent = `(${thinking} tokens)`;
        think.append(document.createTextNode(step.text));
      } else {
        let piece = cleanAnswerPiece(step.text);
        if (!answer.textContent) piece = piece.trimStart(); // the blank line after </think>
        if (piece) answer.append(document.createTextNode(piece));
      }
    },
    thinkTokens: () => thinking,
  };
}

/** The </think> marker and end-of-turn tokens belong to the format, not to the answer. */
function cleanAnswerPiece(text: string): string {
  return text.replace(/<\/think>|<\|im_end\|>|<\|endoftext\|>|<\|eot_id\|>/g, '');
}
