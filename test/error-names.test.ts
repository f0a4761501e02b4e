/**
 * Error names identify the failure across the worker boundary (prototypes do not cross it), so
 * each class spells its own as a literal: the production build's minifier renames classes, and
 * `new.target.name` then gave "me". Every exported class's instances carry its exported name.
 */
import { expect, test } from 'vitest';
import * as errors from '../src/errors.ts';

test('every error class names itself with a literal equal to its export', () => {
  const classes = Object.entries(errors).filter(([, v]) => typeof v === 'function' && v.prototype instanceof Error);
  expect(classes.length).toBeGreaterThan(20);
  for (const [exported, cls] of classes) {
    // Placeholder arguments (only the name is under test): strings, or a list where a message joins one.
    const make = (arg: unknown) => Reflect.construct(cls as new (...a: unknown[]) => Error, [arg, arg, arg, arg]) as Error;
    let e: Error;
    try {
      e = make('x');
    } catch {
      e = make(['x']);
    }
    expect(e.name, exported).toBe(exported);
    expect(e).toBeInstanceOf(errors.CrystalError);
  }
});
