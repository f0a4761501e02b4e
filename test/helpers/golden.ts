/** golden.json of the bundled model: an independent float64 forward's greedy runs and logits. */
import { readFileSync } from 'node:fs';

export interface GoldenCase {
  user: string;
  answer: string;
  prompt_ids: number[];
  generated_ids: number[];
  generated_text: string;
  logits_at_positions: Record<string, number[]>;
  argmax_every_position: number[];
  last_position_logits: number[];
}

export const BUNDLED_MODEL_DIR = 'public/models/tiny-reasoner-qwen3';

export function readGolden(dir = BUNDLED_MODEL_DIR): GoldenCase[] {
  return JSON.parse(readFileSync(`${dir}/golden.json`, 'utf8')).cases;
}
