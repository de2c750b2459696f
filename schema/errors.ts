/**
 * The one catalog of Accord error codes.
 *
 * Every refusal anywhere in Accord (privacy core, node, gateway, CLIs) carries one of these codes.
 * Codes are stable: once published a code is never renamed or reused for another meaning.
 * Messages say what to do and never contain a private number (a count, a remaining budget
 * of another member, a node's row count) — see DESIGN §2.5. `docs/errors.md` lists the same codes;
 * a test keeps the two in sync.
 */

export interface ErrorSpec {
  /** HTTP status used when the error ends a request. */
  readonly status: number;
  /** One line: what the code means, for the docs. */
  readonly summary: string;
}

export const ERROR_CATALOG = {
  // --- privacy parameters (privacy core) ---
  INVALID_EPSILON: { status: 400, summary: 'ε is not a finite number in (0, 50].' },
  INVALID_RHO: { status: 400, summary: 'ρ is not a finite number in (0, 50].' },
  INVALID_DELTA: { status: 400, summary: 'δ is not a finite number in (0, 0.01].' },
  INVALID_SIGMA: { status: 400, summary: 'σ (or σ²) is not a finite positive number within the supported range.' },
  INVALID_SCALE: { status: 400, summary: 'A noise scale is not a finite positive number within the supported range.' },
  INVALID_SENSITIVITY: { status: 400, summary: 'A sensitivity is not a finite non-negative number.' },
  INVALID_BOUNDS: { status: 400, summary: 'Contribution bounds are malformed (non-integer, out of range, or lo > hi).' },
  INVALID_PARAMETER: { status: 400, summary: 'Another privacy-core parameter is malformed (e.g. a probability outside [0, 1]).' },

  // --- query validation ---
  INVALID_QUERY: { status: 400, summary: 'The aggregate query is malformed (unknown dimension, bad date window, …).' },

  // --- HTTP requests (every front: gateway, node, node operator API) ---
  REQUEST_INVALID: {
    status: 400,
    summary: 'The HTTP request is not a GraphQL request the endpoint reads: a body that is not JSON, no query, a query that is not a string, variables that are not an object, or a GET without a CSRF-safe header.',
  },
  REQUEST_TOO_LARGE: { status: 413, summary: 'The request body exceeds the endpoint’s limit; the connection is closed as soon as the limit is passed.' },
  QUERY_TOO_MANY_TOKENS: { status: 400, summary: 'The GraphQL document has more tokens than the endpoint accepts; it was not parsed further.' },
  QUERY_TOO_DEEP: { status: 400, summary: 'The GraphQL document nests fields deeper than the endpoint accepts.' },
  QUERY_TOO_MANY_ALIASES: { status: 400, summary: 'The GraphQL document uses more aliases than the endpoint accepts.' },
  QUERY_TOO_MANY_DIRECTIVES: { status: 400, summary: 'The GraphQL document uses more directives than the endpoint accepts.' },
  QUERY_TOO_COSTLY: { status: 400, summary: 'The GraphQL document’s weighted cost (fields, list sizes, questions) exceeds what one request may ask.' },
  NOT_FOUND: { status: 404, summary: 'No endpoint at this path.' },
  METHOD_NOT_ALLOWED: { status: 405, summary: 'The endpoint does not accept this HTTP method (the `allow` header lists those it does).' },

  // --- federation ---
  NODE_UNAVAILABLE: { status: 503, summary: 'A node needed by a strict-quorum query did not answer in time.' },
  NODE_SDL_DRIFT: { status: 502, summary: 'A node publishes a contribution schema different from the gateway’s contract.' },
  NODE_UNKNOWN: { status: 400, summary: 'A node named in a request or configuration is not in the registry.' },
  CONTRIBUTION_INVALID: { status: 502, summary: 'A node returned a contribution that violates the declared bounds or shape.' },
  NO_NODES: { status: 503, summary: 'No admitted node could contribute to the query.' },
  CONFIG_INVALID: { status: 500, summary: 'A configuration file is missing or malformed.' },
  ENTITY_FETCH_REFUSED: { status: 400, summary: 'The analyst subgraph does not resolve entities; entity fetches are never scattered.' },
  INDICATORS_UNAVAILABLE: {
    status: 409,
    summary: 'A node cannot match indicator filters: it has no federation indicator key, or its stored indicators were hashed under another key.',
  },

  // --- reserved for access control and budgets ---
  UNAUTHENTICATED: { status: 401, summary: 'Missing, expired or invalid credentials.' },
  POLICY_DENIED: { status: 403, summary: 'The member’s access policy does not allow this query.' },
  BUDGET_EXHAUSTED: { status: 429, summary: 'The privacy budget over the horizon does not cover the query’s charge.' },
  REQUEST_CHARGE_EXCEEDED: {
    status: 400,
    summary: 'The questions of one request would reserve more than the per-request charge cap; nothing was reserved. Ask fewer questions per request.',
  },
  NODE_BUDGET_EXHAUSTED: { status: 429, summary: 'The node’s own privacy cap over its horizon is spent.' },
  GRANT_INVALID: { status: 403, summary: 'A contribution request carried no valid, unexpired, unused grant.' },

  // --- ingestion ---
  STIX_INVALID: { status: 400, summary: 'A STIX 2.1 bundle holds an invalid object; nothing of it was stored.' },
  MISP_INVALID: { status: 400, summary: 'A MISP event is invalid; nothing of it was stored.' },
  CSV_INVALID: { status: 400, summary: 'A CSV file holds an invalid row; nothing of it was stored.' },

  INTERNAL: { status: 500, summary: 'An unexpected internal error; details are in the server log, not the response.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/**
 * An error with a stable code. `details` must never carry private numbers; `options.cause` keeps
 * the error it stands for (logged, never sent).
 */
export class AccordError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AccordError';
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.details = Object.freeze({ ...details });
  }
}

export function isAccordError(e: unknown): e is AccordError {
  return e instanceof AccordError;
}

/** Throw an `AccordError` unless `condition` holds. */
export function ensure(condition: unknown, code: ErrorCode, message: string, details?: Record<string, unknown>): asserts condition {
  if (!condition) throw new AccordError(code, message, details);
}
