/**
 * What admission hands the scatter for one admitted query, and the one function that turns it into
 * each node's grant header. Every contribution request carries a grant signed from the reservation
 * that paid for it; a request without one never leaves the gateway.
 */
import { GRANT_HEADER, type ContributionRequest } from '../../schema/contract/index.js';
import { AccordError } from '../../schema/errors.js';
import type { GrantSigner } from './signer.js';

/** An admitted query's grant: who asks, what was reserved for it, and when. */
export interface GrantContext {
  member: string;
  groups: readonly string[];
  /** Charge per node as recorded in the ledger (rounded up). */
  rho: number;
  delta: number;
  /** ISO 8601 time of the reservation (the grant's `per`). */
  reservedAt: string;
  reservationId: string;
}

/** Headers for one node's contribution request (the grant slot). */
export type NodeHeaders = (node: { id: string }, request: ContributionRequest, grant: GrantContext | undefined) => Record<string, string> | Promise<Record<string, string>>;

/**
 * The grant header of each node's request, signed by `signer` at `now()`. Throws
 * AccordError('INTERNAL') when no grant was admitted: nothing is sent then.
 */
export function grantHeaders(signer: GrantSigner, now: () => Date): NodeHeaders {
  return async (node, request, grant) => {
    if (!grant) throw new AccordError('INTERNAL', 'A contribution request without an admission reached the scatter.');
    const { token } = await signer.sign(node.id, { member: grant.member, groups: grant.groups, request, rho: grant.rho, delta: grant.delta, reservedAt: grant.reservedAt }, now().getTime());
    return { [GRANT_HEADER]: token };
  };
}
