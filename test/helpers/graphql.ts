/**
 * Talking to the gateway in tests: one GraphQL operation and the answer's wire shape, over real
 * HTTP (a URL) or in-process (a built gateway: the same authentication, Apollo pipeline, error
 * masking and status, without a socket).
 */
import type { AggregateCell } from '../../gateway/aggregate/answer-types.js';
import type { BuiltGateway } from '../../gateway/app.js';
import { isAccordError } from '../../schema/errors.js';

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  /** The raw response body (for leak checks). */
  text: string;
  data?: T | null;
  errors?: Array<{ message: string; path?: unknown; extensions?: Record<string, unknown> }>;
}

let requests = 0;

/** Runs one operation on a built gateway as the holder of `token` (Apollo's executeOperation). */
async function execute<T>(gw: BuiltGateway, query: string, variables: Record<string, unknown> | undefined, token: string | undefined): Promise<GqlResult<T>> {
  const authorization = token ? `Bearer ${token}` : undefined;
  let principal;
  try {
    principal = await gw.authenticate(authorization);
  } catch (e) {
    if (!isAccordError(e) || e.code !== 'UNAUTHENTICATED') throw e;
    const body = { errors: [{ message: e.message, extensions: { code: e.code } }] };
    return { status: 401, text: JSON.stringify(body), ...body };
  }
  const headers = authorization ? { authorization } : {};
  const r = await gw.apollo.executeOperation({ query, ...(variables ? { variables } : {}) }, { contextValue: { requestId: `t${++requests}`, headers, principal } });
  if (r.body.kind !== 'single') throw new Error('an incremental answer was not expected');
  const body = JSON.parse(JSON.stringify(r.body.singleResult)) as Omit<GqlResult<T>, 'status' | 'text'>;
  return { status: r.http.status ?? 200, text: JSON.stringify(body), ...body };
}

/**
 * One GraphQL operation, with `Authorization: Bearer <token>` when given: POSTed over real HTTP when
 * `target` is a URL, executed in-process when it is a built gateway.
 */
export async function gql<T = Record<string, any>>(target: string | BuiltGateway, query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult<T>> {
  if (typeof target !== 'string') return execute<T>(target, query, variables, token);
  const url = target;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  const body = JSON.parse(text) as Omit<GqlResult<T>, 'status' | 'text'>;
  return { status: res.status, text, ...body };
}

/** A released cell, as the gateway's API returns it. */
export type Cell = AggregateCell;

export interface Answer {
  queryId: string;
  measure: string;
  groupBy: string[];
  cells: Cell[];
  accuracy: { mechanism: string; scale: number; stdDev: number; ci95: number; confidence: number };
  charge: { rho: number; epsilon: number; delta: number };
  coverage: {
    asked: string[];
    answered: string[];
    missing: Array<{ node: string; reason: string; code: string | null }>;
    complete: boolean;
    excluded: Array<{ node: string; reason: string; rules: string[] }>;
  };
  cached: boolean;
  remainingBudget: Array<{ node: string; horizonDays: number; allocation: Amount; spent: Amount; remaining: Amount; cumulative: { epsilon: number; delta: number }; nodeCapAdmits: boolean }>;
}

export interface Amount {
  rho: number;
  delta: number;
}
