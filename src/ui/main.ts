/**
 * The page: choose a model, a policy and its budget, run a reasoning prompt in the worker engine,
 * and watch the think stage stream beside the cache's occupancy and one head's attention; or run
 * the same prompt under two settings side by side, or chat over several turns. It codes against
 * the Engine interface only. This file wires the panels, each of one concern: the settings, the
 * model, the runner (with the chat) and the view switch.
 */
import { createWorkerEngine } from '../engine/interface.ts';
import { createErrorView } from './error-view.ts';
import { createFieldErrors } from './field-errors.ts';
import { BUNDLED, createModelPanel } from './model-panel.ts';
import { enableOffline } from './offline.ts';
import { createRunnerPanel } from './runner-panel.ts';
import { createSettingsPanel } from './settings-panel.ts';
import { createViewSwitch } from './views.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
/** The status line: each panel says there why something did or did not happen. */
const genStatus = $('gen-status');
const fieldErrors = createFieldErrors();
const engine = createWorkerEngine();

// The panels call each other only through these callbacks, which run after all three exist.
const settings = createSettingsPanel(
  {
    controls: {
      policy: $('policy'),
      budget: $('budget'),
      mode: $('mode'),
      temperature: $('temperature'),
      topP: $('top-p'),
      seed: $('seed'),
      maxTokens: $('max-tokens'),
      comparePolicy: $('compare-policy'),
      compareBudget: $('compare-budget'),
      watchLayer: $('watch-layer'),
      watchHead: $('watch-head'),
    },
    policySummary: $('policy-summary'),
    policyPaper: $('policy-paper'),
    prompt: $('prompt'),
    example: $('example'),
    share: $('share'),
    thinking: $('chat-thinking'),
    status: genStatus,
  },
  {
    fieldErrors,
    examplesUrl: new URL(BUNDLED.path + 'eval.jsonl', location.href),
    estimateChanged: () => void models.showNeeds(),
    headChanged: (head) => runner.setHead(head),
  },
);

const errors = createErrorView($('error'), $('reload-model'), async () => {
  await models.reload();
  genStatus.textContent = 'The model was loaded again: run when ready.';
});

const models = createModelPanel(
  {
    select: $('model'),
    info: $('model-info'),
    needs: $('model-needs'),
    download: $('download'),
    downloadProgress: $('download-progress'),
    downloadStatus: $('download-status'),
    downloadCancel: $('download-cancel'),
    url: $('model-url'),
    loadUrl: $('load-url'),
    status: $('model-status'),
    loadProgress: $('load-progress'),
    cached: $('cached-models'),
    catalogStatus: $('catalog-status'),
    storage: $('storage'),
    persist: $('persist'),
  },
  {
    engine,
    errors,
    settings,
    setStartable: (enabled) => runner.setStartable(enabled),
    ready: (info) => {
      settings.fitModel(info);
      runner.showModel(info);
    },
  },
);

const runner = createRunnerPanel(
  {
    run: $('run'),
    compare: $('compare'),
    stop: $('stop'),
    status: genStatus,
    promptEcho: $('prompt-echo'),
    thinkText: $('think-text'),
    answerText: $('answer-text'),
    thinkCount: $('think-count'),
    stats: $('stats'),
    crystalMap: $('crystal-map'),
    probeMarks: $('probe-marks'),
    occupancy: $('occupancy'),
    occupancySummary: $('occupancy-summary'),
    heatmap: $('heatmap'),
    heatmapTip: $('heatmap-tip'),
    compareView: $('compare-view'),
    compareA: $('compare-a'),
    compareB: $('compare-b'),
    chat: {
      conversation: $('conversation'),
      system: $('chat-system'),
      thinking: $('chat-thinking'),
      message: $('chat-message'),
      send: $('chat-send'),
      newChat: $('chat-new'),
    },
    chatStop: $('chat-stop'),
  },
  { engine, errors, fieldErrors, settings, models },
);

createViewSwitch({ prompt: $('view-prompt'), chat: $('view-chat') }, settings.current().view, (view) => settings.apply('view', view));

settings.loadExamples().catch((e) => errors.show(e));
enableOffline($('offline'))
  .then(() => models.showStorage())
  .catch((e) => ($('offline').textContent = `Offline use unavailable: ${e instanceof Error ? e.message : String(e)}`));
models.start();
