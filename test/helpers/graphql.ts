/** Talking to the gateway over real HTTP in tests: one GraphQL POST and the answer's wire shape. */
import type { AggregateCell } from '../../gateway/aggregate/answer-types.js';

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  /** The raw response body (for leak checks). */
  text: string;
  data?: T | null;
  errors?: Array<{ message: string; path?: unknown; extensions?: Record<string, unknown> }>;
}

/** POSTs one GraphQL operation over real HTTP, with `Authorization: Bearer <token>` when given. */
export async function gql<T = Record<string, any>>(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult<T>> {
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
  remainingBudget: Array<{ node: string; period: string; allocation: Amount; spent: Amount; remaining: Amount; nodeCap: Amount; nodeRemaining: Amount }>;
}

export interface Amount {
  rho: number;
  delta: number;
}
