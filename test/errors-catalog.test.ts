/** The error catalog, its docs page and its use stay in sync. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AccordError, ERROR_CATALOG } from '../schema/errors.js';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map([...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \| (.*) \|$/gm)].map((m) => [m[1]!, { status: Number(m[2]), summary: m[3]! }]));

describe('error catalog', () => {
  it('documents every code with its status and summary, and nothing else', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERROR_CATALOG).sort());
    for (const [code, spec] of Object.entries(ERROR_CATALOG)) {
      expect(documented.get(code)).toEqual({ status: spec.status, summary: spec.summary });
    }
  });

  it('codes are SCREAMING_SNAKE_CASE and statuses are HTTP error statuses', () => {
    for (const [code, spec] of Object.entries(ERROR_CATALOG)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(spec.status).toBeGreaterThanOrEqual(400);
      expect(spec.status).toBeLessThan(600);
    }
  });

  it('AccordError carries code, status and frozen details', () => {
    const e = new AccordError('POLICY_DENIED', 'denied by rule r1', { rule: 'r1' });
    expect(e.code).toBe('POLICY_DENIED');
    expect(e.status).toBe(403);
    expect(Object.isFrozen(e.details)).toBe(true);
  });
});
