/**
 * The runner panel: Run and Compare over the prompt, and the chat's turns (chat.ts), each as the
 * page's one generation (start buttons off, Stop on, an error shown and the page left usable),
 * drawn into the live views (transcript, occupancy, heatmap), the stats, the crystal map and the
 * compare cards.
 */
import type { Engine, GenerateRequest, GenerationResult, ModelInfo } from '../engine/interface.ts';
import { createChat, type ChatElements } from './chat.ts';
import { createCompareCard, type RunSummary } from './compare.ts';
import { showCrystalMap } from './crystal-map.ts';
import { createProbeMarksView } from './probe-marks.ts';
import type { ErrorView } from './error-view.ts';
import type { FieldErrors } from './field-errors.ts';
import { createHeatmap } from './heatmap.ts';
import { streamRun } from './live-run.ts';
import { createOccupancyView } from './occupancy.ts';
import { cacheOf, type Settings } from './settings.ts';
import { createTranscript } from './transcript.ts';

export interface RunnerElements {
  run: HTMLButtonElement;
  compare: HTMLButtonElement;
  stop: HTMLButtonElement;
  /** The page's status line: progress and the outcome of each generation. */
  status: HTMLElement;
  promptEcho: HTMLElement;
  thinkText: HTMLElement;
  answerText: HTMLElement;
  thinkCount: HTMLElement;
  stats: HTMLElement;
  crystalMap: HTMLElement;
  probeMarks: HTMLElement;
  occupancy: HTMLElement;
  occupancySummary: HTMLElement;
  heatmap: HTMLCanvasElement;
  heatmapTip: HTMLElement;
  compareView: HTMLElement;
  compareA: HTMLElement;
  compareB: HTMLElement;
  chat: Omit<ChatElements, 'status'>;
  chatStop: HTMLButtonElement;
}

export interface RunnerDeps {
  engine: Engine;
  errors: ErrorView;
  fieldErrors: FieldErrors;
  settings: {
    current(): Settings;
    prompt(): string;
    fieldsReady(): boolean;
    promptReady(): boolean;
    expectedAnswer(prompt: string | undefined): string | undefined;
  };
  /** The loaded model, what a lost device does to it, and the storage line a run may change. */
  models: { model(): ModelInfo | null; drop(): void; showStorage(): void };
}

export interface RunnerPanel {
  /** Run, Compare, Send and New chat, enabled or disabled together. */
  setStartable(enabled: boolean): void;
  /** The occupancy grid takes a loaded model's layers and KV heads. */
  showModel(info: ModelInfo): void;
  /** The heatmap draws this KV head. */
  setHead(head: number): void;
}

/** What every generation takes from the settings: length, sampling, cache and the telemetry the views draw. */
function settingsRequest(s: Settings, budget: number, policy: string): Omit<GenerateRequest, 'prompt' | 'messages'> {
  return {
    maxNewTokens: s.maxTokens,
    sampling: { temperature: s.temperature, topP: s.topP, seed: s.seed },
    cache: cacheOf(s, policy, budget),
    telemetry: { watchLayer: s.watchLayer },
  };
}

function describeRun(s: Settings, policy: string, budget: number): string {
  return cacheOf(s, policy, budget) ? `${policy}, budget ${budget} (${s.mode})` : 'full cache';
}

function showStats(stats: HTMLElement, r: GenerationResult, peakBytes: number) {
  stats.textContent = '';
  const rows: [string, string][] = [
    ['tokens/s', r.tokensPerSecond.toFixed(1)],
    ['first token', `${r.timeToFirstTokenMs.toFixed(0)} ms`],
    ['think length', `${r.thinkTokens} tokens`],
    ['</think> reached', r.closedThink ? 'yes' : 'no'],
    ['peak KV held', `${(peakBytes / 2 ** 20).toFixed(3)} MiB`],
    ['stopped', r.stopReason],
  ];
  for (const [term, value] of rows) stats.append(Object.assign(document.createElement('dt'), { textContent: term }), Object.assign(document.createElement('dd'), { textContent: value }));
}

export function createRunnerPanel(ui: RunnerElements, deps: RunnerDeps): RunnerPanel {
  const { engine, errors, settings, models } = deps;
  /** What starts a generation, and what stops one: enabled and disabled together. */
  const startButtons = [ui.run, ui.compare, ui.chat.send, ui.chat.newChat];
  const stopButtons = [ui.stop, ui.chatStop];
  const transcript = createTranscript(ui.thinkText, ui.answerText, ui.thinkCount);
  const occupancy = createOccupancyView(ui.occupancy, ui.occupancySummary);
  const heatmap = createHeatmap(ui.heatmap, ui.heatmapTip);
  const liveViews = { occupancy, heatmap, status: ui.status, probeMarks: createProbeMarksView(ui.probeMarks) };

  const setStartable = (enabled: boolean) => startButtons.forEach((b) => (b.disabled = !enabled));
  const request = (s: Settings, budget: number, policy: string): GenerateRequest => ({ prompt: settings.prompt(), ...settingsRequest(s, budget, policy) });

  /** One generation drawn into the live views; resolves with what the compare cards show. */
  async function runOnce(req: GenerateRequest, label: string): Promise<RunSummary> {
    transcript.clear();
    ui.promptEcho.textContent = req.prompt ?? ''; // as text: a prompt may hold markup
    ui.stats.textContent = '';
    ui.crystalMap.textContent = '';
    const { result: r, peakBytes, kept } = await streamRun(engine, liveViews, models.model()!, req, transcript, { label, watchHead: settings.current().watchHead });
    ui.thinkCount.textContent = `(${r.thinkTokens} tokens)`;
    showStats(ui.stats, r, peakBytes);
    ui.status.textContent = `${label}: ${r.generatedIds.length} tokens${r.closedThink ? '' : ', </think> not reached'}, stopped: ${r.stopReason}`;
    document.body.dataset.lastStop = r.stopReason;
    if (r.closedThink && r.stopReason === 'eos') {
      showCrystalMap(ui.crystalMap, await engine.analyzeAnswer(req, r.generatedIds), kept, label);
    }
    const expected = settings.expectedAnswer(req.prompt);
    return { label, result: r, peakBytes, correct: expected === undefined ? null : r.answer === expected };
  }

  /**
   * Runs one generation's work with the page locked to it. An error is shown as text and leaves
   * the page usable; a lost device also drops the model (the engine did), until Reload model.
   */
  async function guarded(work: () => Promise<void>) {
    errors.hide();
    setStartable(false);
    stopButtons.forEach((b) => (b.disabled = false));
    document.body.dataset.generating = 'true';
    try {
      await work();
    } catch (e) {
      errors.show(e);
      ui.status.textContent = 'Generation failed.';
      if (errors.deviceLost) {
        models.drop();
        ui.status.textContent = 'Generation failed: the GPU device was lost. The transcript so far is kept.';
      }
    } finally {
      setStartable(models.model() !== null);
      stopButtons.forEach((b) => (b.disabled = true));
      document.body.dataset.generating = 'false';
      models.showStorage();
    }
  }

  /** The checks before a single-prompt run: its fields and its prompt, each refused with a message. */
  const runnable = () => settings.fieldsReady() && settings.promptReady();

  ui.run.addEventListener('click', () =>
    runnable() &&
    guarded(async () => {
      ui.compareView.hidden = true;
      const s = settings.current();
      await runOnce(request(s, s.budget, s.policy), describeRun(s, s.policy, s.budget));
    }),
  );

  ui.compare.addEventListener('click', () =>
    runnable() &&
    guarded(async () => {
      ui.compareView.hidden = false;
      ui.compareView.dataset.done = 'false';
      const s = { ...settings.current() };
      ui.compareA.textContent = ui.compareB.textContent = '';
      createCompareCard(ui.compareA, await runOnce(request(s, s.budget, s.policy), describeRun(s, s.policy, s.budget)));
      if (document.body.dataset.lastStop === 'aborted') return;
      createCompareCard(ui.compareB, await runOnce(request(s, s.compareBudget, s.comparePolicy), describeRun(s, s.comparePolicy, s.compareBudget)));
      ui.compareView.dataset.done = 'true';
    }),
  );

  stopButtons.forEach((b) => b.addEventListener('click', () => void engine.abort()));

  createChat(
    { ...ui.chat, status: ui.status },
    {
      engine,
      fieldErrors: deps.fieldErrors,
      settingsRequest: () => {
        if (!settings.fieldsReady()) return null;
        const s = settings.current();
        return settingsRequest(s, s.budget, s.policy);
      },
      stream: (req, turn, label) => streamRun(engine, liveViews, models.model()!, req, turn, { label, watchHead: settings.current().watchHead }),
      guarded,
    },
  );

  return {
    setStartable,
    showModel: (info) => occupancy.reset(info.numLayers, info.numKvHeads),
    setHead: (head) => heatmap.setHead(head),
  };
}
