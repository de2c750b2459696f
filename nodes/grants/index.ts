/** Signed grants checked by the node: verification, sharing rules, single use, the node's own ledger. */
export { GrantGuard, refuseAllGuard, type GrantGuardOptions } from './guard.js';
export { setupGrants, type GrantSetup } from './setup.js';
export { resolveGrantConfig, DEFAULT_GATEWAY_ISSUER, DEFAULT_MEMBER_CAP_RHO, type GrantConfigInput, type GrantMode, type ResolvedGrantConfig } from './config.js';
export { verifyGrant, grantInvalid, GRANT_CLOCK_TOLERANCE_SECONDS, type GrantRefusal, type VerifyOptions } from './verify.js';
export { gatewayKeySet, readJwksFile, isJwksUrl } from './keys.js';
export { parseSharingRules, loadSharingRules, applySharingRules, refusingRule, memberCapRho, NO_SHARING_RULES, type SharingRule, type SharingRules } from './rules.js';
export { consumeGrantAndCharge, purgeUsedGrants, ledgerReport, type ChargeInput, type ChargeResult, type LedgerReport, type MemberLedgerEntry } from './store.js';
