/**
 * Limits a GraphQL request must stay within before anything parses it for execution, plans it or
 * reserves budget for it: tokens (checked while parsing, so a deeply nested document is refused
 * before the parser recurses into it), depth, aliases, directives and a weighted cost. Each limit
 * has its own catalog code (HTTP 400) naming the limit and the public maximum, never data.
 *
 * Cost: every field selection weighs 1; a field whose name is in `weights` weighs that much instead
 * (the questions that reserve budget weigh most); a field with an integer `first` or `k` argument
 * adds that number (the rows it may return). Fragments count where they are spread.
 */
import { GraphQLError, Kind, parse, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import { AccordError } from '../schema/errors.js';

export interface RequestLimits {
  /** Most lexical tokens in one document. */
  maxTokens: number;
  /** Deepest field nesting (the root selection is depth 1). */
  maxDepth: number;
  /** Most aliased fields. */
  maxAliases: number;
  /** Most directives. */
  maxDirectives: number;
  /** Largest weighted cost (see the module comment). */
  maxCost: number;
  /** Weight of named fields (default 1). */
  weights?: Readonly<Record<string, number>>;
}

export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = Object.freeze({ maxTokens: 5_000, maxDepth: 15, maxAliases: 30, maxDirectives: 30, maxCost: 5_000 });

/** The measured shape of a document. */
export interface DocumentMeasure {
  depth: number;
  aliases: number;
  directives: number;
  cost: number;
}

const ROW_ARGUMENTS = new Set(['first', 'k']);

/**
 * The deepest nesting of `{`, `[` and `(` in `query`, outside strings and comments: a linear scan
 * that bounds the parser's recursion before it starts (graphql-js parses recursively).
 */
export function lexicalNesting(query: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if (c === '#') {
      while (i < query.length && query[i] !== '\n' && query[i] !== '\r') i++;
    } else if (c === '"') {
      if (query.startsWith('"""', i)) {
        const end = query.indexOf('"""', i + 3);
        i = end < 0 ? query.length : end + 2;
      } else {
        for (i++; i < query.length && query[i] !== '"' && query[i] !== '\n'; i++) if (query[i] === '\\') i++;
      }
    } else if (c === '{' || c === '[' || c === '(') {
      if (++depth > max) max = depth;
    } else if (c === '}' || c === ']' || c === ')') {
      depth--;
    }
  }
  return max;
}

/** Depth, aliases, directives and cost of `doc` (fragments counted where spread, each spread once per path). */
export function measureDocument(doc: DocumentNode, weights: Readonly<Record<string, number>> = {}): DocumentMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const m: DocumentMeasure = { depth: 0, aliases: 0, directives: 0, cost: 0 };
  const walk = (set: SelectionSetNode, depth: number, path: ReadonlySet<string>): void => {
    for (const s of set.selections) {
      m.directives += s.directives?.length ?? 0;
      if (s.kind === Kind.FIELD) {
        m.depth = Math.max(m.depth, depth);
        if (s.alias) m.aliases++;
        let cost = weights[s.name.value] ?? 1;
        for (const a of s.arguments ?? []) if (ROW_ARGUMENTS.has(a.name.value) && a.value.kind === Kind.INT) cost += Number(a.value.value);
        m.cost += cost;
        if (s.selectionSet) walk(s.selectionSet, depth + 1, path);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        walk(s.selectionSet, depth, path);
      } else {
        const f = fragments.get(s.name.value);
        if (f && !path.has(f.name.value)) walk(f.selectionSet, depth, new Set([...path, f.name.value]));
      }
    }
  };
  for (const d of doc.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION) {
      m.directives += d.directives?.length ?? 0;
      walk(d.selectionSet, 1, new Set());
    }
  }
  return m;
}

/**
 * Parses `query` within the token limit and checks the other limits. Throws AccordError:
 * QUERY_TOO_MANY_TOKENS, QUERY_TOO_DEEP, QUERY_TOO_MANY_ALIASES, QUERY_TOO_MANY_DIRECTIVES,
 * QUERY_TOO_COSTLY. A document that does not parse for another reason is left to the GraphQL
 * server (its own INVALID_QUERY); returns undefined then.
 */
export function checkRequestLimits(query: string, limits: RequestLimits): DocumentNode | undefined {
  // selection sets, argument lists and input values nest; a field at depth d sits inside ≥ d braces
  if (lexicalNesting(query) > 2 * limits.maxDepth + 2) {
    throw new AccordError('QUERY_TOO_DEEP', 'The query nests fields deeper than the endpoint accepts; ask for fewer nested levels.', { max: limits.maxDepth });
  }
  let doc: DocumentNode;
  try {
    doc = parse(query, { maxTokens: limits.maxTokens });
  } catch (e) {
    if (e instanceof GraphQLError && /more tha[nt] \d+ tokens/.test(e.message)) {
      throw new AccordError('QUERY_TOO_MANY_TOKENS', 'The query is longer than the gateway accepts; split it into smaller requests.', { max: limits.maxTokens });
    }
    return undefined;
  }
  const m = measureDocument(doc, limits.weights);
  if (m.depth > limits.maxDepth) throw new AccordError('QUERY_TOO_DEEP', 'The query nests fields deeper than the endpoint accepts; ask for fewer nested levels.', { max: limits.maxDepth });
  if (m.aliases > limits.maxAliases) throw new AccordError('QUERY_TOO_MANY_ALIASES', 'The query uses more aliases than the endpoint accepts; split it into several requests.', { max: limits.maxAliases });
  if (m.directives > limits.maxDirectives) throw new AccordError('QUERY_TOO_MANY_DIRECTIVES', 'The query uses more directives than the endpoint accepts.', { max: limits.maxDirectives });
  if (m.cost > limits.maxCost) throw new AccordError('QUERY_TOO_COSTLY', 'The query asks for more work than one request may (fields, list sizes and questions weigh); split it or ask for fewer rows.', { max: limits.maxCost, cost: m.cost });
  return doc;
}

/** Queries that passed, per limits object: a repeated query (the common case) is not parsed again here. */
const passed = new WeakMap<RequestLimits, Set<string>>();
const PASSED_MAX = 1_000;

/**
 * {@link checkRequestLimits}, remembering the last queries that passed under `limits` so that a
 * repeated query costs one set lookup. Throws what it throws.
 */
export function enforceRequestLimits(query: string, limits: RequestLimits): void {
  let seen = passed.get(limits);
  if (seen?.has(query)) return;
  checkRequestLimits(query, limits);
  if (!seen) passed.set(limits, (seen = new Set()));
  if (seen.size >= PASSED_MAX) seen.clear();
  seen.add(query);
}
