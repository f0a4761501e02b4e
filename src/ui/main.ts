/**
 * The page: load the bundled model in the worker engine, stream the think stage and the
 * answer, Run and Stop. It codes against the Engine interface only.
 */
import { createWorkerEngine } from '../engine/client.ts';
import type { Engine } from '../engine/engine.ts';
import { GREEDY } from '../engine/types.ts';
import { createTranscript } from './transcript.ts';

const BUNDLED = { id: 'tiny-reasoner-qwen3', label: 'tiny-reasoner-qwen3 (bundled, 1M params)', path: 'models/tiny-reasoner-qwen3/' };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const modelSelect = $<HTMLSelectElement>('model');
const modelStatus = $('model-status');
const loadProgress = $<HTMLProgressElement>('load-progress');
const promptBox = $<HTMLTextAreaElement>('prompt');
const maxTokens = $<HTMLInputElement>('max-tokens');
const runButton = $<HTMLButtonElement>('run');
const stopButton = $<HTMLButtonElement>('stop');
const exampleButton = $<HTMLButtonElement>('example');
const genStatus = $('gen-status');
const errorBox = $('error');
const transcript = createTranscript($('think-text'), $('answer-text'), $('think-count'));

const option = document.createElement('option');
option.value = BUNDLED.id;
option.textContent = BUNDLED.label;
modelSelect.append(option);

function showError(e: unknown) {
  errorBox.hidden = false;
  errorBox.textContent = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

let examples: string[] = [];
let exampleIndex = 0;
async function loadExamples() {
  const response = await fetch(new URL(BUNDLED.path + 'eval.jsonl', location.href));
  examples = (await response.text())
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l).prompt as string);
  promptBox.value = examples[0] ?? '';
}
exampleButton.addEventListener('click', () => {
  if (examples.length === 0) return;
  exampleIndex = (exampleIndex + 1) % examples.length;
  promptBox.value = examples[exampleIndex];
});

const engine: Engine = createWorkerEngine();

async function loadBundled() {
  const url = new URL(BUNDLED.path, location.href).href;
  const info = await engine.load({ url, name: BUNDLED.id }, (p) => {
    loadProgress.max = p.total || 1;
    loadProgress.value = p.loaded;
    modelStatus.textContent = `Loading ${p.stage}…`;
  });
  loadProgress.value = loadProgress.max;
  modelStatus.textContent =
    `${info.name}: ${info.architecture}, ${info.numLayers} layers, ${info.numHeads}/${info.numKvHeads} heads, ` +
    `${(info.parameters / 1e6).toFixed(2)}M params on ${info.backend === 'gpu' ? 'WebGPU' : 'CPU'} (${info.adapter})`;
  document.body.dataset.modelReady = 'true';
  runButton.disabled = false;
}

async function run() {
  errorBox.hidden = true;
  transcript.clear();
  runButton.disabled = true;
  stopButton.disabled = false;
  document.body.dataset.generating = 'true';
  genStatus.textContent = 'Prefilling…';
  const generation = engine.generate({
    prompt: promptBox.value,
    maxNewTokens: Math.max(1, Number(maxTokens.value) || 512),
    sampling: GREEDY,
  });
  try {
    let count = 0;
    const started = performance.now();
    for await (const step of generation) {
      transcript.add(step);
      count++;
      const seconds = (performance.now() - started) / 1000;
      genStatus.textContent = `${count} tokens, ${(count / seconds).toFixed(1)} tok/s`;
    }
    const r = await generation.result;
    $('think-count').textContent = `(${r.thinkTokens} tokens)`;
    genStatus.textContent =
      `${r.generatedIds.length} tokens (${r.thinkTokens} thinking${r.closedThink ? '' : ', </think> not reached'}), ` +
      `${r.tokensPerSecond.toFixed(1)} tok/s, first token after ${r.timeToFirstTokenMs.toFixed(0)} ms, stopped: ${r.stopReason}`;
    document.body.dataset.lastStop = r.stopReason;
  } catch (e) {
    showError(e);
    genStatus.textContent = 'Generation failed.';
  } finally {
    runButton.disabled = false;
    stopButton.disabled = true;
    document.body.dataset.generating = 'false';
  }
}

runButton.addEventListener('click', () => void run());
stopButton.addEventListener('click', () => void engine.abort());

loadExamples().catch(showError);
loadBundled().catch((e) => {
  modelStatus.textContent = 'The model could not be loaded.';
  showError(e);
});
