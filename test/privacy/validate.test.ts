import { describe, expect, it } from 'vitest';
import { validateDelta, validateEpsilon, validateRho, validateScale, validateSensitivity, validateSigma } from '../../schema/privacy/index.js';
import { AccordError } from '../../schema/errors.js';

function refusal(f: () => unknown): AccordError {
  try {
    f();
  } catch (e) {
    if (e instanceof AccordError) return e;
    throw new Error(`expected an AccordError, got ${String(e)}`);
  }
  throw new Error('expected a refusal');
}

const nonFinite = [Number.NaN, Infinity, -Infinity];
const nonPositive = [0, -0, -1e-12, -5];

describe('parameter validation', () => {
  const table: Array<[string, (x: unknown) => number, string, unknown[], number[]]> = [
    ['epsilon', validateEpsilon, 'INVALID_EPSILON', [...nonFinite, ...nonPositive, 50.0001, 1e9, '1', null, undefined], [1e-9, 0.1, 1, 50]],
    ['rho', validateRho, 'INVALID_RHO', [...nonFinite, ...nonPositive, 51, '0.1', {}], [1e-9, 0.05, 50]],
    ['delta', validateDelta, 'INVALID_DELTA', [...nonFinite, ...nonPositive, 1, 1.5, 0.5, 0.0101], [1e-12, 1e-6, 0.01]],
    ['sigma', validateSigma, 'INVALID_SIGMA', [...nonFinite, ...nonPositive, 1e7 + 1], [1e-6, 1, 1e7]],
    ['scale', validateScale, 'INVALID_SCALE', [...nonFinite, ...nonPositive, 1e9 + 1], [1e-6, 1, 1e9]],
  ];

  it.each(table)('%s: refuses NaN, ±Infinity, ≤ 0, absurd and non-numbers; accepts sane values', (_name, f, code, bad, good) => {
    for (const x of bad) {
      const e = refusal(() => f(x));
      expect(e.code).toBe(code);
      expect(e.status).toBe(400);
      expect(e.message.length).toBeGreaterThan(20);
    }
    for (const x of good) expect(f(x)).toBe(x);
  });

  it('sensitivities must be non-negative safe integers', () => {
    for (const x of [-1, 1.5, Number.NaN, Infinity, 2 ** 60]) expect(refusal(() => validateSensitivity(x)).code).toBe('INVALID_SENSITIVITY');
    expect(validateSensitivity(0)).toBe(0);
    expect(validateSensitivity(12)).toBe(12);
  });
});
