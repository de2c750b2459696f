/**
 * Planning one aggregate: validate the question, enumerate its public key domain, fix the bounds,
 * derive the sensitivity and the noise mechanism — from public parameters only, before anything
 * leaves the gateway.
 */
import { AccordError } from '../../schema/errors.js';
import type { ContributionBounds, ContributionRequest } from '../../schema/contract/index.js';
import {
  chargeToDp,
  compose,
  countSensitivity,
  down,
  gaussianForRho,
  partitionThreshold,
  sumSensitivity,
  validateDelta,
  validateRho,
  type NoiseMechanism,
  type PrivacyCharge,
  type Sensitivity,
} from '../../schema/privacy/index.js';
import { DEFAULT_CONFIG, type PrivacyDefaults, type QuorumMode } from '../config.js';
import { keyDomain, type KeyDomain } from './domain.js';
import {
  boundsFor,
  canonicalQuery,
  contributionFilter,
  contributionMeasure,
  CONTRIBUTING_TLP,
  queryFingerprint,
  SEVERITY_CLAMP,
  utcToday,
  type AggregateArgs,
  type AggregateQuery,
} from './query.js';

/** What planning needs from the deployment. */
export interface PlanDeps {
  privacy: PrivacyDefaults;
  /** Quorum of a query that names none. */
  defaultQuorum: QuorumMode;
  /** Largest number of cells one answer may release. */
  maxCells: number;
  /** First day of the federation's data, `YYYY-MM-DD` (the horizon's start); default `DEFAULT_CONFIG.dataStart`. */
  dataStart?: string;
  /** Today's UTC date (the horizon's end, included); the clock by default. */
  today?: () => string;
}

/** Member-specific planning options admission applies (TLP ceiling). */
export interface PlanOptions {
  /** TLP levels counted (sorted); absent: every level nodes contribute. */
  tlp?: string[];
}

/** The two extra releases of an IMPACT query (severity sum and disruption count) and the ρ split. */
export interface ImpactPlan {
  sum: NoiseMechanism;
  sumSensitivity: Sensitivity;
  disrupted: NoiseMechanism;
  /** Share of the query's ρ given to the count, the severity sum and the disruption count. */
  split: { count: number; sum: number; disrupted: number };
}

/** Share of ρ per release in an IMPACT query (see docs/queries.md for why equal thirds). */
export const IMPACT_SPLIT = { count: 1 / 3, sum: 1 / 3, disrupted: 1 / 3 } as const;

export interface AggregatePlan {
  query: AggregateQuery;
  domain: KeyDomain;
  bounds: ContributionBounds;
  /** Sensitivity of the count release. */
  sensitivity: Sensitivity;
  /** Noise of the count release. */
  mechanism: NoiseMechanism;
  /** Present for IMPACT. */
  impact: ImpactPlan | null;
  /**
   * Partition selection for node-data keys: a key outside the public domain is released only when
   * its noisy count is ≥ threshold (τ); `delta` is the δ this spends. Null when every key is public.
   */
  selection: { threshold: number; delta: number } | null;
  /** The (ρ, δ) this query spends and its (ε, δ) statement. */
  charge: { rho: number; epsilon: number; delta: number };
  /** The approximate-zCDP charge per node (δ from partition selection only), what ledgers record. */
  zcdp: PrivacyCharge;
  queryId: string;
  request: ContributionRequest;
}

/**
 * The L0 bound of a query: the deployment's, or the number of public cells when that is smaller and
 * every key position is public.
 *
 * Privacy rests on the nodes enforcing whatever `maxPartitions` the bounds carry (in SQL, and
 * validate.ts checks groups ≤ units × L0): an organisation then changes at most L0' = min(L0,
 * |cells|) groups, so the L1/L2 bounds of schema/privacy/sensitivity.ts (K·L0·L∞ and K·√L0·L∞)
 * hold with L0 replaced by L0'. Nothing is lost by the smaller bound: with every position public,
 * the filter restricts each dimension to the domain's values, so a node's groups are cells of the
 * domain and one organisation can reach at most |cells| of them. With an open position (node-data
 * keys) the groups are not enumerable and the deployment's L0 stays.
 */
export function reachablePartitions(domain: KeyDomain, maxPartitions: number): number {
  return domain.selection ? maxPartitions : Math.min(maxPartitions, Math.max(1, domain.keys.length));
}

/**
 * Validates the question and fixes everything the answer's privacy depends on, from public
 * parameters only (the question, the deployment, the member's TLP ceiling and the horizon).
 * Throws AccordError: INVALID_QUERY (malformed question, too many cells, a window outside the
 * horizon, TLP levels all above the ceiling), INVALID_RHO / INVALID_DELTA / INVALID_BOUNDS
 * (deployment parameters the core refuses).
 */
export function planAggregate(args: AggregateArgs, deps: PlanDeps, options: PlanOptions = {}): AggregatePlan {
  const query = canonicalQuery(args, deps.defaultQuorum, { dataStart: deps.dataStart ?? DEFAULT_CONFIG.dataStart, today: (deps.today ?? utcToday)() });
  if (options.tlp) {
    const ceiling = new Set(options.tlp);
    const levels = query.filter.tlp ? query.filter.tlp.filter((t) => ceiling.has(t)) : [...ceiling].sort();
    if (levels.length === 0) {
      throw new AccordError('INVALID_QUERY', 'filter.tlp names only TLP levels above your TLP ceiling; ask for levels your membership allows.', { field: 'tlp' });
    }
    // every contributing level counted is the same as no TLP filter (canonicalQuery's rule)
    if (levels.length < CONTRIBUTING_TLP.length) query.filter.tlp = levels;
    else delete query.filter.tlp;
  }
  const domain = keyDomain(query, deps.maxCells);
  const { privacy } = deps;
  validateRho(privacy.rho);
  validateDelta(privacy.delta);
  const bounds = boundsFor(query.measure, { maxPartitions: reachablePartitions(domain, privacy.maxPartitions), maxPerPartition: privacy.maxPerPartition });
  const spec = { maxPartitions: bounds.maxPartitions, maxPerPartition: bounds.maxPerPartition, multiplicity: privacy.multiplicity };
  const sensitivity = countSensitivity(spec);
  let mechanism: NoiseMechanism;
  let impact: ImpactPlan | null = null;
  let spent: PrivacyCharge;
  if (query.measure === 'IMPACT') {
    const sumSens = sumSensitivity({ ...spec, clamp: { lo: SEVERITY_CLAMP.lo, hi: SEVERITY_CLAMP.hi }, gridExponent: SEVERITY_CLAMP.gridExponent });
    mechanism = gaussianForRho(down(privacy.rho * IMPACT_SPLIT.count), sensitivity);
    const sum = gaussianForRho(down(privacy.rho * IMPACT_SPLIT.sum), sumSens);
    const disrupted = gaussianForRho(down(privacy.rho * IMPACT_SPLIT.disrupted), sensitivity);
    impact = { sum, sumSensitivity: sumSens, disrupted, split: { ...IMPACT_SPLIT } };
    spent = compose(mechanism.charge(sensitivity), sum.charge(sumSens), disrupted.charge(sensitivity));
  } else {
    mechanism = gaussianForRho(privacy.rho, sensitivity);
    spent = mechanism.charge(sensitivity);
  }
  // δ: half to partition selection (when node-data keys can be released), the rest to the (ε, δ) statement
  let selection: AggregatePlan['selection'] = null;
  let conversionDelta = privacy.delta;
  if (domain.selection) {
    const selDelta = down(privacy.delta / 2);
    conversionDelta = down(privacy.delta - selDelta);
    selection = { threshold: partitionThreshold(mechanism, sensitivity, selDelta), delta: selDelta };
    spent = compose(spent, { rho: 0, delta: selDelta });
  }
  const dp = chargeToDp(spent, conversionDelta);
  const queryId = queryFingerprint(query, bounds, privacy);
  const request: ContributionRequest = {
    queryId,
    measure: contributionMeasure(query.measure),
    groupBy: [...query.groupBy],
    filter: contributionFilter(query.filter),
    bounds,
  };
  return { query, domain, bounds, sensitivity, mechanism, impact, selection, charge: { rho: spent.rho, epsilon: dp.epsilon, delta: dp.delta }, zcdp: spent, queryId, request };
}

