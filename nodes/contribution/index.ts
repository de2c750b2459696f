/** Bounded contributions: validation, the one SQL statement, the oracle the tests hold the statement to, the guard. */
export {
  runContribution,
  runContributionCells,
  runValidatedContribution,
  checkContributingTlp,
  DEFAULT_CONTRIBUTING_TLP,
  NEVER_CONTRIBUTING_TLP,
  type ContributionResult,
  type ContributionCell,
  type RunOptions,
} from './run.js';
export { validateContributionRequest, isSumMeasure, MAX_DIMENSIONS, MAX_FILTER_VALUES, type ValidatedRequest, type ResolvedBounds } from './validate.js';
export { buildContributionStatement, type ContributionStatement } from './sql.js';
export { oracleContribution, oracleCells, type OracleOptions } from './oracle.js';
export { allowAllGuard, type ContributionGuard, type ContributionContext } from './guard.js';
export { ContributionService, type ContributionServiceOptions, type CallContext } from './service.js';
export { recentContributions, type ContributionLogRecord } from './log.js';
export { gridUnits } from './grid.js';
