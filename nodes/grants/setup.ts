/**
 * The node's grant posture at startup, from its resolved configuration:
 *
 * - gateway keys configured → {@link GrantGuard} (grants, sharing rules, single use, own ledger);
 * - no gateway keys → every contribution is refused with GRANT_INVALID, and the startup log says why;
 * - `grants: "disabled"` (`--insecure-no-grants`) → every well-formed request is answered, with a
 *   loud warning in the log. For local experiments only.
 *
 * The sharing rules file is loaded and validated in every posture, so a broken file stops the node.
 * A guard given in-process (`ctx.guard`) replaces all of this.
 */
import type { Logger } from 'pino';
import { rhoCapUnits } from '../../schema/privacy/units.js';
import { allowAllGuard, type ContributionGuard } from '../contribution/guard.js';
import type { NodeOrm } from '../db/orm.js';
import type { ResolvedGrantConfig } from './config.js';
import { GrantGuard, refuseAllGuard } from './guard.js';
import { isJwksUrl, gatewayKeySet } from './keys.js';
import { NO_SHARING_RULES, loadSharingRules, memberCapRho } from './rules.js';
import { ledgerReport, type LedgerReport } from './store.js';

export interface GrantSetup {
  guard: ContributionGuard;
  /** The node's own ledger, for the operator API. */
  ledger(): Promise<LedgerReport>;
}

/**
 * Builds the guard for `settings`. Throws AccordError('CONFIG_INVALID') for an unreadable or
 * invalid JWKS file or sharing rules file.
 */
export function setupGrants(settings: ResolvedGrantConfig, ctx: { orm: NodeOrm; nodeId: string; logger: Logger; guard?: ContributionGuard }): GrantSetup {
  const { orm, nodeId, logger } = ctx;
  const rules = settings.sharingRulesFile ? loadSharingRules(settings.sharingRulesFile) : NO_SHARING_RULES;
  const nodeCapUnits = settings.nodeCapRho === undefined ? undefined : rhoCapUnits(settings.nodeCapRho);
  const ledger = (): Promise<LedgerReport> =>
    ledgerReport(orm, { memberCapUnits: (m) => rhoCapUnits(memberCapRho(rules, m, settings.memberCapRho)), nodeCapUnits, horizonDays: settings.horizonDays });

  if (ctx.guard) {
    logger.info({ event: 'grants-custom-guard' }, 'contributions are admitted by the guard given in-process; grant settings are not applied');
    return { guard: ctx.guard, ledger };
  }
  if (settings.mode === 'disabled') {
    logger.warn(
      { event: 'grants-disabled' },
      'INSECURE: grants are disabled (--insecure-no-grants). This node answers ANY contribution request without checking the gateway signature, its sharing rules or its own privacy ledger. Never run it like this with real data.',
    );
    return { guard: allowAllGuard, ledger };
  }
  if (settings.gatewayJwks === undefined) {
    logger.error(
      { event: 'grants-unconfigured' },
      'No gateway keys configured (--gateway-jwks / ACCORD_NODE_GATEWAY_JWKS): every contribution request will be refused with GRANT_INVALID.',
    );
    return { guard: refuseAllGuard(logger), ledger };
  }
  const keys = gatewayKeySet(settings.gatewayJwks);
  const guard = new GrantGuard({ orm, nodeId, keys, issuer: settings.issuer, rules, memberCapRho: settings.memberCapRho, nodeCapRho: settings.nodeCapRho, horizonDays: settings.horizonDays, logger });
  logger.info(
    {
      event: 'grants-required',
      gatewayKeys: isJwksUrl(settings.gatewayJwks) ? settings.gatewayJwks : 'file',
      issuer: settings.issuer,
      sharingRules: rules.rules.map((r) => r.id),
      memberCapRho: settings.memberCapRho,
      nodeCapRho: settings.nodeCapRho ?? null,
      horizonDays: settings.horizonDays,
    },
    'contributions require a valid gateway grant',
  );
  return { guard, ledger };
}
