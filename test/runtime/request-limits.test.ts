/** The request limits as pure functions: what each measures, and which code each crossing gets. */
import { parse } from 'graphql';
import { describe, expect, test } from 'vitest';
import { checkRequestLimits, DEFAULT_REQUEST_LIMITS, enforceRequestLimits, lexicalNesting, measureDocument } from '../../runtime/request-limits.js';
import { codeOf } from '../helpers/errors.js';

describe('measureDocument', () => {
  test('counts depth, aliases, directives and weighted cost, fragments where spread', () => {
    const doc = parse(`
      query Q @cached { a: crossBorderPattern(groupBy: [SECTOR]) { cells { value } } ...F vulnerabilities(first: 50) @include(if: true) { items { cve } } }
      fragment F on Query { b: me { id } }`);
    const m = measureDocument(doc, { crossBorderPattern: 100 });
    expect(m).toEqual({ depth: 3, aliases: 2, directives: 2, cost: 100 + 2 + 1 + 1 + 50 + 1 + 1 + 1 });
  });
  test('a fragment spread inside itself is counted once per path, not forever', () => {
    const doc = parse('{ ...F } fragment F on Query { me { id } ...F }');
    expect(measureDocument(doc).cost).toBe(2);
  });
});

describe('lexicalNesting', () => {
  test('counts braces, brackets and parentheses outside strings and comments', () => {
    expect(lexicalNesting('{ a(x: [[1]]) { b } }')).toBe(4);
    expect(lexicalNesting('{ a(x: "{{{{[[[") # {{{{{{\n { b } }')).toBe(2);
    expect(lexicalNesting('{ a(x: """ {{{ " }}} """) }')).toBe(2);
    expect(lexicalNesting('{ a(x: "\\" {{{") }')).toBe(2);
  });
});

describe('checkRequestLimits', () => {
  const L = DEFAULT_REQUEST_LIMITS;
  test.each([
    ['QUERY_TOO_DEEP', `{ ${'a { '.repeat(L.maxDepth)}b${' }'.repeat(L.maxDepth)} }`],
    ['QUERY_TOO_DEEP', `{ ${'a { '.repeat(5000)}b${' }'.repeat(5000)} }`],
    ['QUERY_TOO_MANY_TOKENS', `{ ${'a '.repeat(L.maxTokens)}}`],
    ['QUERY_TOO_MANY_ALIASES', `{ ${Array.from({ length: L.maxAliases + 1 }, (_, i) => `a${i}: b`).join(' ')} }`],
    ['QUERY_TOO_MANY_DIRECTIVES', `{ ${'b @skip(if: false) '.repeat(L.maxDirectives + 1)}}`],
    ['QUERY_TOO_COSTLY', `{ b(first: ${L.maxCost}) }`],
  ])('%s', (code, query) => {
    expect(codeOf(() => checkRequestLimits(query, L))).toBe(code);
  });
  test('a request within every limit passes, and one that does not parse is left to the GraphQL server', () => {
    expect(codeOf(() => checkRequestLimits(`{ ${'a { '.repeat(L.maxDepth - 1)}b${' }'.repeat(L.maxDepth - 1)} }`, L))).toBeUndefined();
    expect(checkRequestLimits('{ a(', L)).toBeUndefined();
  });
});

test('enforceRequestLimits remembers what passed, never what failed', () => {
  const limits = { ...DEFAULT_REQUEST_LIMITS, maxAliases: 1 };
  expect(codeOf(() => enforceRequestLimits('{ a: b }', limits))).toBeUndefined();
  expect(codeOf(() => enforceRequestLimits('{ a: b }', limits))).toBeUndefined();
  for (let i = 0; i < 2; i++) expect(codeOf(() => enforceRequestLimits('{ a: b c: d }', limits))).toBe('QUERY_TOO_MANY_ALIASES');
  // another limits object judges afresh
  expect(codeOf(() => enforceRequestLimits('{ a: b }', { ...limits, maxAliases: 0 }))).toBe('QUERY_TOO_MANY_ALIASES');
});
