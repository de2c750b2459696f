/** Shared pieces of the gateway tests: a quiet logger, a GraphQL POST, the pattern selection. */
import { pino } from 'pino';

export const quietLogger = pino({ level: 'silent' });

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: unknown; extensions?: Record<string, unknown> }>;
}

/** POSTs one GraphQL operation over real HTTP. */
export async function gql<T = Record<string, any>>(url: string, query: string, variables?: Record<string, unknown>): Promise<GqlResult<T>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as Omit<GqlResult<T>, 'status'>;
  return { status: res.status, ...body };
}

export const PATTERN_QUERY = /* GraphQL */ `
  query Pattern($measure: Measure, $groupBy: [PatternDimension!]!, $filter: PatternFilter, $quorum: Quorum) {
    crossBorderPattern(measure: $measure, groupBy: $groupBy, filter: $filter, quorum: $quorum) {
      queryId
      measure
      groupBy
      cells { country region subregion sector week month value rawValue low high }
      accuracy { mechanism scale stdDev ci95 confidence }
      charge { rho epsilon delta }
      coverage { asked answered missing { node reason code } complete }
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
  coverage: { asked: string[]; answered: string[]; missing: Array<{ node: string; reason: string; code: string | null }>; complete: boolean };
}
