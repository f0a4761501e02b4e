/**
 * The only list of eviction policies: id -> factory, paper, one-line summary. Adding a policy:
 * its file (header: paper, every choice made where the paper is silent), an entry here, its own
 * test file, and a README row; the matrix test picks it up from here.
 */
import { createCrystal } from './crystal.ts';
import { createCrystalLite, type CrystalParams } from './crystal-lite.ts';
import { createFull } from './full.ts';
import { createH2o } from './h2o.ts';
import { createLaprox } from './laprox.ts';
import { createRkv } from './r-kv.ts';
import type { EvictionPolicy } from './policy.ts';
import { createSnapkvD } from './snapkv-d.ts';
import { createStreaming } from './streaming.ts';
import { createTova } from './tova.ts';

export type PolicyParams = Record<string, number>;

const FACTORIES: Record<string, (params: PolicyParams) => EvictionPolicy> = {
  full: () => createFull(),
  streaming: (p) => createStreaming(p),
  h2o: (p) => createH2o(p),
  tova: () => createTova(),
  'snapkv-d': (p) => createSnapkvD(p),
  'r-kv': (p) => createRkv(p),
  laprox: (p) => createLaprox(p),
  crystal: (p) => createCrystal(p as Partial<CrystalParams>),
  'crystal-lite': (p) => createCrystalLite(p as Partial<CrystalParams>),
};

export const POLICY_IDS = Object.keys(FACTORIES);

export function createPolicy(id: string, params: PolicyParams = {}): EvictionPolicy {
  const factory = FACTORIES[id];
  if (!factory) throw new Error(`Unknown eviction policy "${id}". Available: ${POLICY_IDS.join(', ')}.`);
  return factory(params);
}
