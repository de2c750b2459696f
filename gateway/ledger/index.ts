export { Budgets, DEFAULT_BUDGETS, loadBudgetsFile, resolveBudgets, type AllocationOverride, type BudgetConfig, type BudgetConfigInput, type PrivacyAmount } from './budgets.js';
export { GATEWAY_ENTITIES, type CachedAnswer, type LedgerAccount, type Reservation } from './entities.js';
export {
  Ledger,
  answerCacheKey,
  memberAccountId,
  nodeAccountId,
  type NodeBudgetUnits,
  type ReservationResult,
  type ReservationRow,
  type ReserveRequest,
  type StoredAnswer,
} from './ledger.js';
export { dialectOf, isPostgresUrl, knexOf, openGatewayOrm, type GatewayDbOptions, type GatewayOrm } from './orm.js';
export { capUnits, chargeUnits, dbInt, fromUnits, RHO_UNITS, DELTA_UNITS, type Units } from './units.js';
