export { Budgets, DEFAULT_BUDGETS, loadBudgetsFile, resolveBudgets, type AllocationOverride, type BudgetConfig, type BudgetConfigInput, type PrivacyAmount } from './budgets.js';
export { GATEWAY_ENTITIES, type Account, type AccountKind, type CachedAnswer, type Charge, type LedgerAccount, type Reservation } from './entities.js';
export { budgetView, cumulativeDp, federationBudgetView, type FederationBudget, type NodeBudget, type PrivacyLoss } from './budget-view.js';
export {
  DEFAULT_ANSWER_TTL_DAYS,
  DEFAULT_HORIZON_DAYS,
  FEDERATION_ACCOUNT_ID,
  Ledger,
  answerCacheKey,
  memberAccountId,
  memberFederationAccountId,
  nodeAccountId,
  type FederationBudgetUnits,
  type LedgerKind,
  type LedgerOptions,
  type MemberBudgetUnits,
  type NodeBudgetUnits,
  type ReservationResult,
  type ReservationRow,
  type ReserveRequest,
  type StoredAnswer,
} from './ledger.js';
export { dialectOf, isPostgresUrl, knexOf, openGatewayOrm, type GatewayDbOptions, type GatewayOrm } from './orm.js';
export { capUnits, chargeUnits, dbInt, fromUnits, RHO_UNITS, DELTA_UNITS, type Units } from './units.js';
