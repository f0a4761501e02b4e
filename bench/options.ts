/**
 * The benchmark's options, one list for both ways of running it: npm run bench's command line
 * travels to the browser page as a query string, and Node on Dawn reads the same names.
 *   --runs N --tokens N --model PATH --contexts 1024,4096 --budget N --kernels --quick --sections a,b
 *   --forecast-bandwidth GB/s --forecast-dispatch-us US --forecast-device NAME
 */
import type { KernelSection } from './kernel-bench.ts';
import { ASSUMED_DEVICE, type ForecastDevice } from './step-cost.ts';

export interface BenchOptions {
  runs: number;
  tokens: number;
  /** URL path under the served repository (/models/NAME/ is public/models/NAME/). */
  model: string;
  contexts?: number[];
  budget?: number;
  kernels: boolean;
  quick: boolean;
  /** Kernel sections to run (bandwidth, gemv, attention, score-update); default all. */
  sections?: KernelSection[];
  /** The device the step-cost forecast is for (bench/step-cost.ts; default ASSUMED_DEVICE). */
  forecast: ForecastDevice;
}

export const DEFAULT_MODEL = '/models/tiny-reasoner-qwen3/';

/** Reads the options from a query string (or anything with get). */
export function benchQuery(params: { get(name: string): string | null }): BenchOptions {
  const num = (name: string) => (params.get(name) === null ? undefined : Number(params.get(name)));
  const contexts = params.get('contexts');
  return {
    runs: num('runs') ?? 5,
    tokens: num('tokens') ?? 128,
    model: params.get('model') ?? DEFAULT_MODEL,
    contexts: contexts ? contexts.split(',').map(Number) : undefined,
    budget: num('budget'),
    kernels: params.get('kernels') === '1',
    quick: params.get('quick') === '1',
    sections: params.get('sections')?.split(',') as KernelSection[] | undefined,
    forecast: {
      name: params.get('forecast-device') ?? (num('forecast-bandwidth') ?? num('forecast-dispatch-us') ? 'the stated device' : ASSUMED_DEVICE.name),
      bandwidthGBs: num('forecast-bandwidth') ?? ASSUMED_DEVICE.bandwidthGBs,
      dispatchUs: num('forecast-dispatch-us') ?? ASSUMED_DEVICE.dispatchUs,
    },
  };
}
