/**
 * The admission check that runs before a contribution touches incident data. A node built by
 * `createNode` uses the guard `grants/setup.ts` chooses: `GrantGuard` (the signed grant carried in
 * GRANT_HEADER, single use, the operator's sharing rules, the node's own privacy ledger) when gateway
 * keys are configured, a guard refusing everything when they are not, and {@link allowAllGuard} only
 * with `--insecure-no-grants`.
 */
import type { ContributionRequest } from '../../schema/contract/contribution.js';
import type { ValidatedRequest } from './validate.js';

export interface ContributionContext {
  /** The node's public id. */
  nodeId: string;
  /** Node-local id of this request (also in the contribution log). */
  requestId: string;
  /** Raw value of the grant header, when the request carried one. */
  grant?: string;
  /** The request as received (for fingerprint checks against the grant). */
  raw: ContributionRequest;
}

export interface ContributionGuard {
  /**
   * Resolves when the request may run. Refuses by throwing an AccordError (e.g. GRANT_INVALID,
   * POLICY_DENIED, NODE_BUDGET_EXHAUSTED) whose message names the rule, never a count.
   * Called after request validation and before any SQL over incident data.
   */
  admit(request: ValidatedRequest, ctx: ContributionContext): Promise<void> | void;
}

/**
 * Admits every well-formed request without any check: the insecure posture (`grants: "disabled"`),
 * and the default of a bare {@link ContributionService} built without a guard (tests).
 */
export const allowAllGuard: ContributionGuard = {
  admit(): void {},
};
