/**
 * One contribution request end to end: validate → guard → bounded aggregate → log. The GraphQL
 * resolver is a thin shell over {@link ContributionService.contribute}.
 */
import { randomUUID } from 'node:crypto';
import type { Contribution, ContributionRequest } from '../../schema/contract/contribution.js';
import type { TlpLevel } from '../../schema/contract/dataset.js';
import { AccordError, isAccordError } from '../../schema/errors.js';
import type { NodeOrm } from '../db/orm.js';
import { allowAllGuard, type ContributionGuard } from './guard.js';
import { IndicatorAccess } from './indicator-access.js';
import { appendContributionLog } from './log.js';
import { DEFAULT_CONTRIBUTING_TLP } from './tlp-gate.js';
import { runValidatedContribution } from './run.js';
import { validateContributionRequest, type ValidatedRequest } from './validate.js';

export interface ContributionServiceOptions {
  orm: NodeOrm;
  nodeId: string;
  /** The admission check (`createNode` passes the one `grants/setup.ts` chooses); default {@link allowAllGuard}, which checks nothing. */
  guard?: ContributionGuard;
  /** TLP levels the TLP gate lets contribute (default {@link DEFAULT_CONTRIBUTING_TLP}). */
  contributingTlp?: readonly TlpLevel[];
  /** The federation's indicator key; without it indicator filters are refused (INDICATORS_UNAVAILABLE). */
  indicatorKey?: string | Buffer;
  /** The node secret, the key of indicator hashes stored before key ids were recorded. */
  nodeSecret?: string | Buffer;
}

export interface CallContext {
  /** Raw grant header value, when present. */
  grant?: string;
  requestId?: string;
}

export interface ContributionOutcome {
  requestId: string;
  grantPresent: boolean;
  durationMs: number;
  outcome: string;
  /** The underlying failure when outcome is INTERNAL (for the node's own log only). */
  error?: unknown;
}

export class ContributionService {
  private readonly orm: NodeOrm;
  private readonly nodeId: string;
  private readonly guard: ContributionGuard;
  private readonly contributingTlp: readonly TlpLevel[];
  private readonly indicators: IndicatorAccess;
  /** Called after every request (answered or refused), e.g. for logging. */
  onOutcome?: (o: ContributionOutcome) => void;

  constructor(opts: ContributionServiceOptions) {
    this.orm = opts.orm;
    this.nodeId = opts.nodeId;
    this.guard = opts.guard ?? allowAllGuard;
    this.contributingTlp = opts.contributingTlp ?? DEFAULT_CONTRIBUTING_TLP;
    this.indicators = new IndicatorAccess({ orm: opts.orm, indicatorKey: opts.indicatorKey, nodeSecret: opts.nodeSecret });
  }

  /**
   * Answers one request and records it in the contribution log. Throws AccordError:
   * INVALID_QUERY / INVALID_BOUNDS for malformed requests, INDICATORS_UNAVAILABLE for an indicators
   * filter this node cannot match (checked before the guard, so nothing is charged), whatever the
   * guard throws to refuse, and INTERNAL (message without detail) for database failures.
   */
  async contribute(raw: ContributionRequest, call: CallContext = {}): Promise<Contribution> {
    const started = performance.now();
    const requestId = call.requestId ?? randomUUID();
    const grantPresent = typeof call.grant === 'string' && call.grant.length > 0;
    let validated: ValidatedRequest | undefined;
    let outcome = 'ANSWERED';
    let groupsReturned: number | null = null;
    let failure: unknown;
    try {
      validated = validateContributionRequest(raw);
      if (validated.filter.indicators !== undefined) await this.indicators.check();
      await this.guard.admit(validated, { nodeId: this.nodeId, requestId, grant: grantPresent ? call.grant : undefined, raw });
      const result = await runValidatedContribution(this.orm, validated, { contributingTlp: this.contributingTlp });
      groupsReturned = result.groups.length;
      return { node: this.nodeId, queryId: validated.queryId, units: result.units, groups: result.groups };
    } catch (e) {
      const err = isAccordError(e) ? e : new AccordError('INTERNAL', 'The node could not compute the contribution.', { requestId }, { cause: e });
      outcome = err.code;
      if (!isAccordError(e)) failure = e;
      throw err;
    } finally {
      const durationMs = performance.now() - started;
      this.onOutcome?.({ requestId, grantPresent, durationMs, outcome, ...(failure !== undefined ? { error: failure } : {}) });
      await appendContributionLog(this.orm, {
        requestId,
        queryId: typeof raw?.queryId === 'string' ? raw.queryId : '',
        measure: typeof raw?.measure === 'string' ? raw.measure : '',
        groupBy: validated?.groupBy ?? [],
        at: new Date().toISOString(),
        outcome,
        grantPresent,
        groupsReturned,
        durationMs,
      });
    }
  }
}
