/**
 * Chat mode: a conversation with a system prompt and a thinking switch. Each turn sends the whole
 * history with reusePrefix, so the engine keeps the KV of what the previous turn already prefilled
 * and prefills only the new tokens; the turn reports both counts. An assistant turn enters the
 * history with its answer only (OpenAI's `content`; the think text is not sent back), as the
 * Qwen3 template drops it anyway. Turns are rendered as text.
 */
import type { ChatMessage, Engine, GenerateRequest, GenerationResult } from '../engine/interface.ts';
import type { FieldErrors } from './field-errors.ts';
import type { LiveRun } from './live-run.ts';
import { createTranscript, type Transcript } from './transcript.ts';

export interface ChatElements {
  conversation: HTMLElement;
  system: HTMLTextAreaElement;
  thinking: HTMLInputElement;
  message: HTMLTextAreaElement;
  send: HTMLButtonElement;
  newChat: HTMLButtonElement;
  status: HTMLElement;
}

export interface ChatDeps {
  engine: Engine;
  fieldErrors: FieldErrors;
  /** The settings' part of a request (length, sampling, cache, telemetry); null when a field is invalid (the page has said so). */
  settingsRequest(): Omit<GenerateRequest, 'prompt' | 'messages'> | null;
  /** Streams a request into the transcript and the live views (live-run.ts). */
  stream(request: GenerateRequest, transcript: Transcript, label: string): Promise<LiveRun>;
  /** Runs work as the page's one generation: buttons, Stop, and errors shown (it rethrows nothing). */
  guarded(work: () => Promise<void>): Promise<void>;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  e.textContent = text;
  return e;
}

/** What the history keeps of a turn: the answer. A think stage that never closed has none (the engine's answer is then the think text). */
function answerOf(r: GenerationResult, thinking: boolean): string {
  return thinking && !r.closedThink ? '' : r.answer;
}

function turnStats(r: GenerationResult): string {
  return (
    `prompt ${r.promptTokens} tokens: ${r.reusedTokens} reused from the cache, ${r.prefilledTokens} prefilled ` +
    `(${r.prefillTokensPerSecond.toFixed(0)} tok/s); ${r.generatedIds.length} generated (${r.tokensPerSecond.toFixed(1)} tok/s), ` +
    `think ${r.thinkTokens} tokens, stopped: ${r.stopReason}`
  );
}

export function createChat(ui: ChatElements, deps: ChatDeps): void {
  let history: ChatMessage[] = [];
  let turns = 0;

  function userTurn(content: string) {
    const turn = el('article', 'turn user');
    turn.append(el('h3', '', 'You'), el('pre', 'content', content));
    ui.conversation.append(turn);
  }

  function assistantTurn(thinking: boolean) {
    const turn = el('article', 'turn assistant');
    const think = el('details', 'think');
    const count = el('span', 'think-count', '(0 tokens)');
    const summary = el('summary', '', 'Thinking ');
    summary.append(count);
    const thinkText = el('pre', 'think-text');
    think.append(summary, thinkText);
    think.open = true;
    think.hidden = !thinking;
    const answer = el('pre', 'answer');
    const stats = el('p', 'turn-stats hint');
    turn.append(el('h3', '', 'Assistant'), think, answer, stats);
    ui.conversation.append(turn);
    turn.scrollIntoView({ block: 'nearest' });
    return { turn, think, count, answer, stats, transcript: createTranscript(thinkText, answer, count) };
  }

  async function send() {
    const content = ui.message.value;
    if (content.trim() === '') {
      deps.fieldErrors.set(ui.message, 'Must be a user message with text.');
      ui.status.textContent = 'Nothing was sent: the message is empty.';
      return;
    }
    deps.fieldErrors.set(ui.message, null);
    const settings = deps.settingsRequest();
    if (!settings) return;
    const thinking = ui.thinking.checked;
    const system = ui.system.value.trim() === '' ? [] : [{ role: 'system' as const, content: ui.system.value }];
    const messages: ChatMessage[] = [...system, ...history, { role: 'user', content }];
    const turn = ++turns;
    ui.message.value = '';
    userTurn(content);
    const reply = assistantTurn(thinking);
    await deps.guarded(async () => {
      try {
        const { result: r } = await deps.stream({ ...settings, messages, enableThinking: thinking, reusePrefix: true }, reply.transcript, `Turn ${turn}`);
        history = [...history, { role: 'user', content }, { role: 'assistant', content: answerOf(r, thinking) }];
        if (!reply.answer.textContent) reply.answer.textContent = answerOf(r, thinking) || '(no answer)';
        reply.think.open = false;
        reply.count.textContent = `(${r.thinkTokens} tokens)`; // the engine's count: <think> itself is not one
        reply.stats.textContent = turnStats(r);
        Object.assign(reply.turn.dataset, { promptTokens: String(r.promptTokens), reused: String(r.reusedTokens), prefilled: String(r.prefilledTokens), stop: r.stopReason });
        ui.status.textContent = `Turn ${turn}: ${r.generatedIds.length} tokens, ${r.reusedTokens} of ${r.promptTokens} prompt tokens reused, stopped: ${r.stopReason}`;
        ui.conversation.dataset.turns = String(history.length / 2);
      } catch (e) {
        // The history stays as it was; the message goes back in the box to send again.
        reply.turn.classList.add('failed');
        reply.stats.textContent = 'This turn failed; it is not part of the conversation.';
        if (ui.message.value === '') ui.message.value = content;
        throw e;
      }
    });
  }

  ui.send.addEventListener('click', () => void send());
  ui.message.addEventListener('keydown', (e) => {
    // Ctrl+Enter sends: a plain Enter stays a line break, as the bundled model's programs are lines.
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !ui.send.disabled) {
      e.preventDefault();
      void send();
    }
  });
  ui.message.addEventListener('input', () => {
    if (ui.message.value.trim() !== '') deps.fieldErrors.set(ui.message, null);
  });
  ui.newChat.addEventListener('click', async () => {
    await deps.engine.resetChat();
    history = [];
    turns = 0;
    ui.conversation.textContent = '';
    delete ui.conversation.dataset.turns;
    ui.status.textContent = 'New chat: the next turn prefills its whole prompt.';
  });
}
