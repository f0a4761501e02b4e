/**
 * A generation's steps as OpenAI deltas: the think stage's text as `reasoning_content` (the field
 * OpenAI-compatible reasoning servers use), the answer's as `content`, without the think and
 * end-of-turn markers. Text that may be the start of a stop string is held back until it is
 * known not to be one, so a stop string never reaches the caller.
 */
import { withoutMarkers } from '../engine/decode-loop.ts';
import type { Step } from '../engine/types.ts';

export interface ReplyDelta {
  reasoning: string;
  content: string;
}

export interface ReplyDeltas {
  /** What this step adds to each part (empty strings when nothing is released yet). */
  push(step: Step): ReplyDelta;
  /** What was held back, at the end of the generation. */
  end(): ReplyDelta;
  /** The whole reply so far, as released. */
  readonly reasoning: string;
  readonly content: string;
}

/** One part (think or answer): its raw text, and how much of its visible text was released. */
function createPart(stops: readonly string[]) {
  let raw = '';
  let released = 0;
  const hold = Math.max(0, ...stops.map((s) => s.length - 1));
  let visible = '';
  return {
    add(text: string): void {
      raw += text;
    },
    /** The newly releasable text; `final`: nothing is held back. */
    take(final: boolean): string {
      visible = withoutMarkers(raw).trimStart();
      let cut = visible.length;
      for (const s of stops) {
        const i = visible.indexOf(s);
        if (i >= 0) cut = Math.min(cut, i);
      }
      const stopped = cut < visible.length;
      const upTo = final || stopped ? cut : Math.max(released, cut - hold);
      const out = visible.slice(released, upTo);
      released = Math.max(released, upTo);
      return out;
    },
    get text(): string {
      return visible.slice(0, released);
    },
  };
}

export function createReplyDeltas(stops: readonly string[] = []): ReplyDeltas {
  const think = createPart(stops);
  const answer = createPart(stops);
  return {
    push(step) {
      (step.phase === 'think' ? think : answer).add(step.text);
      return { reasoning: think.take(false), content: answer.take(false) };
    },
    end: () => ({ reasoning: think.take(true), content: answer.take(true) }),
    get reasoning() {
      return think.text;
    },
    get content() {
      return answer.text;
    },
  };
}
