/** Shared pieces of the gateway tests: a quiet logger, a GraphQL POST, the pattern selection. */
import { pino } from 'pino';

export const quietLogger = pino({ level: 'silent' });

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

export const PATTERN_QUERY = /* GraphQL */ `
  query Pattern($measure: Measure, $groupBy: [PatternDimension!]!, $filter: PatternFilter, $quorum: Quorum, $nodes: [String!]) {
    crossBorderPattern(measure: $measure, groupBy: $groupBy, filter: $filter, quorum: $quorum, nodes: $nodes) {
      queryId
      measure
      groupBy
      cells { country region subregion sector week month value rawValue low high }
      accuracy { mechanism scale stdDev ci95 confidence }
      charge { rho epsilon delta }
      coverage { asked answered missing { node reason code } complete excluded { node reason rules } }
      cached
      remainingBudget { node period allocation { rho delta } spent { rho delta } remaining { rho delta } nodeCap { rho delta } nodeRemaining { rho delta } }
    }
  }
`;

export interface Cell {
  country: string | null;
  region: string | null;
  subregion: string | null;
  sector: string | null;
  week: string | null;
  month: string | null;
  value: number;
  rawValue: number;
  low: number;
  high: number;
}

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
