/**
 * A policy's parameters, declared once beside its rule: name, default and the range it accepts.
 * resolveParams fills the defaults and rejects an unknown name or an out-of-range value with a
 * PolicyParamError that lists what is allowed, so a typo never runs the default silently.
 */
import { PolicyParamError } from '../errors.ts';

export interface ParamSpec {
  default: number;
  min: number;
  max: number;
  /** Whole numbers only. */
  integer?: boolean;
  /** Odd whole numbers only (pooling kernels). */
  odd?: boolean;
  /** What it means, for the error message and the README. */
  doc: string;
}

export type ParamSchema = Readonly<Record<string, ParamSpec>>;

/** The resolved values of a schema: every name, a number. */
export type Resolved<S extends ParamSchema> = { [K in keyof S]: number };

export function describeSchema(schema: ParamSchema): string {
  return Object.entries(schema)
    .map(([name, s]) => `${name} (${s.odd ? 'odd ' : s.integer ? 'integer ' : ''}${s.min}..${s.max}, default ${s.default}: ${s.doc})`)
    .join(', ');
}

export function resolveParams<S extends ParamSchema>(policy: string, schema: S, given: Readonly<Record<string, number>> = {}): Resolved<S> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(given)) {
    if (!(name in schema)) throw new PolicyParamError(policy, `unknown parameter "${name}"`, describeSchema(schema));
  }
  for (const [name, s] of Object.entries(schema)) {
    const v = given[name] ?? s.default;
    const bad =
      typeof v !== 'number' || !Number.isFinite(v) || v < s.min || v > s.max || ((s.integer || s.odd) && !Number.isInteger(v)) || (s.odd && v % 2 !== 1);
    if (bad) throw new PolicyParamError(policy, `${name} = ${v} is out of range`, describeSchema(schema));
    out[name] = v;
  }
  return out as Resolved<S>;
}

/** The defaults of a schema (for tests and the README). */
export function defaultsOf<S extends ParamSchema>(schema: S): Resolved<S> {
  return Object.fromEntries(Object.entries(schema).map(([k, s]) => [k, s.default])) as Resolved<S>;
}
