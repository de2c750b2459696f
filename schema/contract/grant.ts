/**
 * Signed grants: the gateway's statement to one node that one member may obtain one contribution
 * (DESIGN §2.3). Carried as a compact JWS (EdDSA) in the `GRANT_HEADER` HTTP header of the
 * contribution request. The node verifies signature, audience (itself), expiry, the fingerprint of
 * the request it is actually asked, and that the id was never used before; then applies its own
 * sharing rules and charges its own ledger.
 */
import { createHash } from 'node:crypto';
import type { ContributionRequest } from './contribution.js';

/** JWS `typ` header value of a grant. */
export const GRANT_TYPE = 'accord-grant+jwt';

/** Longest lifetime a node accepts for a grant, in seconds. */
export const MAX_GRANT_TTL_SECONDS = 300;

export interface GrantClaims {
  /** Issuer: the gateway's id (e.g. `accord-gateway`). */
  iss: string;
  /** Audience: the one node id this grant is for. */
  aud: string;
  /** The member agency the contribution is for. */
  sub: string;
  /** Groups (alliances, sectors of membership) the gateway asserts for the member; node sharing rules use them. */
  grp: string[];
  /** {@link contributionFingerprint} of the exact request this grant admits. */
  fp: string;
  /** ρ charged to this node for the query (zCDP). */
  rho: number;
  /** δ charged (partition selection), 0 otherwise. */
  delta: number;
  /**
   * When the gateway reserved the charge (ISO 8601 UTC, e.g. `2026-11-05T10:00:00.000Z`): the charge
   * counts on the gateway's ledgers for the horizon after it. A node dates its own charge by its own
   * clock, never earlier, so the charge leaves the node's window no sooner than the gateway's.
   */
  per: string;
  /** Unique grant id; a node refuses a second use. */
  jti: string;
  /** Issued at / expires at, seconds since the epoch. */
  iat: number;
  exp: number;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as Record<string, unknown>).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined && v !== null) out[k] = canonical(v);
    }
    return out;
  }
  return value;
}

/**
 * SHA-256 (hex) of the request in canonical JSON (keys sorted, null/absent fields dropped; list
 * order kept, since it is meaningful for `groupBy`). Gateway and node compute it independently; a
 * grant admits only the request whose fingerprint it names.
 */
export function contributionFingerprint(request: ContributionRequest): string {
  return createHash('sha256').update(JSON.stringify(canonical(request))).digest('hex');
}
